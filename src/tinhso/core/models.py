"""Cross-cutting records: the tamper-evident audit chain and the personal-data access log,
notifications and the outbox, the worker's heartbeat, working calendars, number sequences
and Idempotency-Keys."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditHead(models.Model):
    """The sealed chain's current end (one row). Only the sealer locks it (core.audit,
    ADR 0025), never a writer, so entries are chained in one order and a removed tail is
    detected by comparing the head with the last sealed entry."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class AuditEntry(models.Model):
    """One state-changing action: who did what to which object, when, with the digest of the
    change, chained by SHA-256 to the previous entry (see docs/adr/0003-audit-hash-chain.md).
    A writer appends it unsealed (no `seq`, `prev_hash` or `hash`); the sealer gives it its
    place in the chain shortly after it commits (docs/adr/0025-audit-without-global-lock.md).
    """

    seq = models.BigIntegerField(_("sequence"), unique=True, null=True, blank=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    data = models.JSONField(_("change"), default=dict, blank=True)
    digest = models.CharField(_("change digest"), max_length=64)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # What the sealer reads: the few entries not chained yet, in the order appended.
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="core_audit_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A signed statement of the audit chain's head (sequence number and hash) at one moment,
    kept apart from the chain's tables so that cutting the chain's tail and rewriting its
    head no longer goes unnoticed (docs/adr/0017-audit-checkpoints.md). `statement` is the
    exact text that was signed; `signature` is a detached CMS/PKCS#7 signature over it by
    the province People's Committee's seal, time-stamped when a TSA is configured.
    Checkpoints are public and exported outside the database."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    seq = models.BigIntegerField(_("chain sequence"))
    head_hash = models.CharField(_("chain hash"), max_length=64)
    at = models.DateTimeField(_("time"))
    previous = models.CharField(
        _("previous checkpoint"),
        max_length=64,
        help_text=_("SHA-256 of the previous checkpoint's statement (zeros for the first)."),
    )
    statement = models.TextField(_("statement"))
    signature = models.BinaryField(_("signature (CMS, DER)"))
    signer = models.CharField(_("signed by"), max_length=255)
    certificate_fingerprint = models.CharField(_("certificate SHA-256"), max_length=64)
    timestamped_at = models.DateTimeField(_("time-stamped at"), null=True, blank=True)
    recorded_seq = models.BigIntegerField(
        _("recorded as entry"),
        null=True,
        blank=True,
        help_text=_("The audit entry that records the making of this checkpoint."),
    )

    class Meta:
        ordering = ["-number"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"{self.number}: #{self.seq} {self.head_hash[:12]}"


class PersonalDataAccess(models.Model):
    """An official looked at a citizen's personal data. The citizen sees these rows in their
    account ("who looked at my data"), as Decree 13/2023 entitles them to."""

    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("citizen"),
        on_delete=models.CASCADE,
        related_name="data_accesses",
    )
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("official"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=255)
    record = models.CharField(_("record viewed"), max_length=64, default="profile")
    channel = models.CharField(_("channel"), max_length=16, default="web")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")

    def __str__(self) -> str:
        return f"{self.official_id} → {self.citizen_id} @ {self.at:%Y-%m-%d %H:%M}"


class NotificationChannel(models.TextChoices):
    INBOX = "inbox", _("Account inbox")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Notification(models.Model):
    """A message to a person. It is written in the transaction of the change it reports and
    delivered afterwards through the outbox; the citizen reads every one in their account."""

    # None: someone without an account, reached at `recipient` only (the phone or e-mail an
    # anonymous reporter left for the answer).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    recipient = models.CharField(max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"))
    link = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.channel}: {self.subject}"


