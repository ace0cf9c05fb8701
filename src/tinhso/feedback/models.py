"""Citizens' reports (phản ánh kiến nghị): the categories people report under (Open311
"services"), the reports themselves (cases the workflow engine moves), their photos and
their history; and the applications allowed to post reports through Open311 (API keys)."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tinhso.cases.base import CaseMove
from tinhso.cases.models import Case
from tinhso.core.photos import KeptPhoto, PhotoState
from tinhso.core.privacy import public_text

__all__ = ["PhotoState"]  # kept where the module's code has always found it


class Route(models.TextChoices):
    """Which body a report of a category goes to."""

    COMMUNE = "commune", _("The commune or ward where the place lies")
    AGENCY = "agency", _("The agency named by the category")


class Category(models.Model):
    """What people report (an Open311 service): grouped by field, routed by place or to an
    agency, with its own questions (Open311 attributes) and a target time in working days."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    group = models.CharField(_("field"), max_length=128)
    keywords = models.CharField(_("keywords"), max_length=255, blank=True)
    route = models.CharField(_("routed to"), max_length=16, choices=Route.choices)
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("responsible agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_categories",
        help_text=_("For categories routed to an agency (a department for its field)."),
    )
    time_days = models.DecimalField(
        _("target time (working days)"), max_digits=4, decimal_places=1, default=Decimal(5)
    )
    # Open311 attributes: [{code, datatype, required, description, order, values: [{key,
    # name}], datatype_description}] (feedback.attributes checks them).
    attributes = models.JSONField(_("questions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["group", "name"]
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from tinhso.feedback.attributes import attributes_problems

        problems = attributes_problems(self.attributes)
        if self.route == Route.AGENCY and self.agency_id is None:
            problems.append(str(_("A category routed to an agency names that agency.")))
        if problems:
            raise ValidationError(problems)


class ReportStatus(models.IntegerChoices):
    NEW = 1, pgettext_lazy("report status", "Sent")
    ACCEPTED = 2, _("Accepted")
    IN_PROGRESS = 3, _("Being handled")
    ANSWERED = 4, _("Answered")
    CLOSED = 5, _("Closed")
    REJECTED = 6, _("Not accepted")
    DUPLICATE = 7, _("Duplicate")


# Open311 knows two statuses: a report is "open" until it is answered or ended.
OPEN_STATUSES = (ReportStatus.NEW, ReportStatus.ACCEPTED, ReportStatus.IN_PROGRESS)
ENDED_STATUSES = (ReportStatus.CLOSED, ReportStatus.REJECTED, ReportStatus.DUPLICATE)


class Report(Case):
    """One report: a category, what is wrong, where (a point and/or an address; the commune
    is found from the point), photos, who reported (signed in, or anonymous with a phone or
    e-mail for the answer), and the public answer. Its public number is
    `PA{yy}{NNNNNN}` (Open311's service_request_id)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("report number"), max_length=32, unique=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="reports"
    )
    status = models.PositiveSmallIntegerField(
        _("status"), choices=ReportStatus.choices, default=ReportStatus.NEW
    )
    description = models.TextField(_("description"))
    # What the public pages and Open311 show: the description with phone and ID numbers
    # masked, or as a moderator edited it.
    public_description = models.TextField(_("public description"), blank=True)
    hidden = models.BooleanField(_("hidden by a moderator"), default=False)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    commune = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("commune or ward"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("responsible body"),
        on_delete=models.PROTECT,
        related_name="reports",
    )
    answers = models.JSONField(_("answers to the category's questions"), default=dict)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=255, blank=True)
    contact_phone = models.CharField(_("phone for the answer"), max_length=32, blank=True)
    contact_email = models.EmailField(_("e-mail for the answer"), blank=True)
    show_name = models.BooleanField(_("the name may be shown publicly"), default=False)
    channel = models.CharField(_("sent through"), max_length=32, default="web")
    device_id = models.CharField(max_length=64, blank=True)
    # Who sent it through Open311 (an application's key), if so.
    client = models.ForeignKey(
        "feedback.Open311Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    answer = models.TextField(_("public answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment on the answer"), max_length=1000, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # When its lateness was reported to the body's leaders (feedback.escalation), for the due
    # time then in force.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            # The public map and list: visible reports by place and by time.
            models.Index(fields=["latitude", "longitude"], name="feedback_report_point"),
            models.Index(fields=["commune", "submitted_at"], name="feedback_report_commune"),
            models.Index(fields=["agency", "state"], name="feedback_report_agency_state"),
            models.Index(fields=["category", "status"], name="feedback_report_cat_status"),
            # The hourly escalation reads only open reports not escalated yet, by due time.
            models.Index(
                fields=["due_at"],
                name="feedback_report_to_escalate",
                condition=models.Q(escalated_at__isnull=True, status__in=[1, 2, 3]),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def public_address(self) -> str:
        """The typed address as the public pages and Open311 show it: phone and ID numbers
        masked, e-mail addresses hidden (like `public_description`)."""
        return public_text(self.address)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PhotoKind(models.TextChoices):
    REPORT = "report", _("Reported")
    ANSWER = "answer", _("Of the fix")


class ReportPhoto(KeptPhoto):
    """A photo of a report or of its fix (core.photos.KeptPhoto: shown only once the
    worker has cleaned it of its location and camera metadata)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=16, choices=PhotoKind.choices, default=PhotoKind.REPORT)

    def __str__(self) -> str:
        return f"{self.report_id}/{self.public_id}"


class ReportEvent(CaseMove):
    """One move of a report: who, from, to, the note, when (the public history shows the
    moves, never who among the officials)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    from_status = models.PositiveSmallIntegerField(choices=ReportStatus.choices)
    to_status = models.PositiveSmallIntegerField(choices=ReportStatus.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.report_id}: {self.from_status}→{self.to_status}"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Open311Client(models.Model):
    """An application that posts reports through Open311 (its `api_key`, kept as a digest;
    GET needs no key)."""

    name = models.CharField(_("application"), max_length=255)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(_("key (first characters)"), max_length=8, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 application")
        verbose_name_plural = _("Open311 applications")

    def __str__(self) -> str:
        return self.name


class ReportRollup(models.Model):
    """What happened to the reports of one responsible body over one day, month or year
    (core.rollups: changed in the transaction of each event, summed for any period)."""

    # Indexed by the unique (agency, span, day) constraint, which leads with it.
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    span = models.PositiveSmallIntegerField()
    day = models.DateField()
    received = models.IntegerField(default=0, db_default=0)
    answered_early = models.IntegerField(default=0, db_default=0)
    answered_on_time = models.IntegerField(default=0, db_default=0)
    answered_late = models.IntegerField(default=0, db_default=0)
    rejected = models.IntegerField(default=0, db_default=0)
    duplicates = models.IntegerField(default=0, db_default=0)
    reopened = models.IntegerField(default=0, db_default=0)
    ratings = models.IntegerField(default=0, db_default=0)
    rating_points = models.IntegerField(default=0, db_default=0)
    # Changes of the stock of open reports (received, in progress): its value at the end of
    # a day is the sum of every change up to it (core.rollups.rollup_sum from the start).
    open_change = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "span", "day"], name="feedback_rollup_agency_span_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.span} {self.day}"
