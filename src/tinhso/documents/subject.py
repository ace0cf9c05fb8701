"""Official documents on the platform layer: the roles that handle them, their workflows
(stored as data: subjects "outgoing_document" and "incoming_document"), who may see what,
and the history row, notification and status trace of every move. Registered in
DocumentsConfig.ready."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.accounts.policies import Purpose, Viewer, permission_register, purpose_register
from tinhso.cases.models import Workflow
from tinhso.cases.subjects import Box, BoxKind, SubjectType, Transitioned, subject_register
from tinhso.cases.transitions import case_actions, case_roles, is_applicant
from tinhso.core.notifications import notify
from tinhso.core.roles import RoleDef, role_register
from tinhso.documents.models import (
    Assignment,
    Incoming,
    IncomingEvent,
    IncomingStatus,
    Outgoing,
    OutgoingEvent,
    OutgoingStatus,
)
from tinhso.documents.roles import CLERK, DOCUMENT_ROLES, LEADER, SPECIALIST, UNIT_HEAD

ROLES = (
    RoleDef(CLERK, gettext_lazy("Records clerk (văn thư)"), "documents"),
    RoleDef(SPECIALIST, gettext_lazy("Specialist (chuyên viên)"), "documents"),
    RoleDef(UNIT_HEAD, gettext_lazy("Head of unit (trưởng phòng)"), "documents"),
)

OUTGOING_BOXES = (
    Box("xem-xet", gettext_lazy("To review")),
    Box("trinh-ky", gettext_lazy("To sign")),
    Box("phat-hanh", gettext_lazy("To issue")),
)
INCOMING_BOXES = (
    Box("vao-so", gettext_lazy("To register")),
    Box("phan-cong", gettext_lazy("To assign")),
    Box("xu-ly", gettext_lazy("To handle")),
    Box("qua-han", gettext_lazy("Overdue"), BoxKind.OVERDUE),
)

OUTGOING_WORKFLOW = "van-ban-di"
# The specialist drafts and submits; the unit's head reviews (sends it back with a reason
# or forwards it); the leader approves and signs (or sends it back); the clerk issues it
# with the next number of the register and the seal (documents.issue).
OUTGOING: dict[str, Any] = {
    "start": "draft",
    "states": [
        {"name": "draft", "status": 1},
        {"name": "reviewing", "status": 2, "box": "xem-xet"},
        {"name": "approving", "status": 3, "box": "trinh-ky"},
        {"name": "returned", "status": 4},
        {"name": "approved", "status": 5, "box": "phat-hanh"},
        {"name": "issued", "status": 6, "terminal": True},
    ],
    "actions": [
        {"name": "submit", "label": "Trình duyệt", "from": ["draft", "returned"],
         "to": "reviewing", "roles": [SPECIALIST], "applicant": True,
         "exceptional": True},
        {"name": "forward", "label": "Đồng ý, trình lãnh đạo ký", "from": ["reviewing"],
         "to": "approving", "roles": [UNIT_HEAD]},
        {"name": "send_back", "label": "Trả lại", "from": ["reviewing", "approving"],
         "to": "returned", "roles": [UNIT_HEAD, LEADER], "note_required": True},
        {"name": "approve", "label": "Duyệt và ký", "from": ["approving"],
         "to": "approved", "roles": [LEADER]},
        {"name": "issue", "label": "Cấp số, đóng dấu, phát hành", "from": ["approved"],
         "to": "issued", "roles": [CLERK], "effects": ["documents.issue"]},
    ],
}  # fmt: skip

INCOMING_WORKFLOW = "van-ban-den"
# The clerk registers it in the incoming register (or refuses it with a reason); a leader
# assigns it to a lead handler (with co-handlers and readers, and a deadline in working
# days); the handler reports progress and closes it. A recall the sender asks for is
# accepted by the clerk while the document is not done.
INCOMING: dict[str, Any] = {
    "start": "arrived",
    "states": [
        {"name": "arrived", "status": 1, "box": "vao-so"},
        {"name": "registered", "status": 2, "box": "phan-cong"},
        {"name": "assigned", "status": 3, "box": "xu-ly"},
        {"name": "in_progress", "status": 4, "box": "xu-ly"},
        {"name": "done", "status": 5, "terminal": True},
        {"name": "refused", "status": 6, "terminal": True},
        {"name": "recalled", "status": 7, "terminal": True},
    ],
    "actions": [
        {"name": "register", "label": "Vào sổ văn bản đến", "from": ["arrived"],
         "to": "registered", "roles": [CLERK]},
        {"name": "refuse", "label": "Từ chối tiếp nhận", "from": ["arrived"],
         "to": "refused", "roles": [CLERK], "note_required": True},
        {"name": "assign", "label": "Phân công xử lý", "from": ["registered"],
         "to": "assigned", "roles": [LEADER], "assigns": SPECIALIST},
        {"name": "progress", "label": "Báo cáo tiến độ", "from": ["assigned", "in_progress"],
         "to": "in_progress", "roles": [SPECIALIST], "note_required": True},
        {"name": "finish", "label": "Hoàn thành xử lý", "from": ["assigned", "in_progress"],
         "to": "done", "roles": [SPECIALIST], "note_required": True},
        {"name": "recall_accept", "label": "Đồng ý thu hồi",
         "from": ["arrived", "registered", "assigned", "in_progress"], "to": "recalled",
         "roles": [CLERK], "exceptional": True},
    ],
}  # fmt: skip

# The edXML status code each incoming state sends back to the sender (QCVN 102:2016).
STATUS_OF_STATE = {
    "registered": "03",
    "refused": "02",
    "assigned": "04",
    "in_progress": "05",
    "done": "06",
    "recalled": "15",
}


def workflows_ensure() -> None:
    Workflow.objects.get_or_create(
        code=OUTGOING_WORKFLOW,
        defaults={"name": "Văn bản đi", "definition": OUTGOING, "subject": "outgoing_document"},
    )
    Workflow.objects.get_or_create(
        code=INCOMING_WORKFLOW,
        defaults={"name": "Văn bản đến", "definition": INCOMING, "subject": "incoming_document"},
    )


def _outgoing(done: Transitioned) -> Outgoing:
    assert isinstance(done.case, Outgoing)  # noqa: S101 (this subject moves outgoing documents)
    return done.case


def _incoming(done: Transitioned) -> Incoming:
    assert isinstance(done.case, Incoming)  # noqa: S101 (this subject moves incoming documents)
    return done.case


def outgoing_record(done: Transitioned) -> None:
    OutgoingEvent.objects.create(
        outgoing=_outgoing(done),
        actor=done.actor,
        action=done.action,
        from_status=done.from_status,
        to_status=done.to_status,
        note=done.note,
        at=done.at,
    )


def outgoing_notify(done: Transitioned) -> None:
    """The author hears when the draft is sent back, approved or issued."""
    outgoing = _outgoing(done)
    if done.action not in {"send_back", "approve", "issue"}:
        return
    if outgoing.author_id == getattr(done.actor, "pk", None):
        return
    label = str(OutgoingStatus(done.to_status).label)
    body = _("Your draft “%(subject)s” is now: %(status)s.") % {
        "subject": outgoing.subject[:120],
        "status": label,
    }
    if done.note:
        body += f" {done.note}"
    notify(
        user=outgoing.author,
        subject=_("Document: %(status)s") % {"status": label},
        body=body,
        link=f"/can-bo/van-ban/di/{outgoing.pk}/",
    )


def incoming_record(done: Transitioned) -> None:
    """The history row, and the status that travels back to the sender (in the move's
    transaction: the message leaves by the outbox once it commits)."""
    from tinhso.documents.exchange import status_send

    incoming = _incoming(done)
    IncomingEvent.objects.create(
        incoming=incoming,
        actor=done.actor,
        action=done.action,
        from_status=done.from_status,
        to_status=done.to_status,
        note=done.note,
        at=done.at,
    )
    code = STATUS_OF_STATE.get(done.to_state)
    if code is not None and incoming.document_id:
        status_send(incoming, code, description=done.note, actor=done.actor, at=done.at)


def incoming_notify(done: Transitioned) -> None:
    """The lead handler hears of the assignment (co-handlers and readers too)."""
    if done.action != "assign":
        return
    incoming = _incoming(done)
    users = {a.user for a in Assignment.objects.filter(incoming=incoming).select_related("user")}
    if done.assignee is not None:
        users.add(done.assignee)
    for user in users:
        if user is None:
            continue
        notify(
            user=user,
            subject=_("Document assigned: %(notation)s") % {"notation": incoming.notation},
            body=incoming.subject[:300] + (f"\n{done.note}" if done.note else ""),
            link=f"/can-bo/van-ban/den/{incoming.pk}/",
        )


OUTGOING_SUBJECT = SubjectType(
    code="outgoing_document",
    model=Outgoing,
    label=gettext_lazy("document"),
    statuses=frozenset(OutgoingStatus.values),
    closed_statuses=frozenset({OutgoingStatus.ISSUED}),
    clock_starts=frozenset(),
    roles=DOCUMENT_ROLES,
    boxes=OUTGOING_BOXES,
    workflow_of=lambda outgoing: OUTGOING_WORKFLOW,
    workflow_q=lambda code: Q() if code == OUTGOING_WORKFLOW else Q(pk__in=[]),
    handling_agency_ids=lambda outgoing: [outgoing.agency_id],
    handled_q=lambda agency_ids, state: Q(agency_id__in=agency_ids),
    calendar_of=lambda outgoing: outgoing.agency.calendar,
    calendar_field="agency__calendar",
    time_days=lambda outgoing: Decimal(0),
    list_queryset=lambda: Outgoing.objects.select_related("agency", "unit", "author"),
    inbox_order=("updated_at",),
    inbox_columns=(
        "id",
        "status",
        "state",
        "due_at",
        "paused_at",
        "updated_at",
        "doc_type",
        "subject",
        "urgency",
        "author__full_name",
        "notation",
    ),
    record=outgoing_record,
    notify=outgoing_notify,
    applicant_id=lambda outgoing: outgoing.author_id,
    status_label=lambda status: str(OutgoingStatus(status).label),
)

INCOMING_SUBJECT = SubjectType(
    code="incoming_document",
    model=Incoming,
    label=gettext_lazy("incoming document"),
    statuses=frozenset(IncomingStatus.values),
    closed_statuses=frozenset(
        {IncomingStatus.DONE, IncomingStatus.REFUSED, IncomingStatus.RECALLED}
    ),
    clock_starts=frozenset({IncomingStatus.ASSIGNED}),
    roles=DOCUMENT_ROLES,
    boxes=INCOMING_BOXES,
    workflow_of=lambda incoming: INCOMING_WORKFLOW,
    workflow_q=lambda code: Q() if code == INCOMING_WORKFLOW else Q(pk__in=[]),
    handling_agency_ids=lambda incoming: [incoming.agency_id],
    handled_q=lambda agency_ids, state: Q(agency_id__in=agency_ids),
    calendar_of=lambda incoming: incoming.agency.calendar,
    calendar_field="agency__calendar",
    time_days=lambda incoming: Decimal(incoming.handling_days or 10),
    list_queryset=lambda: Incoming.objects.select_related("agency"),
    # First come, first registered: along the (agency, state, arrived_at) index.
    inbox_order=("arrived_at",),
    inbox_columns=(
        "id",
        "status",
        "state",
        "due_at",
        "paused_at",
        "arrived_at",
        "doc_type",
        "subject",
        "urgency",
        "notation",
        "sender_name",
        "number",
    ),
    record=incoming_record,
    notify=incoming_notify,
    applicant_id=lambda incoming: None,
    status_label=lambda status: str(IncomingStatus(status).label),
)


def in_agency(user: Viewer, agency_id: int) -> bool:
    """Whether `user` holds a documents role in that agency itself."""
    from tinhso.accounts.policies import memberships_for

    return any(m.agency_id == agency_id for m in memberships_for(user, "documents.handle"))


def may_read_outgoing(outgoing: Outgoing, user: Viewer) -> bool:
    """The author, and the documents roles of the drafting agency itself (never above it).
    Its recipients read what was issued through their own incoming document."""
    return is_applicant(outgoing, user) or bool(case_roles(outgoing, user) & DOCUMENT_ROLES)


def may_read_incoming(incoming: Incoming, user: Viewer) -> bool:
    """The documents roles of the receiving agency itself (never an agency above it)."""
    return bool(case_roles(incoming, user) & DOCUMENT_ROLES)


# The moves only the lead handler takes (the leader gave the document to them).
HANDLER_MOVES = frozenset({"progress", "finish"})


def incoming_actions(incoming: Incoming, user: Viewer) -> list[Any]:
    """The moves `user` may take on an incoming document now: the workflow's, the lead
    handler's only for the one it was assigned to."""
    return [
        a for a in case_actions(incoming, user)
        if a.name not in HANDLER_MOVES or incoming.assignee_id == getattr(user, "pk", None)
    ]  # fmt: skip


def documents_register() -> None:
    role_register(*ROLES)
    subject_register(OUTGOING_SUBJECT)
    subject_register(INCOMING_SUBJECT)
    purpose_register(
        Purpose("documents.handle", DOCUMENT_ROLES, "documents", label="handle official documents"),
    )
    permission_register(
        "outgoing.read",
        lambda user, o: may_read_outgoing(o, user),
        module="documents",
        record=Outgoing,
    )
    permission_register(
        "incoming.read",
        lambda user, i: may_read_incoming(i, user),
        module="documents",
        record=Incoming,
    )
