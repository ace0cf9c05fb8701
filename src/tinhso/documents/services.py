"""What changes official documents. Each change is one transaction with its event (its
audit entry) — through the workflow engine for the documents' moves. Issuing takes the next
number of the agency's outgoing register (gap-free, restarting every 1 January: Decree
30/2020/NĐ-CP), and queues the PDF, signed by the approving leader and sealed with the
agency's seal by the worker after commit; once signed, the document leaves for its
recipients (documents.exchange)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import Membership, User
from tinhso.agencies.models import Agency, AgencyKind
from tinhso.cases.effects import EffectContext
from tinhso.cases.transitions import (
    TransitionError,
    TransitionForbiddenError,
    case_roles,
    case_transition,
)
from tinhso.core.errors import ConflictError, DomainError, ForbiddenError
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.files import CheckedFile
from tinhso.core.numbering import Period, sequence_next
from tinhso.core.rollups import rollup_add
from tinhso.documents.models import (
    Assignment,
    AssignmentRole,
    Direction,
    DocType,
    DocumentRollup,
    Incoming,
    IncomingStatus,
    Outgoing,
    OutgoingStatus,
    OutgoingVersion,
    Recipient,
    RecipientKind,
    Register,
    Source,
    Unit,
    Urgency,
)
from tinhso.documents.records import incoming_create, keep_files
from tinhso.documents.roles import CLERK, DOCUMENT_ROLES, LEADER, SPECIALIST, UNIT_HEAD
from tinhso.documents.subject import HANDLER_MOVES

log = logging.getLogger(__name__)

OUTGOING_PDF = "documents.outgoing"
MAX_ATTACHMENTS = 10


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftSaved(Event):
    kind = "document.drafted"
    outgoing: Outgoing
    actor: User
    created: bool

    def audit(self) -> AuditItem:
        o = self.outgoing
        return AuditItem(
            actor=self.actor,
            action="document.draft" if self.created else "document.revise",
            obj=o,
            data={"type": o.doc_type, "revision": o.revision, "recipients": o.recipients.count()},
        )


@dataclass(frozen=True)
class DocumentIssued(Event):
    kind = "document.issued"
    outgoing: Outgoing
    actor: User | None

    def audit(self) -> AuditItem:
        o = self.outgoing
        return AuditItem(
            actor=self.actor,
            action="document.issue",
            obj=o,
            data={
                "notation": o.notation,
                "register": o.register_id,
                "number": o.number,
                "document_id": o.document_id,
            },
        )


@dataclass(frozen=True)
class RecallAsked(Event):
    kind = "document.recall"
    outgoing: Outgoing
    actor: User

    def audit(self) -> AuditItem:
        o = self.outgoing
        return AuditItem(
            actor=self.actor,
            action="document.recall",
            obj=o,
            data={"notation": o.notation, "reason": o.recall_reason[:200]},
        )


# --- registers, notation --------------------------------------------------------------------


def agency_abbreviation(agency: Agency) -> str:
    """The issuing body's abbreviation in a notation: "UBND" for a People's Committee (the
    province's or a commune's), the short name otherwise ("SNNMT")."""
    if agency.kind == AgencyKind.PEOPLES_COMMITTEE:
        return "UBND"
    return (agency.short_name or agency.code).replace(" ", "")


def notation_for(number: int, doc_type: str, agency: Agency, unit: Unit | None) -> str:
    """`15/QĐ-UBND`; a công văn names the drafting unit instead of a type: `45/UBND-VP`
    (Decree 30/2020/NĐ-CP, Appendix I)."""
    body = agency_abbreviation(agency)
    if doc_type == DocType.CONG_VAN:
        return f"{number}/{body}-{unit.code}" if unit is not None else f"{number}/{body}"
    return f"{number}/{doc_type}-{body}"


def register_default(agency: Agency, direction: str) -> Register:
    """The agency's default register for that direction (made on first use)."""
    found = Register.objects.filter(agency=agency, direction=direction, is_default=True).first()
    if found is not None:
        return found
    name = "Sổ văn bản đi" if direction == Direction.OUTGOING else "Sổ văn bản đến"
    try:
        with transaction.atomic():
            return Register.objects.create(
                agency=agency, direction=direction, name=name, is_default=True
            )
    except IntegrityError:
        return Register.objects.get(agency=agency, direction=direction, is_default=True)