class OutboxMessage(models.Model):
    """A side effect to carry out after commit (send a notification, sync to the national
    portal…). Written in the same transaction as the change; a worker delivers it at least
    once (core.outbox)."""

    topic = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField(db_index=True)
    # Set while a delivery run holds the message (core.outbox: other runs pass it by until
    # then, and take it again if that run died).
    leased_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class WorkerHeartbeat(models.Model):
    """A background-task worker (`tinhso worker`): it writes its heartbeat every few
    seconds, so /healthz can tell when no worker is alive, and another worker can recover
    the tasks a dead one left running (core.worker)."""

    worker_id = models.CharField(_("worker id"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    # Host name and PID namespace: where `pid` identifies this process, so a worker on the
    # same machine can tell at once that another has died.
    host_key = models.CharField(max_length=320)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    beat_at = models.DateTimeField(_("last heartbeat"), db_index=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    task_id = models.CharField(_("running task"), max_length=64, blank=True)
    task_path = models.CharField(_("running task path"), max_length=255, blank=True)

    class Meta:
        ordering = ["-beat_at"]
        verbose_name = _("task worker")
        verbose_name_plural = _("task workers")

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"


class WorkingCalendar(models.Model):
    """Working hours that deadlines are counted in. Agencies name theirs in
    `Agency.calendar`; public holidays come from the `holidays` package (Vietnam), and the
    days the government (or province) swaps are stored as CalendarException rows."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)
    morning_start = models.TimeField(_("morning starts"), default="07:30")
    morning_end = models.TimeField(_("morning ends"), default="11:30")
    afternoon_start = models.TimeField(_("afternoon starts"), default="13:30")
    afternoon_end = models.TimeField(_("afternoon ends"), default="17:30")
    intake_cutoff = models.TimeField(
        _("intake cut-off"),
        default="15:00",
        help_text=_("Dossiers received after this time count from the next working day."),
    )

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")

    def __str__(self) -> str:
        return self.name


class CalendarException(models.Model):
    """A day the announced calendar differs from the national public holidays: an extra
    day off (nghỉ bù) or a make-up working day (làm bù), for one calendar."""

    calendar = models.ForeignKey(
        WorkingCalendar, on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(
        _("working day"), help_text=_("Checked: a make-up working day; unchecked: a day off.")
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_exception_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {'+' if self.is_working else '-'}"


class NumberSequence(models.Model):
    """The last number given in one register (dossier codes, later document numbers and
    stamps) for one scope (an agency, or none) and one period (a day, a year, or for ever):
    `core.numbering.sequence_next` takes the next one in the caller's transaction."""

    register = models.SlugField(max_length=64)
    scope = models.CharField(max_length=64, blank=True)
    period = models.CharField(max_length=10, blank=True)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["register", "scope", "period"], name="number_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.register} {self.scope} {self.period}: {self.last}"


class IdempotencyKey(models.Model):
    """A creating API request sent with an `Idempotency-Key` header (core.idempotency): who
    sent it, for which operation, the digest of the request, and what it created. The same
    key and request get that object back; the same key with another request is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    operation = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    result_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    result_id = models.PositiveBigIntegerField()
    result = GenericForeignKey("result_type", "result_id")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operation", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"


class PendingDocumentState(models.TextChoices):
    PENDING = "pending", _("Being issued")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Failed")


class PendingDocument(models.Model):
    """A document to issue after commit (a form, a sealed result, a receipt): written in
    the transaction of the action with the inputs its rendering needs, frozen then; a
    worker renders and signs it (core.documents, ADR 0023). `key` names what it issues,
    so the same document is never queued twice; the row lock makes one worker issue it."""

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    key = models.CharField(_("key"), max_length=128, unique=True)
    label = models.CharField(_("document"), max_length=255, blank=True)
    payload = models.JSONField(default=dict)
    state = models.CharField(
        _("state"),
        max_length=8,
        choices=PendingDocumentState.choices,
        default=PendingDocumentState.PENDING,
    )
    # Issued only after this one (the clerk's seal after the leader's signature).
    after = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followers"
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(_("next attempt"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("document to issue")
        verbose_name_plural = _("documents to issue")
        indexes = [models.Index(fields=["state", "available_at"])]

    def __str__(self) -> str:
        return self.label or f"{self.kind} #{self.pk}"
