"""The other installation of tests/test_documents_exchange.py: what its officials and its
worker do, run in its own process (`tinhso shell -c`, its own settings and database). Each
function prints one line, `RESULT <json>`, that the test reads."""

from __future__ import annotations

import json
from typing import Any

MARK = "RESULT "

# The other installation is seeded with the same demo province; its Sở Tư pháp takes a code
# of its own (as another province's would be), so no organisation is on both sides.
CODE = "000.00.04.H40"
NAME = "Sở Tư pháp tỉnh B"


def _out(value: Any) -> None:
    print(MARK + json.dumps(value, default=str), flush=True)


def setup() -> None:
    from django.core.management import call_command

    from tinhso.accounts.demo import demo_agency
    from tinhso.agencies.models import Agency
    from tinhso.core.demo import demo_seed

    call_command("migrate", interactive=False, verbosity=0)
    demo_seed(dossiers=False)
    Agency.objects.filter(pk=demo_agency("STP").pk).update(code=CODE, name=NAME)
    _out({"code": CODE, "name": NAME})


def deliver() -> None:
    """The worker's run: the outbox's messages leave (over HTTP to the other side)."""
    from tinhso.core.outbox import outbox_deliver_pending

    _out({"delivered": outbox_deliver_pending()})


def _incoming(document_id: str) -> Any:
    from tinhso.accounts.demo import demo_agency
    from tinhso.documents.models import Incoming

    return Incoming.objects.get(agency=demo_agency("STP"), document_id=document_id)


def state(document_id: str) -> None:
    """What arrived here about a document, and every edXML message kept here, each
    validated against the schema."""
    from tinhso.core.files import read_bytes
    from tinhso.documents import edxml
    from tinhso.documents.models import Incoming, IncomingStatus, Message

    invalid = []
    messages = []
    for m in Message.objects.order_by("id"):
        try:
            edxml.validate(read_bytes(m.storage_name))
        except edxml.EdxmlError as exc:
            invalid.append(f"{m.pk}: {exc}")
        messages.append(
            {
                "direction": m.direction,
                "kind": m.kind,
                "peer": m.peer,
                "document_id": m.document_id,
                "status_code": m.status_code,
                "state": m.state,
            }
        )
    found = Incoming.objects.filter(document_id=document_id).order_by("id")
    incoming = [
        {
            "pk": i.pk,
            "agency": i.agency.code,
            "status": IncomingStatus(i.status).name.lower(),
            "recall": i.recall,
            "number": i.number,
            "sender_organ_id": i.sender_organ_id,
            "sender_peer": i.sender_peer,
            "notation": i.notation,
            "attachments": [
                (a.name, a.content_type, len(read_bytes(a.storage_name)))
                for a in i.attachments.all()
            ],
        }
        for i in found
    ]
    _out({"incoming": incoming, "messages": messages, "invalid": invalid})


def act(document_id: str, action: str) -> None:
    """The clerk registers (03), the leader assigns (04), the clerk accepts a recall (15);
    nothing is delivered here (the worker's run is `deliver`, or the other side polls)."""
    from tinhso.accounts.models import User
    from tinhso.documents.models import IncomingStatus
    from tinhso.documents.services import incoming_act, recall_answer

    def user(name: str) -> Any:
        return User.objects.get(username=name)

    incoming = _incoming(document_id)
    if action == "register":
        incoming_act(
            incoming=incoming, actor=user("vanthu.tuphap"), action="register",
            version=incoming.version,
        )  # fmt: skip
    elif action == "assign":
        incoming_act(
            incoming=incoming, actor=user("lanhdao"), action="assign", version=incoming.version,
            lead=user("cv.tuphap"), info=[user("tp.tuphap")], days=5,
        )  # fmt: skip
    elif action == "recall_accept":
        recall_answer(incoming=incoming, actor=user("vanthu.tuphap"), accept=True, note="Đã hủy")
    else:
        raise ValueError(action)
    incoming.refresh_from_db()
    _out({"status": IncomingStatus(incoming.status).name.lower(), "recall": incoming.recall})