def register_for(agency: Agency, direction: str, doc_type: str) -> Register:
    """The register that numbers `doc_type`: one naming the type, else the default."""
    for register in Register.objects.filter(agency=agency, direction=direction):
        if doc_type in (register.doc_types or []):
            return register
    return register_default(agency, direction)


def register_next(register: Register, day: date) -> int:
    """The next number of the register in the year of `day`, gap-free: taken in the
    caller's transaction (core.numbering), given back if it rolls back."""
    return sequence_next(
        register=f"documents.{register.direction}",
        scope=str(register.pk),
        period=Period.YEARLY,
        day=day,
    )


# --- drafting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientIn:
    kind: str
    name: str
    agency: Agency | None = None
    organ_id: str = ""
    unit: Unit | None = None
    purpose: str = "to"


def _drafting_agency(actor: User, agency: Agency) -> None:
    held = {m.role for m in Membership.objects.filter(user=actor, agency=agency, is_active=True)}
    if not held & {SPECIALIST, UNIT_HEAD, LEADER}:
        raise ForbiddenError(_("Only the agency's own specialists, heads and leaders draft."))


def _check_recipients(recipients: Sequence[RecipientIn], agency: Agency) -> None:
    from tinhso.documents.exchange import external_organ

    if not recipients:
        raise DomainError(
            _("Name at least one recipient."),
            errors={"recipients": [_("Name at least one recipient.")]},
        )
    for r in recipients:
        if r.kind == RecipientKind.AGENCY and (r.agency is None or r.agency.pk == agency.pk):
            raise DomainError(_("A document is not sent to its own agency; name a unit."))
        if r.kind == RecipientKind.EXTERNAL and external_organ(r.organ_id) is None:
            raise DomainError(
                _("%(organ)s is not an organisation this platform exchanges documents with.")
                % {"organ": r.organ_id}
            )
        if r.kind == RecipientKind.UNIT and (r.unit is None or r.unit.agency_id != agency.pk):
            raise DomainError(_("An internal unit must be one of this agency's."))


