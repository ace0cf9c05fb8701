"""The exchange of official documents in edXML (QCVN 102:2016; documents.edxml): every
document leaving or arriving, and every status travelling back, is an edXML message,
validated against the schema kept in the repository on the way out and on the way in.

* Leaving: a message is written into the mailbox (`Message`, direction "out", its XML in the
  file store) in the transaction of the change that makes it, and an outbox row asks for
  its delivery after commit (retried by the outbox). Agencies on this platform receive it
  in-process (`InProcess`); other installations over HTTP (`Http`, documents.api): the
  message is POSTed to the peer, and a peer may also poll the mailbox (pending ids, get,
  confirm received).
* Arriving (`receive`, the same for both transports): size, XML without DTDs or entities,
  the schema; the sender must be one of the peer's organisations (or an agency of this
  platform in-process), a recipient one of ours; the signatures of the attached PDFs must be
  intact. A repeat of a message, or of a document already here (its DocumentId), changes
  nothing and is answered as the first was. A status about a document never sent is refused.

Peers are configured from the environment (settings.TINHSO_EDXML_PEERS): requests between
installations carry an HMAC-SHA256 of their method, path, time and body under the secret
the two share (`request_sign`, `request_check`)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import Membership, User
from tinhso.agencies.models import Agency
from tinhso.core.errors import DomainError
from tinhso.core.files import CheckedFile, read_bytes, store
from tinhso.core.notifications import notify
from tinhso.core.outbox import outbox_put
from tinhso.documents import edxml
from tinhso.documents.files import check_attachment
from tinhso.documents.models import (
    NORMATIVE,
    DocType,
    Incoming,
    IncomingStatus,
    Message,
    MessageKind,
    MessageState,
    Outgoing,
    Recipient,
    RecipientKind,
    Source,
    TraceEntry,
)
from tinhso.documents.records import incoming_create
from tinhso.documents.roles import CLERK

log = logging.getLogger(__name__)

DELIVER = "documents.deliver"
NONCE = re.compile(r"[0-9a-f]{32}")
FOLDER = "edxml"
CLOSED = frozenset({IncomingStatus.DONE, IncomingStatus.REFUSED, IncomingStatus.RECALLED})
MAX_ATTACHMENTS = 20


class ExchangeError(DomainError):
    """A message refused (its status and code say why)."""

    status = 422
    code = "edxml_refused"


# --- peers and organisations ----------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    code: str
    name: str
    url: str
    secret: str
    organs: dict[str, str] = field(default_factory=dict)


# The demo's second province (demo mode only): no server behind it and no secret (nobody can
# sign as it); what is sent to it waits in the mailbox its server would poll.
DEMO_PEER = Peer(
    code="nghean-demo", name="Tỉnh Nghệ An (demo)", url="", secret="",
    organs={
        "000.00.00.H40": "UBND tỉnh Nghệ An",
        "000.00.08.H40": "Sở Tư pháp tỉnh Nghệ An",
        "000.00.16.H40": "Sở Nông nghiệp và Môi trường tỉnh Nghệ An",
    },
)  # fmt: skip


def peers() -> dict[str, Peer]:
    """The installations this one exchanges with (settings.TINHSO_EDXML_PEERS; in demo
    mode also the demo's second province)."""
    found: dict[str, Peer] = {DEMO_PEER.code: DEMO_PEER} if settings.TINHSO_DEMO else {}
    for item in settings.TINHSO_EDXML_PEERS:
        organs = {str(o["id"]): str(o.get("name") or o["id"]) for o in item.get("organs", [])}
        found[item["code"]] = Peer(
            code=item["code"],
            name=item.get("name", item["code"]),
            url=str(item.get("url", "")).rstrip("/"),
            secret=str(item.get("secret", "")),
            organs=organs,
        )
    return found


def peer_of_organ(organ_id: str) -> Peer | None:
    return next((p for p in peers().values() if organ_id in p.organs), None)


def external_organ(organ_id: str) -> tuple[str, str] | None:
    """(id, name) of an organisation of another installation this one exchanges with."""
    peer = peer_of_organ(organ_id)
    return (organ_id, peer.organs[organ_id]) if peer is not None else None


def external_organs() -> list[tuple[str, str, str]]:
    """Every organisation of every peer: (id, name, the peer's name)."""
    return [(i, n, p.name) for p in peers().values() for i, n in p.organs.items()]


def local_agency(organ_id: str) -> Agency | None:
    return Agency.objects.filter(code=organ_id, is_active=True).first()


def organ_of(agency: Agency) -> edxml.Organ:
    return edxml.Organ(
        organ_id=agency.code, name=agency.name, address=agency.address, telephone=agency.phone
    )


# --- signing requests between installations ------------------------------------------------


def _mac(secret: str, method: str, path: str, stamp: str, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    text = f"{method.upper()}\n{path}\n{stamp}\n{nonce}\n{digest}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def request_sign(peer: Peer, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    """The headers that sign a request to `peer` (`path` with its query string): who, when,
    a nonce used once, and the HMAC-SHA256 of all of it and the body."""
    stamp, nonce = str(int(time.time())), secrets.token_hex(16)
    return {
        "X-Edxml-Peer": settings.TINHSO_EDXML_SELF,
        "X-Edxml-Time": stamp,
        "X-Edxml-Nonce": nonce,
        "X-Edxml-Signature": _mac(peer.secret, method, path, stamp, nonce, body),
    }


def request_check(method: str, path: str, headers: dict[str, str], body: bytes) -> Peer:
    """The peer that signed this request; refused (401) otherwise: unknown peer, a time too
    far from ours (a replayed request), a signature that does not match."""
    code = headers.get("X-Edxml-Peer", "")
    peer = peers().get(code)
    stamp = headers.get("X-Edxml-Time", "")
    given = headers.get("X-Edxml-Signature", "")
    refused = ExchangeError(
        _("The request is not signed by a known installation."),
        status=401,
        code="edxml_unauthenticated",
    )
    nonce = headers.get("X-Edxml-Nonce", "")
    if peer is None or not peer.secret or not stamp.isdigit() or not NONCE.fullmatch(nonce):
        raise refused
    if abs(int(stamp) - time.time()) > settings.TINHSO_EDXML_CLOCK_SKEW:
        raise ExchangeError(
            _("The request's time is too far from ours (a replay?)."),
            status=401,
            code="edxml_stale",
        )
    if not hmac.compare_digest(_mac(peer.secret, method, path, stamp, nonce, body), given):
        raise refused
    # Each signed request is taken once: the nonce is kept (in the cache all servers share)
    # for as long as its time could still pass.
    if not cache.add(f"edxml-nonce:{peer.code}:{nonce}", 1, 2 * settings.TINHSO_EDXML_CLOCK_SKEW):
        raise ExchangeError(
            _("This request was received already (a replay)."),
            status=401,
            code="edxml_replayed",
        )
    return peer


# --- transports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What the receiving end answered: accepted, or refused for good (with why)."""

    accepted: bool
    detail: str = ""
    code: str = ""


class Transport(Protocol):
    def send(self, content: bytes) -> Delivery: ...


class InProcess:
    """Agencies on this platform: the message is received here, in its own transaction."""

    def send(self, content: bytes) -> Delivery:
        try:
            receive(content, peer=None)
        except DomainError as exc:
            return Delivery(False, exc.message, exc.code)
        return Delivery(True)


class Http:
    """Another installation: POST /api/v1/edxml/messages, signed. A refusal (4xx) is final;
    anything else (5xx, no answer) raises, and the outbox tries again later."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    def send(self, content: bytes) -> Delivery:
        import json

        path = "/api/v1/edxml/messages"
        headers = request_sign(self.peer, "POST", path, content)
        headers["Content-Type"] = "application/xml"
        request = urllib.request.Request(  # noqa: S310 (the peer's configured https URL)
            self.peer.url + path, data=content, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                answer.read()
            return Delivery(True)
        except urllib.error.HTTPError as exc:
            # 401: our clocks or the shared secret disagree for now (a secret being
            # changed): tried again later, as a timeout or a 5xx is.
            if 400 <= exc.code < 500 and exc.code not in (401, 408, 429):
                try:
                    body = json.loads(exc.read() or b"{}")
                except ValueError:
                    body = {}
                return Delivery(
                    False, str(body.get("detail", exc.reason)), str(body.get("code", ""))
                )
            raise


def transport_for(peer_code: str) -> Transport:
    if not peer_code:
        return InProcess()
    peer = peers().get(peer_code)
    if peer is None:
        raise LookupError(f"no edXML peer {peer_code!r}")
    return Http(peer)


# --- leaving -------------------------------------------------------------------------------


def _keep(content: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(content).hexdigest()
    name = store(
        CheckedFile(
            original_name="message.xml",
            content=content,
            content_type="application/xml",
            extension=".xml",
            sha256=digest,
        ),
        folder=FOLDER,
    )
    return name, digest


def _mailbox(
    *,
    kind: str,
    peer: str,
    from_organ: str,
    to_organ: str,
    document_id: str,
    content: bytes,
    status_code: str = "",
) -> Message:
    """Write a message into the mailbox and ask for its delivery after commit. Its id is
    the digest of its content and its addressee (a status carries no addressee of its own:
    the same recall goes to two recipients as two messages)."""
    name, digest = _keep(content)
    message = Message.objects.create(
        direction="out",
        message_id=hashlib.sha256(to_organ.encode() + b"\n" + content).hexdigest(),
        kind=kind,
        peer=peer,
        from_organ=from_organ,
        to_organ=to_organ,
        document_id=document_id,
        status_code=status_code,
        storage_name=name,
        size=len(content),
        sha256=digest,
        state=MessageState.PENDING,
    )
    outbox_put(topic=DELIVER, payload={"message": message.pk})
    return message


def document_message(outgoing: Outgoing, recipient: Recipient, body: bytes) -> bytes:
    """The edXML of an issued document for one recipient (its signed PDF attached)."""
    from tinhso.documents.models import DocType as Types

    signer = outgoing.signer
    response_for: tuple[edxml.Reference, ...] = ()
    answered = outgoing.response_for
    if answered is not None and answered.document_id:
        response_for = (
            edxml.Reference(
                organ_id=answered.sender_organ_id,
                code=answered.notation,
                promulgation_date=answered.promulgated_on,
                document_id=answered.document_id,
            ),
        )
    business, reason = edxml.Business.NEW, ""
    if outgoing.replaces is not None:
        business, reason = edxml.Business.REPLACE, f"Thay thế văn bản {outgoing.replaces.notation}"
    assert outgoing.issued_on is not None  # noqa: S101
    message = edxml.DocumentMessage(
        sender=organ_of(outgoing.agency),
        recipients=(edxml.Organ(organ_id=recipient.organ_id, name=recipient.name),),
        document_id=outgoing.document_id,
        code_number=str(outgoing.number),
        code_notation=outgoing.notation.split("/", 1)[-1],
        place=outgoing.agency.admin_unit_name or outgoing.agency.name,
        promulgation_date=outgoing.issued_on,
        type_code=1 if outgoing.doc_type in NORMATIVE else 2,
        type_name=str(Types(outgoing.doc_type).label),
        subject=outgoing.subject,
        content=outgoing.content[:20000],
        signer_competence="TM." if outgoing.agency.kind == "peoples_committee" else "",
        signer_position=outgoing.signer_position,
        signer_name=getattr(signer, "full_name", "") or "",
        due_date=outgoing.reply_due,
        to_places=tuple(r.name for r in outgoing.recipients.all()),
        priority=outgoing.urgency,
        response_for=response_for,
        business=business,
        business_reason=reason,
        traces=(edxml.Trace(organ_id=outgoing.agency.code, timestamp=timezone.now()),),
        attachments=(
            edxml.Attachment(
                name=f"{outgoing.notation.replace('/', '_')}.pdf",
                content_type="application/pdf",
                content=body,
                description="Văn bản đã ký số",
            ),
            *(
                edxml.Attachment(
                    name=a.name, content_type=a.content_type, content=read_bytes(a.storage_name)
                )
                for a in outgoing.attachments.all()
            ),
        ),
    )
    return edxml.document_build(message)


def document_send(outgoing: Outgoing) -> int:
    """Send an issued, signed document to each recipient outside the agency (in the
    worker's transaction): one message each. Internal units read it on its page."""
    from tinhso.core.rollups import rollup_add
    from tinhso.documents.models import DocumentRollup
    from tinhso.signing.services import signed_content

    assert outgoing.signed is not None  # noqa: S101 (sent once signed)
    body = signed_content(outgoing.signed)
    sent = 0
    for recipient in outgoing.recipients.exclude(kind=RecipientKind.UNIT):
        peer = ""
        if recipient.kind == RecipientKind.EXTERNAL:
            found = peer_of_organ(recipient.organ_id)
            if found is None:
                log.error(
                    "no peer for organ %s (document %s)", recipient.organ_id, outgoing.document_id
                )
                continue
            peer = found.code
        _mailbox(
            kind=MessageKind.DOCUMENT,
            peer=peer,
            from_organ=outgoing.agency.code,
            to_organ=recipient.organ_id,
            document_id=outgoing.document_id,
            content=document_message(outgoing, recipient, body),
        )
        sent += 1
    if sent:
        rollup_add(
            DocumentRollup,
            agency_id=outgoing.agency_id,
            at=outgoing.issued_at or timezone.now(),
            counts={"issued_electronic": 1},
        )
    return sent


def _staff(actor: User | None) -> tuple[str, str]:
    if actor is None:
        return "", ""
    return getattr(actor, "full_name", "") or actor.get_username(), ""


def status_send(
    incoming: Incoming,
    code: str,
    *,
    description: str = "",
    actor: User | None = None,
    at: datetime | None = None,
) -> Message | None:
    """A status of an incoming document back to its sender (in the change's transaction)."""
    if not incoming.document_id or not incoming.sender_organ_id:
        return None
    staff, department = _staff(actor)
    message = edxml.StatusMessage(
        response_for=edxml.Reference(
            organ_id=incoming.sender_organ_id,
            code=incoming.notation,
            promulgation_date=incoming.promulgated_on,
            document_id=incoming.document_id,
        ),
        sender=organ_of(incoming.agency),
        status_code=code,
        description=description[:2000] or edxml.STATUS_CODES.get(code, ""),
        timestamp=at or timezone.now(),
        staff=staff,
        department=department,
    )
    return _mailbox(
        kind=MessageKind.STATUS,
        peer=incoming.sender_peer,
        from_organ=incoming.agency.code,
        to_organ=incoming.sender_organ_id,
        document_id=incoming.document_id,
        content=edxml.status_build(message),
        status_code=code,
    )


def recall_send(outgoing: Outgoing, *, reason: str, actor: User) -> int:
    """Status 13 (recall requested) to every recipient of an issued document; the trace of
    each says so at once."""
    now = timezone.now()
    staff, department = _staff(actor)
    sent = 0
    assert outgoing.issued_on is not None  # noqa: S101
    for recipient in outgoing.recipients.exclude(kind=RecipientKind.UNIT):
        peer = (
            ""
            if recipient.kind == RecipientKind.AGENCY
            else getattr(peer_of_organ(recipient.organ_id), "code", None)
        )
        if peer is None:
            continue
        message = edxml.StatusMessage(
            response_for=edxml.Reference(
                organ_id=outgoing.agency.code,
                code=outgoing.notation,
                promulgation_date=outgoing.issued_on,
                document_id=outgoing.document_id,
            ),
            sender=organ_of(outgoing.agency),
            status_code="13",
            description=reason[:2000],
            timestamp=now,
            staff=staff,
            department=department,
        )
        _mailbox(
            kind=MessageKind.STATUS,
            peer=peer,
            from_organ=outgoing.agency.code,
            to_organ=recipient.organ_id,
            document_id=outgoing.document_id,
            content=edxml.status_build(message),
            status_code="13",
        )
        _trace(recipient, "13", reason, now, staff=staff)
        sent += 1
    return sent


def deliver(payload: dict[str, Any]) -> None:
    """The outbox's delivery of one message. Accepted: delivered. Refused by the receiver:
    failed, and a document's trace at that recipient says why (as a status 02 would)."""
    message = Message.objects.filter(pk=payload["message"], direction="out").first()
    if message is None or message.state != MessageState.PENDING:
        return
    content = read_bytes(message.storage_name)
    known = peers().get(message.peer) if message.peer else None
    if known is not None and not known.url:
        return  # a peer that only polls (no URL): the message waits in its mailbox
    answer = transport_for(message.peer).send(content)
    now = timezone.now()
    Message.objects.filter(pk=message.pk, state=MessageState.PENDING).update(
        state=MessageState.DELIVERED if answer.accepted else MessageState.FAILED,
        delivered_at=now,
        attempts=message.attempts + 1,
        error=answer.detail[:2000],
    )
    if not answer.accepted:
        log.warning(
            "edXML message %s refused by %s: %s",
            message.pk,
            message.peer or "this platform",
            answer.detail,
        )
        if message.kind == MessageKind.DOCUMENT:
            for recipient in Recipient.objects.filter(
                outgoing__document_id=message.document_id, organ_id=message.to_organ
            ):
                _trace(recipient, "02", answer.detail or _("Refused by the receiving system."), now)


# --- arriving ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    kind: str
    repeat: bool
    document_id: str
    incoming: tuple[int, ...] = ()


def _parsed(content: bytes) -> edxml.DocumentMessage | edxml.StatusMessage:
    try:
        return edxml.parse(content, max_bytes=settings.TINHSO_EDXML_MAX_BYTES)
    except edxml.EdxmlError as exc:
        status = {"too_large": 413, "unsupported": 422, "invalid": 422}.get(exc.code, 400)
        raise ExchangeError(exc.message, status=status, code=f"edxml_{exc.code}") from exc


def _check_sender(organ_id: str, peer: Peer | None) -> None:
    if peer is None:
        if local_agency(organ_id) is None:
            raise ExchangeError(
                _("The sender %(organ)s is not an agency of this platform.") % {"organ": organ_id},
                status=403,
                code="edxml_forged_sender",
            )
    elif organ_id not in peer.organs:
        raise ExchangeError(
            _("The sender %(organ)s is not one of %(peer)s's organisations.")
            % {"organ": organ_id, "peer": peer.name},
            status=403,
            code="edxml_forged_sender",
        )


def _attachments(
    message: edxml.DocumentMessage,
) -> tuple[list[CheckedFile], list[dict[str, object]]]:
    """The attachments checked by content, and the signatures of the PDFs among them: a
    broken signature refuses the message."""
    from tinhso.signing.verify import pdf_verify

    files: list[CheckedFile] = []
    found: list[dict[str, object]] = []
    for attachment in message.attachments:
        try:
            checked = check_attachment(None, name=attachment.name, content=attachment.content)
        except ValidationError as exc:
            raise ExchangeError(
                " ".join(str(m) for m in exc.messages), code="edxml_attachment"
            ) from exc
        files.append(checked)
        if checked.content_type != "application/pdf":
            continue
        report = pdf_verify(checked.content)
        for s in report.signatures:
            if s.broken or not s.intact or s.changed_after:
                raise ExchangeError(
                    _(
                        "The signature %(field)s of %(name)s is broken: the file was changed "
                        "after it was signed."
                    )
                    % {"field": s.field_name, "name": attachment.name},
                    code="edxml_broken_signature",
                )
            found.append(
                {
                    "file": attachment.name,
                    "signer": s.signer,
                    "organisation": s.organisation,
                    "kind": s.kind,
                    "ok": s.ok,
                    "trusted": s.trusted,
                    "signed_at": s.signed_at.isoformat() if s.signed_at else "",
                }
            )
    return files, found


def _sender_name(organ_id: str, peer: Peer | None) -> str:
    """The sender's name as this installation knows it (never the name a message claims):
    the peer's configured organisation, or the agency of this platform."""
    if peer is not None:
        return peer.organs.get(organ_id, organ_id)
    agency = local_agency(organ_id)
    return agency.name if agency is not None else organ_id


def _document_arrived(
    message: edxml.DocumentMessage,
    peer: Peer | None,
    checked: tuple[list[CheckedFile], list[dict[str, object]]],
) -> tuple[bool, tuple[int, ...]]:
    _check_sender(message.sender.organ_id, peer)
    ours = [(organ, local_agency(organ.organ_id)) for organ in message.recipients]
    targets = [agency for _organ, agency in ours if agency is not None]
    if not targets:
        raise ExchangeError(
            _("None of the recipients is an organisation of this platform."),
            status=404,
            code="edxml_unknown_organ",
        )
    # A document is one sender's: another sender's document with the same id is another
    # document (nobody can take a document id another sender will use).
    existing = {
        i.agency_id: i.pk
        for i in Incoming.objects.filter(
            agency__in=targets, sender_organ_id=message.sender.organ_id,
            document_id=message.document_id,
        )
    }  # fmt: skip
    if len(existing) == len(targets):
        return True, tuple(existing.values())
    files, signatures = checked
    source_doc = None
    if peer is None:
        source_doc = Outgoing.objects.filter(document_id=message.document_id).first()
    type_code = next((t.value for t in DocType if t.label == message.type_name), DocType.CONG_VAN)
    made: list[int] = list(existing.values())
    for agency in targets:
        if agency.pk in existing:
            continue
        try:
            with transaction.atomic():
                incoming = incoming_create(
                    agency=agency,
                    source=Source.EXCHANGE,
                    sender_name=_sender_name(message.sender.organ_id, peer),
                    sender_organ_id=message.sender.organ_id,
                    sender_peer=peer.code if peer is not None else "",
                    code_number=message.code_number,
                    notation=f"{message.code_number}/{message.code_notation}".strip("/"),
                    doc_type=type_code,
                    subject=message.subject,
                    content=message.content,
                    promulgated_on=message.promulgation_date,
                    signer_name=message.signer_name,
                    urgency=min(max(message.priority, 0), 3),
                    reply_due=message.due_date,
                    document_id=message.document_id,
                    outgoing=source_doc,
                    files=files,
                    signatures=signatures,
                )
        except IntegrityError:
            # Another delivery of the same document won the race: it is here once.
            continue
        status_send(incoming, "01", description=edxml.STATUS_CODES["01"])
        for clerk in _clerks(agency):
            notify(
                user=clerk,
                subject=_("A document arrived: %(n)s") % {"n": incoming.notation},
                body=incoming.subject[:300],
                link=f"/can-bo/van-ban/den/{incoming.pk}/",
            )
        made.append(incoming.pk)
    return False, tuple(made)


def _clerks(agency: Agency) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            agency=agency, role=CLERK, is_active=True
        ).select_related("user")
    ]


def _trace(
    recipient: Recipient,
    code: str,
    description: str,
    at: datetime,
    *,
    staff: str = "",
    department: str = "",
) -> bool:
    """Add a status to a recipient's trace once (the same code at the same time is the same
    status); the latest status is the one with the latest time, whatever order they come."""
    _entry, created = TraceEntry.objects.get_or_create(
        recipient=recipient,
        code=code,
        at=at,
        defaults={
            "description": description[:2000],
            "staff": staff[:255],
            "department": department[:255],
        },
    )
    if created and (recipient.last_status_at is None or at >= recipient.last_status_at):
        Recipient.objects.filter(pk=recipient.pk).update(last_status=code, last_status_at=at)
        recipient.last_status, recipient.last_status_at = code, at
    return created


def _status_arrived(message: edxml.StatusMessage, peer: Peer | None) -> bool:
    """A status from a recipient (01–06, 15, 16) onto the sender's trace, or a recall asked
    by the sender (13) onto the recipient's document. Returns whether it was a repeat."""
    _check_sender(message.sender.organ_id, peer)
    ref = message.response_for
    if message.status_code == "13":
        incoming = Incoming.objects.filter(
            document_id=ref.document_id,
            sender_organ_id=message.sender.organ_id,
            sender_peer=peer.code if peer is not None else "",
        ).select_related("agency")
        # Locked: a clerk finishing it at this moment either finishes first (then it is
        # answered 16 here) or waits for the recall to be marked.
        found = list(incoming.select_for_update(of=("self",)))
        if not found:
            raise ExchangeError(
                _("No document %(id)s from this sender was received here.")
                % {"id": ref.document_id},
                status=404,
                code="edxml_unknown_document",
            )
        repeat = True
        for item in found:
            if item.recall in ("requested", "done"):
                continue  # asked already (a repeat), or given back
            repeat = False
            if item.status in CLOSED:
                Incoming.objects.filter(pk=item.pk).update(recall="refused")
                status_send(
                    item,
                    "16",
                    description=_("The document has been handled already; it cannot be recalled."),
                )
                continue
            Incoming.objects.filter(pk=item.pk).update(
                recall="requested", recall_reason=message.description
            )
            for clerk in _clerks(item.agency):
                notify(
                    user=clerk,
                    subject=_("Recall asked: %(n)s") % {"n": item.notation},
                    body=message.description[:300],
                    link=f"/can-bo/van-ban/den/{item.pk}/",
                )
        return repeat
    outgoing = Outgoing.objects.filter(
        document_id=ref.document_id, agency__code=ref.organ_id
    ).first()
    recipient = None
    if outgoing is not None:
        recipient = outgoing.recipients.filter(organ_id=message.sender.organ_id).first()
    if outgoing is None or recipient is None:
        raise ExchangeError(
            _("No document %(id)s was sent from here to %(organ)s.")
            % {"id": ref.document_id, "organ": message.sender.organ_id},
            status=404,
            code="edxml_unknown_document",
        )
    created = _trace(
        recipient,
        message.status_code,
        message.description,
        message.timestamp,
        staff=message.staff,
        department=message.department,
    )
    if created and message.status_code in ("15", "16") and outgoing.recall == "requested":
        # Every recipient has answered (or never had it): given back if any gave it back.
        answers = {r.last_status for r in outgoing.recipients.exclude(kind=RecipientKind.UNIT)}
        if answers <= {"15", "16", "02"}:
            Outgoing.objects.filter(pk=outgoing.pk).update(
                recall="done" if "15" in answers else "refused"
            )
    return not created


def receive(content: bytes, *, peer: Peer | None) -> Received:
    """Take one edXML message in (one transaction): see the module's docstring."""
    parsed = _parsed(content)
    digest = hashlib.sha256(content).hexdigest()
    checked: tuple[list[CheckedFile], list[dict[str, object]]] = ([], [])
    if isinstance(parsed, edxml.DocumentMessage):
        if len(parsed.attachments) > MAX_ATTACHMENTS:
            raise ExchangeError(
                _("A message may carry at most %(n)d attachments.") % {"n": MAX_ATTACHMENTS},
                code="edxml_attachments",
            )
        # Files and signatures are checked before the transaction opens (the slow part).
        checked = _attachments(parsed)
    with transaction.atomic():
        kept = Message.objects.filter(
            direction="in", peer=peer.code if peer else "", message_id=digest
        ).first()
        if kept is not None:
            return Received(kind=kept.kind, repeat=True, document_id=kept.document_id)
        if isinstance(parsed, edxml.DocumentMessage):
            repeat, made = _document_arrived(parsed, peer, checked)
            kind, document_id, sender = MessageKind.DOCUMENT, parsed.document_id, parsed.sender
            to_organ, code = parsed.recipients[0].organ_id, ""
        else:
            repeat, made = _status_arrived(parsed, peer), ()
            kind, document_id, sender = (
                MessageKind.STATUS,
                parsed.response_for.document_id,
                parsed.sender,
            )
            to_organ, code = parsed.response_for.organ_id, parsed.status_code
        name, _digest = _keep(content)
        Message.objects.create(
            direction="in",
            message_id=digest,
            kind=kind,
            peer=peer.code if peer else "",
            from_organ=sender.organ_id,
            to_organ=to_organ,
            document_id=document_id,
            status_code=code,
            storage_name=name,
            size=len(content),
            sha256=digest,
            state=MessageState.RECEIVED,
            delivered_at=timezone.now(),
        )
    return Received(kind=kind, repeat=repeat, document_id=document_id, incoming=made)


# --- the mailbox a peer polls -------------------------------------------------------------


def mailbox_pending(peer: Peer, limit: int = 100) -> list[str]:
    return list(
        Message.objects.filter(direction="out", peer=peer.code, state=MessageState.PENDING)
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)[:limit]
    )


