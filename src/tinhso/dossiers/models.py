"""Dossiers (hồ sơ): what a citizen submits for a procedure, its papers, its history."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.cases.base import CaseMove
from tinhso.cases.models import Case
from tinhso.catalog.models import ResultMethod


class DossierStatus(models.IntegerChoices):
    """The national exchange codes (1–10). 0 is a draft, never sent anywhere."""

    DRAFT = 0, _("Draft")
    NEW = 1, _("New")
    ACCEPTED = 2, _("Accepted")
    REFUSED = 3, _("Refused")
    PROCESSING = 4, _("Processing")
    SUPPLEMENT_REQUESTED = 5, _("Supplement requested")
    PAYMENT_REQUESTED = 6, _("Payment requested")
    WITHDRAWN = 7, _("Withdrawn by the citizen")
    STOPPED = 8, _("Stopped")
    FINISHED = 9, _("Finished")
    RETURNED = 10, _("Result returned")


# Open dossiers whose clock runs, in the very form the inboxes' queries take (not a draft,
# not closed, not paused), so that PostgreSQL proves a partial index covers them.
CLOSED_STATUSES = (
    DossierStatus.REFUSED, DossierStatus.WITHDRAWN, DossierStatus.STOPPED,
    DossierStatus.FINISHED, DossierStatus.RETURNED,
)  # fmt: skip
OPEN_Q = (
    ~models.Q(status=DossierStatus.DRAFT)
    & ~models.Q(status__in=[int(s) for s in CLOSED_STATUSES])
    & models.Q(paused_at__isnull=True)
)
PAUSED_Q = models.Q(paused_at__isnull=False)


class Channel(models.IntegerChoices):
    COUNTER = 1, _("At the counter")
    ONLINE = 2, _("Online")
    POST = 3, _("By post")


class Outcome(models.TextChoices):
    """How a finished dossier met its due time (core.indicators.timeliness); stored on the
    dossier by the transition that finishes it."""

    EARLY = "early", _("Early")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")


class Dossier(Case):
    """One application for one procedure. Its code is `{agency e-ID}-{yymmdd}-{NNNN}`,
    numbered per receiving agency and day when it is submitted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("dossier code"), max_length=64, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(
        "catalog.Procedure",
        verbose_name=_("procedure"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    receiving_agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("receiving agency"),
        on_delete=models.PROTECT,
        related_name="received_dossiers",
        null=True,
        blank=True,
    )
    status = models.PositiveSmallIntegerField(
        _("status"), choices=DossierStatus.choices, default=DossierStatus.DRAFT, db_index=True
    )
    channel = models.PositiveSmallIntegerField(
        _("channel"), choices=Channel.choices, default=Channel.ONLINE
    )
    form_data = models.JSONField(_("form"), default=dict, blank=True)
    result_method = models.CharField(
        _("result returned"), max_length=16, blank=True, choices=ResultMethod.choices
    )
    delivery_address = models.CharField(_("delivery address"), max_length=255, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The workflow's fields (state, version, assignee, accepted_at, due_at, step_due_at,
    # paused_at) come from cases.Case: cases.transitions moves a dossier.
    # The due time the responsible officials were last warned about (deadline_warnings).
    warned_for_due = models.DateTimeField(null=True, blank=True)
    # Its outcome, stored by the transition that finishes it (dossiers.rollups): when, how
    # it met its due time (blank: there was none), and how long its clock was stopped.
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)
    paused_for = models.DurationField(_("time paused"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        indexes = [
            models.Index(fields=["applicant", "status"]),
            models.Index(fields=["receiving_agency", "status"]),
            models.Index(fields=["receiving_agency", "state", "due_at"]),
            models.Index(fields=["receiving_agency", "due_at"]),
            # The inboxes of a department that implements procedures received elsewhere
            # (handled_q: "of a procedure it implements"): its workflow boxes, and its
            # overdue, due-soon and paused boxes from the open (or paused) dossiers alone,
            # as the commune's come from receiving_agency. At 1 M dossiers, for the Sở Tư
            # pháp's specialist: counting the eight boxes 200 → 30 ms, the "processing" box
            # 76 → 24 ms (median, beside a CI run; issue 15).
            # Covering (PostgreSQL; elsewhere plain): a department's box is read from the index
            # alone and sorted, not by walking every dossier in due order (cases.inbox).
            models.Index(
                fields=["procedure", "state", "due_at"],
                name="dossier_procedure_state",
                include=["submitted_at", "assignee", "status", "id"],
            ),
            models.Index(
                fields=["receiving_agency", "due_at"],
                condition=OPEN_Q,
                name="dossier_open_agency",
                include=["submitted_at", "id"],
            ),
            models.Index(
                fields=["procedure", "due_at"],
                condition=OPEN_Q,
                name="dossier_open_proc",
                include=["submitted_at", "id"],
            ),
            models.Index(
                fields=["receiving_agency"], condition=PAUSED_Q, name="dossier_paused_agency"
            ),
            models.Index(fields=["procedure"], condition=PAUSED_Q, name="dossier_paused_proc"),
        ]

    def __str__(self) -> str:
        return self.code or f"draft {self.public_id}"


class DossierFile(models.Model):
    """A paper attached to a dossier: uploaded (kept outside the web root under a random
    name) or reused from the citizen's stored papers."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="files")
    paper = models.ForeignKey(
        "catalog.RequiredPaper",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    paper_name = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255)
    storage_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_paper = models.ForeignKey(
        "StoredPaper", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class DossierEvent(CaseMove):
    """One change of a dossier's status: who, from, to, why, when. This history is what the
    citizen and auditors see."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    from_status = models.PositiveSmallIntegerField(choices=DossierStatus.choices)
    to_status = models.PositiveSmallIntegerField(choices=DossierStatus.choices)
    # Whom the step assigned the dossier to (an assigning action), for the history.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The due time of the step this event completed (for BM.05: early / on time / late).
    step_due_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.from_status}→{self.to_status}"


class DocumentKind(models.TextChoices):
    """The forms of the one-stop procedure (Circular 03/2025/TT-VPCP numbering)."""

    BM01 = "BM01", _("BM.01 Receipt and appointment slip")
    BM02 = "BM02", _("BM.02 Request to supplement the dossier")
    BM03 = "BM03", _("BM.03 Refusal to receive the dossier")
    BM04 = "BM04", _("BM.04 Apology and extension of the time limit")
    STOP = "STOP", _("Notice of stopping")
    RESULT = "RESULT", _("Result of the procedure")


class DossierDocument(models.Model):
    """A form or result issued for a dossier (a signed PDF), kept with it; the citizen and
    the officials who handle the dossier can download it."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=8, choices=DocumentKind.choices)
    # The signed file anyone can verify (its QR code); the fields below mirror its file.
    signed = models.OneToOneField(
        "signing.SignedDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dossier_document",
    )
    # The agency whose seal (and, for a result, whose leader) signs it.
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # While it is being issued (rendered and signed after the action's commit, ADR 0023):
    # the document to issue; none once its file is here.
    issuing = models.ForeignKey(
        "core.PendingDocument", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    storage_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    # A result's number in its register ("05/TLKS"), taken when the leader signs it.
    number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.dossier_id}"

    @property
    def ready(self) -> bool:
        """Its file is issued (not being issued, nor being sealed)."""
        return self.issuing_id is None and bool(self.storage_name)


class Satisfaction(models.IntegerChoices):
    VERY_SATISFIED = 3, _("Very satisfied")
    SATISFIED = 2, _("Satisfied")
    DISSATISFIED = 1, _("Dissatisfied")


class Rating(models.Model):
    """The applicant's satisfaction with a returned dossier (once per dossier)."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("satisfaction"), choices=Satisfaction.choices)
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.score}"


class StoredPaper(models.Model):
    """A paper issued to a citizen (an earlier result), kept in their store (kho giấy tờ) so
    it can be attached to later dossiers without uploading it again."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stored_papers"
    )
    paper_type = models.SlugField(max_length=64)
    name = models.CharField(_("name"), max_length=255)
    number = models.CharField(_("number"), max_length=64, blank=True)
    issued_by = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    storage_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("stored paper")
        verbose_name_plural = _("stored papers")

    def __str__(self) -> str:
        return self.name


class RollupSpan(models.IntegerChoices):
    """What one rollup row covers: a day, or the calendar month or year its `day` starts."""

    DAY = 1, _("day")
    MONTH = 2, _("month")
    YEAR = 3, _("year")


class DossierRollup(models.Model):
    """The dossier figures of one receiving agency over one day, month or year, kept by the
    dossiers' events in their own transactions (dossiers.rollups, ADR 0026). Flows count
    what happened within the span; the `*_change` columns are changes of a stock (dossiers
    in progress, paused, overdue), whose value at the end of a day is the sum of every
    change up to it. One row per agency, span and first day: a write contends only with the
    same agency's writes of that day."""

    # Indexed by the unique (agency, span, day) constraint, which leads with it.
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    span = models.PositiveSmallIntegerField(choices=RollupSpan.choices)
    day = models.DateField()
    received = models.IntegerField(default=0)
    received_counter = models.IntegerField(default=0)
    received_online = models.IntegerField(default=0)
    received_post = models.IntegerField(default=0)
    finished_early = models.IntegerField(default=0)
    finished_on_time = models.IntegerField(default=0)
    finished_late = models.IntegerField(default=0)
    ratings = models.IntegerField(default=0)
    rating_points = models.IntegerField(default=0)
    # Payments (kept by the payments module): dossiers whose fee was first paid through the
    # bank that day, the amount so paid, dossiers whose payment an official recorded.
    paid_online = models.IntegerField(default=0, db_default=0)
    amount_collected = models.BigIntegerField(default=0, db_default=0)
    paid_otherwise = models.IntegerField(default=0, db_default=0)
    in_progress_change = models.IntegerField(default=0)
    paused_change = models.IntegerField(default=0)
    overdue_change = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "span", "day"], name="dossier_rollup_agency_span_day"
            )
        ]
        indexes = [
            # Covering (PostgreSQL only; elsewhere not made): a period's sums read this index
            # alone (ADR 0026).
            models.Index(
                fields=["agency", "span", "day"],
                name="dossier_rollup_sums",
                include=[
                    "received",
                    "received_counter",
                    "received_online",
                    "received_post",
                    "finished_early",
                    "finished_on_time",
                    "finished_late",
                    "ratings",
                    "rating_points",
                    "paid_online",
                    "amount_collected",
                    "paid_otherwise",
                    "in_progress_change",
                    "paused_change",
                    "overdue_change",
                ],
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.get_span_display()} {self.day}"
