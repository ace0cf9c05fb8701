"""Official documents (ADR 0033): outgoing documents drafted, reviewed, approved and issued
with the number of the agency's register; incoming documents registered, assigned and
handled; the edXML messages that carry both between agencies, and each recipient's trace.

Outgoing and incoming documents are `cases.Case`s: their workflows are data (subjects
"outgoing_document" and "incoming_document") moved by `cases.transitions`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tinhso.cases.base import Case, CaseMove


class DocType(models.TextChoices):
    """Types of administrative documents (Decree 30/2020/NĐ-CP, Article 7 and Appendix III);
    the value is the abbreviation the notation carries ("" for công văn, whose notation
    names the drafting unit instead)."""

    QUYET_DINH = "QĐ", "Quyết định"
    CONG_VAN = "CV", "Công văn"
    TO_TRINH = "TTr", "Tờ trình"
    BAO_CAO = "BC", "Báo cáo"
    KE_HOACH = "KH", "Kế hoạch"
    THONG_BAO = "TB", "Thông báo"
    GIAY_MOI = "GM", "Giấy mời"
    CHI_THI = "CT", "Chỉ thị"
    HUONG_DAN = "HD", "Hướng dẫn"
    BIEN_BAN = "BB", "Biên bản"
    NGHI_QUYET = "NQ", "Nghị quyết"
    CONG_DIEN = "CĐ", "Công điện"


# edXML DocumentType/Type: 1 legal normative documents, 2 administrative documents.
NORMATIVE = frozenset({DocType.NGHI_QUYET})


class Urgency(models.IntegerChoices):
    """Độ khẩn (Decree 30, Article 8 of Appendix I); the value is edXML's Priority."""

    NORMAL = 0, pgettext_lazy("urgency", "Normal")
    URGENT = 1, _("Urgent (khẩn)")
    VERY_URGENT = 2, _("Very urgent (thượng khẩn)")
    FLASH = 3, _("Flash (hỏa tốc)")


class Confidentiality(models.IntegerChoices):
    NONE = 0, _("Not classified")
    RESTRICTED = 1, _("Restricted (mật)")
    SECRET = 2, _("Secret (tối mật)")


class Direction(models.TextChoices):
    OUTGOING = "out", _("Outgoing")
    INCOMING = "in", _("Incoming")