def draft_save(
    *,
    actor: User,
    agency: Agency,
    doc_type: str,
    subject: str,
    content: str,
    recipients: Sequence[RecipientIn],
    files: Sequence[CheckedFile] = (),
    unit: Unit | None = None,
    urgency: int = Urgency.NORMAL,
    confidentiality: int = 0,
    reply_due: date | None = None,
    response_for: Incoming | None = None,
    replaces: Outgoing | None = None,
    outgoing: Outgoing | None = None,
    version: int | None = None,
) -> Outgoing:
    """Create a draft, or revise the author's own draft (while it is a draft or sent back)."""
    if doc_type not in DocType.values:
        raise DomainError(_("Choose a document type."))
    subject, content = subject.strip(), content.strip()
    if not subject or not content:
        raise DomainError(_("Write the subject and the content."))
    if len(files) + (outgoing.attachments.count() if outgoing else 0) > MAX_ATTACHMENTS:
        raise DomainError(_("At most %(n)d files.") % {"n": MAX_ATTACHMENTS})
    # The whole document travels in one edXML message (base64: a third larger, with the
    # signed body): its attachments together must fit in what a receiver accepts.
    room = settings.TINHSO_EDXML_MAX_BYTES * 6 // 10
    total = sum(f.size for f in files) + sum(
        outgoing.attachments.values_list("size", flat=True) if outgoing else []
    )
    if total > room:
        raise DomainError(
            _("The attachments together may be at most %(n)d MB (the document travels in one "
              "message).") % {"n": room // 1048576},
            errors={"files": [_("Attach less, or send the rest on paper.")]},
        )  # fmt: skip
    if unit is not None and unit.agency_id != agency.pk:
        raise DomainError(_("An internal unit must be one of this agency's."))
    _check_recipients(recipients, agency)
    if confidentiality and any(r.kind != RecipientKind.UNIT for r in recipients):
        # The Law on Protection of State Secrets (2018, Art. 10) forbids sending classified
        # documents over networks without approved encryption: they go on paper.
        raise DomainError(
            _("A classified document is not sent over the network: send it on paper, or "
              "only to units of this agency."),
            errors={"confidentiality": [_("Classified documents leave on paper.")]},
        )  # fmt: skip
    if response_for is not None and response_for.agency_id != agency.pk:
        raise ForbiddenError(_("A reply answers a document of its own agency."))
    if replaces is not None and (
        replaces.agency_id != agency.pk or replaces.status != OutgoingStatus.ISSUED
    ):
        raise DomainError(_("Only an issued document of this agency can be replaced."))
    with transaction.atomic():
        now = timezone.now()
        if outgoing is None:
            _drafting_agency(actor, agency)
            outgoing = Outgoing.objects.create(
                agency=agency,
                unit=unit,
                author=actor,
                doc_type=doc_type,
                subject=subject,
                content=content,
                urgency=urgency,
                confidentiality=confidentiality,
                reply_due=reply_due,
                response_for=response_for,
                replaces=replaces,
                state="draft",
            )
            created = True
        else:
            if outgoing.author_id != actor.pk:
                raise ForbiddenError(_("Only the author revises a draft."))
            updated = Outgoing.objects.filter(
                pk=outgoing.pk,
                version=version if version is not None else outgoing.version,
                status__in=[OutgoingStatus.DRAFT, OutgoingStatus.RETURNED],
            ).update(
                doc_type=doc_type,
                subject=subject,
                content=content,
                urgency=urgency,
                confidentiality=confidentiality,
                reply_due=reply_due,
                unit=unit,
                version=outgoing.version + 1,
                revision=outgoing.revision + 1,
                updated_at=now,
            )
            if updated != 1:
                raise ConflictError(
                    _("This draft changed or went on a moment ago. Reload it and try again.")
                )
            outgoing.refresh_from_db()
            outgoing.recipients.all().delete()
            created = False
        Recipient.objects.bulk_create(
            Recipient(
                outgoing=outgoing,
                kind=r.kind,
                agency=r.agency,
                unit=r.unit,
                purpose=r.purpose,
                organ_id=r.agency.code if r.agency is not None else r.organ_id,
                name=r.name,
            )
            for r in recipients
        )
        keep_files(files, outgoing=outgoing)
        event_emit(DraftSaved(outgoing=outgoing, actor=actor, created=created))
    return outgoing


def outgoing_act(
    *, outgoing: Outgoing, actor: User, action: str, version: int, note: str = ""
) -> Outgoing:
    """A move of an outgoing document. Submitting keeps the version reviewed; approving
    makes the leader its signer."""
    if action == "submit" and outgoing.author_id != actor.pk:
        raise ForbiddenError(_("Only the author submits a draft."))
    with transaction.atomic():
        if action == "submit":
            OutgoingVersion.objects.get_or_create(
                outgoing=outgoing,
                revision=outgoing.revision,
                defaults={"subject": outgoing.subject, "content": outgoing.content, "by": actor},
            )
        if action == "approve" and LEADER in case_roles(outgoing, actor):
            from tinhso.signing import services as signing

            signing.personal_for(actor, outgoing.agency)  # refused now if they cannot sign
            title = (
                Membership.objects.filter(user=actor, agency=outgoing.agency, role=LEADER)
                .values_list("title", flat=True)
                .first()
            )
            Outgoing.objects.filter(pk=outgoing.pk).update(
                signer=actor, signer_position=title or "Lãnh đạo"
            )
            outgoing.signer, outgoing.signer_position = actor, title or "Lãnh đạo"
        moved = case_transition(
            case=outgoing, actor=actor, action=action, version=version, note=note
        )
    assert isinstance(moved, Outgoing)  # noqa: S101
    return moved


def issue_effect(context: EffectContext) -> None:
    """The `documents.issue` effect: the next number of the register, the notation, the
    document's exchange identity; the PDF is queued (rendered, signed by the leader who
    approved it and sealed after commit, then sent)."""
    from tinhso.core.documents import document_pending
    from tinhso.core.models import PendingDocument
    from tinhso.signing import services as signing

    outgoing = context.case
    assert isinstance(outgoing, Outgoing)  # noqa: S101
    if outgoing.signer is None:
        raise TransitionError(_("A leader approves and signs the document before it is issued."))
    agency = outgoing.agency
    signing.seal_for(agency)
    issued_on = timezone.localdate(context.now)
    register = register_for(agency, Direction.OUTGOING, outgoing.doc_type)
    number = register_next(register, issued_on)
    notation = notation_for(number, outgoing.doc_type, agency, outgoing.unit)
    document_id = f"{agency.code}.{issued_on:%Y}.{register.pk}.{number}"
    Outgoing.objects.filter(pk=outgoing.pk).update(
        register=register,
        year=issued_on.year,
        number=number,
        notation=notation,
        issued_on=issued_on,
        issued_at=context.now,
        issued_by=context.actor,
        document_id=document_id,
    )
    outgoing.refresh_from_db()

    def bind(row: PendingDocument) -> None:
        Outgoing.objects.filter(pk=outgoing.pk).update(issuing=row)

    document_pending(
        kind=OUTGOING_PDF,
        key=f"outgoing:{outgoing.pk}",
        label=f"Văn bản {notation}",
        payload={"outgoing": outgoing.pk, "public_id": signing.verification_id_new()},
        bind=bind,
    )
    rollup_add(
        DocumentRollup,
        agency_id=agency.pk,
        at=context.now,
        counts={"issued": 1, "issued_personal": 1, "issued_sealed": 1},
    )
    event_emit(DocumentIssued(outgoing=outgoing, actor=context.actor))


def outgoing_recall(*, outgoing: Outgoing, actor: User, reason: str) -> Outgoing:
    """Ask every recipient to give the issued document back (status 13); each accepts (15)
    or refuses (16). Refused when it is not issued, already recalled, or done everywhere."""
    from tinhso.documents.exchange import recall_send

    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for the recall."))
    if not case_roles(outgoing, actor) & {CLERK, LEADER}:
        raise ForbiddenError(_("Only the agency's clerks and leaders recall a document."))
    with transaction.atomic():
        locked = Outgoing.objects.select_for_update().get(pk=outgoing.pk)
        if locked.status != OutgoingStatus.ISSUED or not locked.document_id:
            raise ConflictError(_("Only an issued document can be recalled."))
        if locked.recall in ("requested", "done"):
            raise ConflictError(_("This document's recall was asked already."))
        sent = [r for r in locked.recipients.all() if r.kind != RecipientKind.UNIT]
        if sent and all(r.last_status == "06" for r in sent):
            raise ConflictError(
                _(
                    "Every recipient has finished handling this document: it can no longer be "
                    "recalled."
                )
            )
        locked.recall, locked.recall_reason = "requested", reason
        locked.save(update_fields=["recall", "recall_reason"])
        recall_send(locked, reason=reason, actor=actor)
        event_emit(RecallAsked(outgoing=locked, actor=actor))
    return locked


# --- incoming -------------------------------------------------------------------------------


def incoming_upload(
    *,
    actor: User,
    agency: Agency,
    sender_name: str,
    notation: str,
    doc_type: str,
    subject: str,
    promulgated_on: date,
    files: Sequence[CheckedFile],
    signer_name: str = "",
    urgency: int = Urgency.NORMAL,
    source: str = Source.PAPER,
) -> Incoming:
    """A paper (or e-mailed) document the clerk brings in. The same sender's same number and
    date registered already is refused (409): nothing is registered twice."""
    if not Membership.objects.filter(
        user=actor, agency=agency, role=CLERK, is_active=True
    ).exists():
        raise ForbiddenError(_("Only the agency's clerks register incoming documents."))
    errors: dict[str, list[str]] = {}
    if not sender_name.strip():
        errors["sender_name"] = [_("Name the sender.")]
    if not notation.strip():
        errors["notation"] = [_("Write the document's number and notation.")]
    if not subject.strip():
        errors["subject"] = [_("Write the subject.")]
    if not files:
        errors["files"] = [_("Attach the scanned document.")]
    if errors:
        raise DomainError(_("Some fields need attention."), errors=errors)
    with transaction.atomic():
        Agency.objects.select_for_update().filter(pk=agency.pk).first()
        duplicate = (
            Incoming.objects.filter(
                agency=agency,
                sender_name__iexact=sender_name.strip(),
                notation__iexact=notation.strip(),
                promulgated_on=promulgated_on,
            )
            .exclude(status=IncomingStatus.REFUSED)
            .first()
        )
        if duplicate is not None:
            raise ConflictError(
                _("Document %(notation)s of %(sender)s dated %(date)s is registered already.")
                % {
                    "notation": notation.strip(),
                    "sender": sender_name.strip(),
                    "date": f"{promulgated_on:%d/%m/%Y}",
                },
                code="duplicate",
            )
        return incoming_create(
            agency=agency,
            source=source,
            sender_name=sender_name.strip(),
            notation=notation.strip(),
            doc_type=doc_type,
            subject=subject.strip(),
            promulgated_on=promulgated_on,
            actor=actor,
            signer_name=signer_name,
            urgency=urgency,
            files=files,
        )


def incoming_act(
    *,
    incoming: Incoming,
    actor: User,
    action: str,
    version: int,
    note: str = "",
    lead: User | None = None,
    co: Sequence[User] = (),
    info: Sequence[User] = (),
    days: int | None = None,
) -> Incoming:
    """A move of an incoming document: registering takes the next "số đến"; assigning names
    the lead handler, co-handlers and readers and the working days to handle it."""
    if action in HANDLER_MOVES and incoming.assignee_id != actor.pk:
        raise TransitionForbiddenError(
            _("Only the lead handler reports on and finishes this document.")
        )
    with transaction.atomic():
        now = timezone.now()
        if action == "register" and CLERK in case_roles(incoming, actor):
            register = register_default(incoming.agency, Direction.INCOMING)
            number = register_next(register, timezone.localdate(now))
            Incoming.objects.filter(pk=incoming.pk, version=version).update(
                register=register,
                number=number,
                year=timezone.localdate(now).year,
                registered_at=now,
            )
        if action == "assign" and LEADER in case_roles(incoming, actor):
            if lead is None:
                raise DomainError(
                    _("Choose the lead handler."), errors={"lead": [_("Choose the lead handler.")]}
                )
            if days is None or not 1 <= days <= 365:
                raise DomainError(
                    _("Give the working days to handle it (1 to 365)."),
                    errors={"days": [_("From 1 to 365 working days.")]},
                )
            staff = set(
                Membership.objects.filter(
                    agency=incoming.agency, is_active=True, role__in=DOCUMENT_ROLES
                ).values_list("user_id", flat=True)
            )
            if any(u.pk not in staff for u in (*co, *info)):
                raise DomainError(
                    _("Co-handlers and readers must be officials of this agency who handle "
                      "documents.")
                )  # fmt: skip
            incoming.handling_days = days
            Incoming.objects.filter(pk=incoming.pk).update(handling_days=days)
            Assignment.objects.create(
                incoming=incoming,
                user=lead,
                role=AssignmentRole.LEAD,
                assigned_by=actor,
                assigned_at=now,
            )
            for role, users in ((AssignmentRole.CO, co), (AssignmentRole.INFO, info)):
                for user in users:
                    if user.pk != lead.pk:
                        Assignment.objects.create(
                            incoming=incoming,
                            user=user,
                            role=role,
                            assigned_by=actor,
                            assigned_at=now,
                        )
        moved = case_transition(
            case=incoming,
            actor=actor,
            action=action,
            version=version,
            note=note,
            assignee=lead if action == "assign" else None,
        )
        assert isinstance(moved, Incoming)  # noqa: S101
        if action == "finish" and moved.recall == "requested":
            # Done before the recall was answered: it can no longer be given back.
            from tinhso.documents.exchange import status_send

            Incoming.objects.filter(pk=moved.pk).update(recall="refused")
            done = _("The document has been handled already; it cannot be recalled.")
            status_send(moved, "16", description=done, actor=actor, at=now)
        if action == "finish" and moved.due_at is not None:
            late = now > moved.due_at
            rollup_add(
                DocumentRollup,
                agency_id=moved.agency_id,
                at=now,
                counts={"handled_late" if late else "handled_on_time": 1},
            )
    return moved


def recall_answer(*, incoming: Incoming, actor: User, accept: bool, note: str = "") -> Incoming:
    """The clerk answers a recall the sender asked for: accepted (the document leaves every
    box: status 15) or refused with a reason (16)."""
    from tinhso.documents.exchange import status_send

    if CLERK not in case_roles(incoming, actor):
        raise ForbiddenError(_("Only the agency's clerks answer a recall."))
    with transaction.atomic():
        locked = Incoming.objects.select_for_update().get(pk=incoming.pk)
        if locked.recall != "requested":
            raise ConflictError(_("No recall of this document is waiting for an answer."))
        if accept:
            locked = incoming_act(
                incoming=locked,
                actor=actor,
                action="recall_accept",
                version=locked.version,
                note=note,
            )
            Incoming.objects.filter(pk=locked.pk).update(recall="done")
        else:
            if not note.strip():
                raise DomainError(_("Give the reason for refusing the recall."))
            Incoming.objects.filter(pk=locked.pk).update(recall="refused")
            status_send(locked, "16", description=note.strip(), actor=actor, at=timezone.now())
        locked.refresh_from_db()
    return locked


def validation_messages(exc: ValidationError) -> list[str]:
    """A file check's messages, for a form's errors."""
    return [str(m) for m in exc.messages]