def mailbox_get(peer: Peer, message_id: str) -> bytes:
    message = Message.objects.filter(direction="out", peer=peer.code, message_id=message_id).first()
    if message is None:
        raise ExchangeError(_("No such message."), status=404, code="not_found")
    return read_bytes(message.storage_name)


def mailbox_confirm(peer: Peer, message_id: str) -> bool:
    updated = Message.objects.filter(
        direction="out", peer=peer.code, message_id=message_id, state=MessageState.PENDING
    ).update(state=MessageState.DELIVERED, delivered_at=timezone.now())
    if (
        not updated
        and not Message.objects.filter(
            direction="out", peer=peer.code, message_id=message_id
        ).exists()
    ):
        raise ExchangeError(_("No such message."), status=404, code="not_found")
    return bool(updated)


def traces_for(peer: Peer, document_id: str) -> list[dict[str, str]]:
    """The statuses this installation sent back about a document `peer` sent it."""
    rows = Message.objects.filter(
        direction="out", peer=peer.code, kind=MessageKind.STATUS, document_id=document_id
    ).order_by("created_at", "id")
    return [
        {
            "organ_id": m.from_organ,
            "code": m.status_code,
            "label": edxml.STATUS_CODES.get(m.status_code, ""),
            "at": m.created_at.isoformat(),
        }
        for m in rows
    ]


def _call(peer: Peer, method: str, path: str, body: bytes = b"") -> bytes:
    """One signed request to a peer; its answer's body."""
    request = urllib.request.Request(  # noqa: S310 (the peer's configured URL)
        peer.url + path,
        data=body if method == "POST" else None,
        method=method,
        headers=request_sign(peer, method, path, body),
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return bytes(answer.read())


def poll(peer: Peer) -> int:
    """Pull what `peer` holds for us (pending ids, get, receive, confirm): the way in when
    its pushes cannot reach this installation. Returns how many messages were taken."""
    import json

    taken = 0
    for message_id in json.loads(_call(peer, "GET", "/api/v1/edxml/pending"))["ids"]:
        content = _call(peer, "GET", f"/api/v1/edxml/messages/{message_id}")
        try:
            receive(content, peer=peer)
        except ExchangeError as exc:
            log.warning("edXML message %s from %s refused: %s", message_id, peer.code, exc.message)
        _call(peer, "POST", f"/api/v1/edxml/messages/{message_id}/received")
        taken += 1
    return taken