class Unit(models.Model):
    """An internal unit of an agency (Văn phòng, a Phòng): its code ends a công văn's
    notation (`45/UBND-VP`); its members draft for it, its heads review."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("abbreviation"), max_length=16)
    name = models.CharField(_("name"), max_length=255)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="units")

    class Meta:
        verbose_name = _("internal unit")
        verbose_name_plural = _("internal units")
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="documents_unit_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Register(models.Model):
    """A register (sổ văn bản) of an agency: outgoing ("sổ văn bản đi") or incoming ("sổ
    văn bản đến"). Numbers restart at 1 every 1 January (core.numbering, gap-free)."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="document_registers"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    name = models.CharField(_("name"), max_length=255)
    # Blank: every type; else the types this register numbers (e.g. decisions apart).
    doc_types = models.JSONField(_("document types"), default=list, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("document register")
        verbose_name_plural = _("document registers")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "direction"],
                condition=Q(is_default=True),
                name="documents_register_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Attachment(models.Model):
    """A file of a document (its body as issued, or an appendix), in the file store."""

    outgoing = models.ForeignKey(
        "Outgoing", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    incoming = models.ForeignKey(
        "Incoming", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=128)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=255)
    # The issued document's signed body (the others are appendices).
    is_body = models.BooleanField(default=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class OutgoingStatus(models.IntegerChoices):
    DRAFT = 1, _("Draft")
    REVIEWING = 2, _("Being reviewed")
    APPROVING = 3, _("Awaiting the leader's signature")
    RETURNED = 4, _("Sent back")
    APPROVED = 5, _("Approved, to issue")
    ISSUED = 6, _("Issued")


class RecallState(models.TextChoices):
    NONE = "", "—"
    REQUESTED = "requested", _("Recall requested")
    DONE = "done", _("Recalled")
    REFUSED = "refused", _("Recall refused")


class Outgoing(Case):
    """An outgoing document (văn bản đi): drafted by a specialist of a unit, reviewed by
    the unit's head, approved and signed by a leader, numbered and sealed by the clerk."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="outgoing_documents"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafted_documents"
    )
    status = models.PositiveSmallIntegerField(
        _("status"), choices=OutgoingStatus.choices, default=OutgoingStatus.DRAFT
    )
    doc_type = models.CharField(_("document type"), max_length=8, choices=DocType.choices)
    subject = models.CharField(_("subject (trích yếu)"), max_length=1000)
    content = models.TextField(_("content"))
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.NORMAL
    )
    confidentiality = models.PositiveSmallIntegerField(
        _("confidentiality"), choices=Confidentiality.choices, default=Confidentiality.NONE
    )
    reply_due = models.DateField(_("reply due by"), null=True, blank=True)
    # The draft's version: raised by every revision (OutgoingVersion keeps each).
    revision = models.PositiveIntegerField(default=1)
    # The incoming document this one answers (edXML ResponseFor).
    response_for = models.ForeignKey(
        "Incoming", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    # The issued document this one replaces (edXML business "replace").
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signed_documents",
    )
    signer_position = models.CharField(max_length=128, blank=True)
    # Given at issue.
    register = models.ForeignKey(Register, null=True, blank=True, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    notation = models.CharField(_("number and notation"), max_length=64, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # edXML DocumentId: the document's identity across installations (idempotency).
    document_id = models.CharField(max_length=100, blank=True, db_index=True)
    signed = models.ForeignKey(
        "signing.SignedDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issuing = models.ForeignKey(
        "core.PendingDocument", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recall = models.CharField(max_length=10, choices=RecallState.choices, default="", blank=True)
    recall_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("outgoing document")
        verbose_name_plural = _("outgoing documents")
        indexes = [
            models.Index(fields=["agency", "state"], name="documents_out_agency_state"),
            models.Index(fields=["agency", "issued_at"], name="documents_out_issued"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["register", "year", "number"],
                condition=Q(number__isnull=False),
                name="documents_out_number_once",
            ),
        ]

    def __str__(self) -> str:
        return self.notation or self.subject[:60]


class OutgoingVersion(models.Model):
    """A draft as it stood when it went for review (every version is kept)."""

    outgoing = models.ForeignKey(Outgoing, on_delete=models.CASCADE, related_name="versions")
    revision = models.PositiveIntegerField()
    subject = models.CharField(max_length=1000)
    content = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["revision"]
        constraints = [
            models.UniqueConstraint(fields=["outgoing", "revision"], name="documents_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.outgoing_id} v{self.revision}"


class RecipientKind(models.TextChoices):
    AGENCY = "agency", _("Agency on this platform")
    EXTERNAL = "external", _("Organisation through the exchange")
    UNIT = "unit", _("Internal unit")


class Recipient(models.Model):
    """Where an outgoing document goes ("Nơi nhận"), and the latest status that came back
    from there (the whole trace is its TraceEntry rows)."""

    outgoing = models.ForeignKey(Outgoing, on_delete=models.CASCADE, related_name="recipients")
    kind = models.CharField(max_length=10, choices=RecipientKind.choices)
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organ_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "To" receive the document to act; "cc" for information ("Để biết").
    purpose = models.CharField(max_length=8, default="to")
    last_status = models.CharField(max_length=2, blank=True)
    last_status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organ_id"], name="documents_recipient_organ")]

    def __str__(self) -> str:
        return self.name


class TraceEntry(models.Model):
    """One status of an outgoing document at one recipient (edXML Status: 01 arrived, 02
    refused, 03 registered, 04 assigned, 05 in progress, 06 done, 13 recall requested, 15
    recall accepted, 16 recall refused)."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="trace")
    code = models.CharField(max_length=2)
    description = models.TextField(blank=True)
    staff = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.code}"


class IncomingStatus(models.IntegerChoices):
    ARRIVED = 1, _("Arrived, to register")
    REGISTERED = 2, _("Registered, to assign")
    ASSIGNED = 3, _("Assigned")
    IN_PROGRESS = 4, _("Being handled")
    DONE = 5, _("Done")
    REFUSED = 6, _("Refused")
    RECALLED = 7, _("Recalled by the sender")


class Source(models.TextChoices):
    EXCHANGE = "exchange", _("Electronic exchange (edXML)")
    PAPER = "paper", _("Paper, scanned by the clerk")
    EMAIL = "email", _("E-mail")


class Incoming(Case):
    """An incoming document (văn bản đến) of an agency: arrived, registered in the incoming
    register (its "số đến"), assigned by a leader, handled, done."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="incoming_documents"
    )
    status = models.PositiveSmallIntegerField(
        _("status"), choices=IncomingStatus.choices, default=IncomingStatus.ARRIVED
    )
    source = models.CharField(_("received by"), max_length=10, choices=Source.choices)
    # The sender and the document as it names itself.
    sender_organ_id = models.CharField(max_length=64, blank=True)
    sender_name = models.CharField(_("sender"), max_length=255)
    sender_peer = models.CharField(max_length=64, blank=True)
    code_number = models.CharField(max_length=16, blank=True)
    notation = models.CharField(_("number and notation"), max_length=64)
    doc_type = models.CharField(_("document type"), max_length=8, choices=DocType.choices)
    subject = models.CharField(_("subject (trích yếu)"), max_length=1000)
    content = models.TextField(blank=True)
    promulgated_on = models.DateField(_("dated"))
    signer_name = models.CharField(_("signed by"), max_length=255, blank=True)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices, default=Urgency.NORMAL)
    reply_due = models.DateField(null=True, blank=True)
    document_id = models.CharField(max_length=100, blank=True)
    # The outgoing document on this platform it came from (an in-process exchange).
    outgoing = models.ForeignKey(
        Outgoing, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    arrived_at = models.DateTimeField(_("arrived at"), default=timezone.now, db_index=True)
    register = models.ForeignKey(Register, null=True, blank=True, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(_("incoming number"), null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    # Working days to handle it, set by the leader who assigns it (core.calendar).
    handling_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # The signatures found on its body when it arrived (signing.verify), for the clerk.
    signatures = models.JSONField(default=list, blank=True)
    recall = models.CharField(max_length=10, choices=RecallState.choices, default="", blank=True)
    recall_reason = models.TextField(blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incoming document")
        verbose_name_plural = _("incoming documents")
        indexes = [
            models.Index(fields=["agency", "state", "arrived_at"], name="documents_in_box"),
        ]
        constraints = [
            # A message repeated never registers the same document twice; a document is its
            # sender's (another sender's id cannot shadow it).
            models.UniqueConstraint(
                fields=["agency", "sender_organ_id", "document_id"],
                condition=~Q(document_id=""),
                name="documents_in_once",
            ),
            models.UniqueConstraint(
                fields=["register", "year", "number"],
                condition=Q(number__isnull=False),
                name="documents_in_number_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notation} — {self.subject[:60]}"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead handler (xử lý chính)")
    CO = "co", _("Co-handler (phối hợp)")
    INFO = "info", _("For information (để biết)")


class Assignment(models.Model):
    """Who an incoming document was given to, and how."""

    incoming = models.ForeignKey(Incoming, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="document_assignments",
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=8, choices=AssignmentRole.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "role", "assigned_at"], name="documents_assigned")]

    def __str__(self) -> str:
        return f"{self.incoming_id} {self.role} {self.user_id}"


class OutgoingEvent(CaseMove):
    """One move of an outgoing document (its history)."""

    outgoing = models.ForeignKey(Outgoing, on_delete=models.CASCADE, related_name="events")
    from_status = models.PositiveSmallIntegerField(choices=OutgoingStatus.choices)
    to_status = models.PositiveSmallIntegerField(choices=OutgoingStatus.choices)

    def __str__(self) -> str:
        return f"{self.outgoing_id}: {self.from_status}→{self.to_status}"


class IncomingEvent(CaseMove):
    """One move of an incoming document (its history)."""

    incoming = models.ForeignKey(Incoming, on_delete=models.CASCADE, related_name="events")
    from_status = models.PositiveSmallIntegerField(choices=IncomingStatus.choices)
    to_status = models.PositiveSmallIntegerField(choices=IncomingStatus.choices)

    def __str__(self) -> str:
        return f"{self.incoming_id}: {self.from_status}→{self.to_status}"


class MessageKind(models.TextChoices):
    DOCUMENT = "document", _("Document")
    STATUS = "status", _("Status")


class MessageState(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    DELIVERED = "delivered", _("Delivered")
    RECEIVED = "received", _("Received")
    FAILED = "failed", _("Refused by the receiver")


class Message(models.Model):
    """An edXML message sent or received (the XML kept in the file store). Outgoing ones
    wait here (the mailbox a peer may also poll) until delivered; incoming ones are kept
    once per message id (a repeat is answered, never processed twice)."""

    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    # The installation at the other end ("" for agencies on this platform).
    peer = models.CharField(max_length=64, blank=True)
    from_organ = models.CharField(max_length=64)
    to_organ = models.CharField(max_length=64)
    document_id = models.CharField(max_length=100, db_index=True)
    status_code = models.CharField(max_length=2, blank=True)
    storage_name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=MessageState.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "peer", "message_id"], name="documents_message_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["peer", "created_at"],
                condition=Q(direction="out", state="pending"),
                name="documents_mailbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.document_id}"


class DocumentRollup(models.Model):
    """What each agency issued, received and handled over a day, month or year
    (core.rollups), kept by the events: documents issued, of them personally signed, sealed,
    sent electronically; received, of them electronically; incoming documents handled on
    time and late."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    span = models.PositiveSmallIntegerField()
    day = models.DateField()
    issued = models.IntegerField(default=0, db_default=0)
    issued_personal = models.IntegerField(default=0, db_default=0)
    issued_sealed = models.IntegerField(default=0, db_default=0)
    issued_electronic = models.IntegerField(default=0, db_default=0)
    received = models.IntegerField(default=0, db_default=0)
    received_electronic = models.IntegerField(default=0, db_default=0)
    handled_on_time = models.IntegerField(default=0, db_default=0)
    handled_late = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "span", "day"], name="documents_rollup_agency_span_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.span} {self.day}"
