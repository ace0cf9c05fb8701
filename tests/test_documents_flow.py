"""Official documents end to end through the services (module documents): a draft reviewed,
sent back, revised, approved and issued with the register's next number, signed by the
leader and sealed; delivered in edXML to another agency of this platform, registered there,
assigned, handled; the sender's trace shows every status; recall."""

from __future__ import annotations

from typing import Any

import pytest

from flows import user
from tinhso.accounts.demo import demo_agency
from tinhso.core.outbox import outbox_deliver_pending
from tinhso.documents.models import (
    Incoming,
    IncomingStatus,
    OutgoingStatus,
    RecipientKind,
    Unit,
)
from tinhso.documents.services import RecipientIn, draft_save, incoming_act, outgoing_act

pytestmark = pytest.mark.django_db


def again(case: Any) -> Any:
    case.refresh_from_db()
    return case


def test_a_document_goes_from_draft_to_the_recipient_and_the_trace_comes_back() -> None:
    stp, snnmt = demo_agency("STP"), demo_agency("SNNMT")
    unit = Unit.objects.get(agency=stp, code="HCTP")
    draft = draft_save(
        actor=user("cv.tuphap"),
        agency=stp,
        unit=unit,
        doc_type="CV",
        subject="Phối hợp rà soát thủ tục hành chính",
        content="Sở Tư pháp đề nghị...\n\nTrân trọng.",
        recipients=[RecipientIn(kind=RecipientKind.AGENCY, name=snnmt.name, agency=snnmt)],
    )
    outgoing_act(outgoing=draft, actor=user("cv.tuphap"), action="submit", version=draft.version)
    draft = again(draft)
    outgoing_act(
        outgoing=draft,
        actor=user("tp.tuphap"),
        action="send_back",
        version=draft.version,
        note="Sửa trích yếu",
    )
    draft = draft_save(
        actor=user("cv.tuphap"),
        agency=stp,
        unit=unit,
        doc_type="CV",
        outgoing=again(draft),
        subject="Phối hợp rà soát TTHC năm 2026",
        content="Sở Tư pháp đề nghị...",
        recipients=[RecipientIn(kind=RecipientKind.AGENCY, name=snnmt.name, agency=snnmt)],
    )
    outgoing_act(outgoing=draft, actor=user("cv.tuphap"), action="submit", version=draft.version)
    draft = again(draft)
    outgoing_act(outgoing=draft, actor=user("tp.tuphap"), action="forward", version=draft.version)
    draft = again(draft)
    outgoing_act(outgoing=draft, actor=user("lanhdao"), action="approve", version=draft.version)
    draft = again(draft)
    outgoing_act(outgoing=draft, actor=user("vanthu.tuphap"), action="issue", version=draft.version)
    draft = again(draft)
    assert draft.status == OutgoingStatus.ISSUED
    assert draft.notation == "1/STP-HCTP"
    assert draft.signed_id is not None
    outbox_deliver_pending()
    incoming = Incoming.objects.get(agency=snnmt, document_id=draft.document_id)
    assert incoming.status == IncomingStatus.ARRIVED
    assert incoming.attachments.count() == 1
    incoming_act(
        incoming=incoming, actor=user("vanthu.nnmt"), action="register", version=incoming.version
    )
    incoming = again(incoming)
    assert incoming.number == 1
    incoming_act(
        incoming=incoming,
        actor=user("lanhdao.nnmt"),
        action="assign",
        version=incoming.version,
        lead=user("cv.nnmt"),
        info=[user("tp.nnmt")],
        days=5,
    )
    incoming = again(incoming)
    assert incoming.due_at is not None
    outbox_deliver_pending()
    trace = [e.code for e in draft.recipients.get().trace.all()]
    assert trace == ["01", "03", "04"], trace
