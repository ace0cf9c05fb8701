"""Where documents come into the module's records: an arrived incoming document (from the
exchange or the clerk's scanner) and the files of a document, each with its event. Below the
exchange and the services, which both use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.files import CheckedFile, store
from tinhso.core.rollups import rollup_add
from tinhso.documents.models import (
    Attachment,
    DocType,
    DocumentRollup,
    Incoming,
    Outgoing,
    Source,
    Urgency,
)

FOLDER = "documents"


@dataclass(frozen=True)
class IncomingArrived(Event):
    kind = "document.arrived"
    incoming: Incoming
    actor: User | None

    def audit(self) -> AuditItem:
        i = self.incoming
        return AuditItem(
            actor=self.actor,
            action="document.arrive",
            obj=i,
            data={
                "source": i.source,
                "sender": i.sender_organ_id or i.sender_name,
                "notation": i.notation,
                "document_id": i.document_id,
            },
        )


def keep_files(files: Sequence[CheckedFile], **owner: Outgoing | Incoming) -> None:
    for checked in files:
        Attachment.objects.create(
            name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            storage_name=store(checked, folder=FOLDER),
            **owner,
        )


def incoming_create(
    *,
    agency: Agency,
    source: str,
    sender_name: str,
    notation: str,
    doc_type: str,
    subject: str,
    promulgated_on: date,
    actor: User | None = None,
    sender_organ_id: str = "",
    sender_peer: str = "",
    code_number: str = "",
    content: str = "",
    signer_name: str = "",
    urgency: int = Urgency.NORMAL,
    reply_due: date | None = None,
    document_id: str = "",
    outgoing: Outgoing | None = None,
    files: Sequence[CheckedFile] = (),
    signatures: list[dict[str, object]] | None = None,
    now: datetime | None = None,
) -> Incoming:
    """An arrived document (by the exchange, or a paper one the clerk scanned), waiting to be
    registered. Call inside a transaction."""
    now = now or timezone.now()
    incoming = Incoming.objects.create(
        agency=agency,
        source=source,
        sender_name=sender_name[:255],
        sender_organ_id=sender_organ_id,
        sender_peer=sender_peer,
        code_number=code_number,
        notation=notation[:64],
        doc_type=doc_type if doc_type in DocType.values else DocType.CONG_VAN,
        subject=subject[:1000],
        content=content,
        promulgated_on=promulgated_on,
        signer_name=signer_name[:255],
        urgency=urgency,
        reply_due=reply_due,
        document_id=document_id,
        outgoing=outgoing,
        arrived_at=now,
        state="arrived",
        signatures=signatures or [],
    )
    keep_files(files, incoming=incoming)
    rollup_add(
        DocumentRollup,
        agency_id=agency.pk,
        at=now,
        counts={"received": 1, "received_electronic": int(source == Source.EXCHANGE)},
    )
    event_emit(IncomingArrived(incoming=incoming, actor=actor))
    return incoming
