"""Moving a dossier through its workflow (the back office's one write path).

Every transition runs in one transaction that checks the action and the actor's role,
moves the dossier only if nobody moved it since the version the actor saw (optimistic
locking: the loser gets TransitionConflictError, HTTP 409), keeps the deadlines (due time set
at acceptance from the statutory time in working days; the clock stops while a
supplement or a payment is awaited and the lost working time is added back on resuming;
each step gets its share), and writes the event row, the audit entry and the
notification.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.accounts.selectors import memberships_of
from tinhso.agencies.models import Agency
from tinhso.core import files as dossier_files
from tinhso.core.audit import audit_record
from tinhso.core.calendar import (
    Hours,
    add_working_days,
    add_working_time,
    counting_start,
    hours_for,
    working_time_between,
)
from tinhso.core.errors import DomainError
from tinhso.core.notifications import notify
from tinhso.dossiers.models import (
    DocumentKind,
    Dossier,
    DossierEvent,
    DossierStatus,
    Workflow,
)
from tinhso.dossiers.policy import (
    dossier_roles,
    extendable,
    handling_agency_ids,
    is_applicant,
    may_extend,
)
from tinhso.dossiers.workflow import (
    STANDARD,
    Action,
    Graph,
    workflow_graph,
)


class TransitionError(DomainError):
    """An action refused: not in this workflow, not from this state, missing what it needs
    (422 `invalid_action`)."""

    code = "invalid_action"


class TransitionForbiddenError(TransitionError):
    """The actor may not take this action on this dossier (403)."""

    status = 403
    code = "forbidden"


class TransitionConflictError(TransitionError):
    """Someone acted first: the version sent is not the dossier's (409)."""

    status = 409
    code = "conflict"


def workflow_standard_ensure() -> Workflow:
    """The built-in workflows (made by migrations; made again if a flush removed them)."""
    from tinhso.dossiers.workflow import CRIMINAL_RECORD

    Workflow.objects.get_or_create(
        code="lltp-lien-thong",
        defaults={"name": "Cấp Phiếu lý lịch tư pháp, liên thông Công an tỉnh",
                  "definition": CRIMINAL_RECORD},
    )  # fmt: skip
    workflow, _created = Workflow.objects.get_or_create(
        code="standard", defaults={"name": "Quy trình một cửa chuẩn", "definition": STANDARD}
    )
    return workflow


def allowed_actions(dossier: Dossier, user: Any) -> list[Action]:
    graph = workflow_graph(dossier.procedure.workflow)
    state = dossier.state or graph.start
    roles = dossier_roles(dossier, user)
    applicant = is_applicant(dossier, user)
    return [
        a for a in graph.actions_from(state)
        if (applicant and a.applicant) or roles & set(a.roles)
    ]  # fmt: skip


def dossier_act(
    *,
    dossier: Dossier,
    actor: Any,
    action: str,
    version: int,
    note: str = "",
    assignee: User | None = None,
    now: datetime | None = None,
) -> Dossier:
    """Take `action` on the dossier as `actor`, who saw it at `version`. `now` is given only
    when importing historical records; normally it is the current time."""
    graph = workflow_graph(dossier.procedure.workflow)
    chosen = graph.actions.get(action)
    if chosen is None:
        raise TransitionError(_("This workflow has no action %(a)s.") % {"a": action})
    if chosen.name not in {a.name for a in allowed_actions(dossier, actor)}:
        involved = dossier_roles(dossier, actor) or is_applicant(dossier, actor)
        if involved and (dossier.state or graph.start) not in chosen.sources:
            raise TransitionConflictError(
                _("The dossier is no longer where this action applies (it is %(s)s).")
                % {"s": dossier.get_status_display()}
            )
        raise TransitionForbiddenError(_("You may not take this action on this dossier."))
    if chosen.name == "refuse" and not note.strip():
        raise TransitionError(_("Give the reason for refusing."))
    if (
        chosen.name == "assign"
        and assignee is not None
        and "specialist" not in dossier_roles(dossier, assignee)
    ):
        raise TransitionError(_("The assignee is not a specialist of this agency."))

    written: list[str] = []
    try:
        moved = _act(dossier, actor, graph, chosen, version, note, assignee, written, now)
    except BaseException:
        for name in written:
            dossier_files.remove(name)
        raise
    return moved


# Actions the platform itself takes when something outside happens (no official acts):
# the bank's notification that the fee was paid.
SYSTEM_ACTIONS = frozenset({"paid"})


def dossier_act_system(*, dossier: Dossier, action: str, note: str = "") -> Dossier:
    """Take one of SYSTEM_ACTIONS for the platform (the event has no actor), if the dossier
    is where that action applies; TransitionConflictError otherwise."""
    graph = workflow_graph(dossier.procedure.workflow)
    chosen = graph.actions.get(action)
    if action not in SYSTEM_ACTIONS or chosen is None:
        raise TransitionError(_("This workflow has no action %(a)s.") % {"a": action})
    if (dossier.state or graph.start) not in chosen.sources:
        raise TransitionConflictError(
            _("The dossier is no longer where this action applies (it is %(s)s).")
            % {"s": dossier.get_status_display()}
        )
    written: list[str] = []
    try:
        return _act(dossier, None, graph, chosen, dossier.version, note, None, written, None)
    except BaseException:
        for name in written:
            dossier_files.remove(name)
        raise


# Forms issued by actions (Circular 03/2025/TT-VPCP), signed with the agency's seal.
_FORMS = {
    "accept": DocumentKind.BM01,
    "ask_supplement": DocumentKind.BM02,
    "ask_more": DocumentKind.BM02,
    "refuse": DocumentKind.BM03,
    "withdraw": DocumentKind.STOP,
    "stop": DocumentKind.STOP,
}


def acting_agency(dossier: Dossier, user: Any, role: str) -> Agency | None:
    """The handling agency in which `user` holds `role` (the implementing department
    before the receiving service centre)."""
    ids = handling_agency_ids(dossier)
    for agency_id in reversed(ids):
        for m in memberships_of(user):
            if m.role == role and m.agency_id == agency_id:
                return m.agency
    return None


def _issue_form(
    dossier: Dossier, action: str, actor: Any, note: str, written: list[str], now: datetime
) -> None:
    from tinhso.dossiers import legal_forms
    from tinhso.signing.services import SigningError

    name = getattr(actor, "full_name", "") or getattr(actor, "username", "")
    agency = dossier.receiving_agency
    kind = _FORMS.get(action)
    try:
        if action == "approve":
            _issue_result(dossier, actor, note, written, now)
        elif action == "issue":
            _seal_result(dossier, actor, written, now)
        elif action == "request_payment":
            _request_payment(dossier, actor)
        elif kind is not None and agency is not None:
            if action in ("withdraw", "stop", "refuse"):
                from tinhso.payments.services import payments_cancel_open

                payments_cancel_open(dossier=dossier, reason=action, actor=actor)
            render = _form_renderer(dossier, kind, action, actor, name, note, now)
            legal_forms.issue_signed(
                dossier=dossier, kind=kind, render=render, agency=agency, actor=actor,
                written=written, now=now,
            )  # fmt: skip
    except SigningError as exc:
        raise TransitionError(exc.message) from exc


def _form_renderer(
    dossier: Dossier, kind: str, action: str, actor: Any, name: str, note: str, now: datetime
) -> Any:
    from tinhso.dossiers import legal_forms

    if kind == DocumentKind.BM01:
        return lambda url: legal_forms.render_bm01(
            dossier, receiver_name=name, now=now, verify_url=url
        )
    if kind == DocumentKind.BM02:
        return lambda url: legal_forms.render_bm02(
            dossier, note=note, official_name=name, now=now, verify_url=url
        )
    if kind == DocumentKind.BM03:
        return lambda url: legal_forms.render_bm03(
            dossier, reason=note, official_name=name, now=now, verify_url=url
        )
    by_applicant = getattr(actor, "pk", None) == dossier.applicant_id or action == "withdraw"
    return lambda url: legal_forms.render_stop(
        dossier, reason=note, by_applicant=by_applicant, official_name=name, now=now,
        verify_url=url,
    )  # fmt: skip


def _request_payment(dossier: Dossier, actor: Any) -> None:
    """Status 6: the fee becomes a payment with its VietQR, sent to the applicant."""
    from tinhso.payments.services import PaymentError, payment_request

    try:
        payment_request(dossier=dossier, actor=actor)
    except PaymentError as exc:
        raise TransitionError(exc.message) from exc


def _seal_result(dossier: Dossier, clerk: Any, written: list[str], now: datetime) -> None:
    from tinhso.dossiers import legal_forms

    document = legal_forms.result_document(dossier)
    if document is None or document.signed is None or document.signed.agency is None:
        raise TransitionError(_("The leader has not signed a result for this dossier yet."))
    agency = document.signed.agency
    if not any(m.role == "clerk" and m.agency_id == agency.pk for m in memberships_of(clerk)):
        raise TransitionForbiddenError(
            _("Only a clerk of %(agency)s may seal its result.") % {"agency": agency.name}
        )
    legal_forms.seal_result(document=document, clerk=clerk, written=written, now=now)


def _issue_result(
    dossier: Dossier, leader: Any, note: str, written: list[str], now: datetime
) -> None:
    """On approval the result is rendered and signed with the leader's own certificate,
    for the agency in which they lead; the clerk adds that agency's seal when issuing it."""
    from tinhso.dossiers import legal_forms

    agency = acting_agency(dossier, leader, "leader")
    if agency is None:  # allowed_actions has checked the role; the agency is found too
        raise TransitionForbiddenError(_("You may not take this action on this dossier."))
    title = next(
        (m.title for m in memberships_of(leader) if m.agency_id == agency.pk and m.title), ""
    )
    legal_forms.issue_signed(
        dossier=dossier, kind=DocumentKind.RESULT, agency=agency, actor=leader, personal=leader,
        written=written, now=now,
        render=lambda url: legal_forms.render_result(
            dossier, agency=agency, leader_name=leader.full_name, leader_title=title,
            note=note, now=now, verify_url=url,
        ),
    )  # fmt: skip


def _act(
    dossier: Dossier,
    actor: Any,
    graph: Graph,
    chosen: Action,
    version: int,
    note: str,
    assignee: User | None,
    written: list[str],
    at: datetime | None,
) -> Dossier:
    with transaction.atomic():
        now = at or timezone.now()
        current = graph.states[dossier.state or graph.start]
        target = graph.states[chosen.target]
        hours = hours_for(dossier.receiving_agency.calendar if dossier.receiving_agency else None)
        total = hours.day_length * float(dossier.procedure.time_days)
        changes: dict[str, Any] = {
            "state": target.name, "status": target.status, "version": version + 1,
            "updated_at": now,
        }  # fmt: skip
        due_at, step_due_at = dossier.due_at, dossier.step_due_at
        if target.status == DossierStatus.ACCEPTED and dossier.accepted_at is None:
            changes["accepted_at"] = now
            due_at = add_working_days(now, dossier.procedure.time_days, hours)
        if current.paused and not target.paused and dossier.paused_at is not None:
            lost = working_time_between(dossier.paused_at, now, hours)
            if due_at is not None:
                due_at = add_working_time(due_at, lost, hours)
            changes["paused_at"] = None
        if target.paused and not current.paused:
            changes["paused_at"] = now
        if target.share and due_at is not None:
            step_due_at = add_working_time(counting_start(now, hours), total * target.share, hours)
        if target.terminal:
            step_due_at = None
        changes["due_at"], changes["step_due_at"] = due_at, step_due_at
        if chosen.name == "assign":
            changes["assignee"] = assignee or (
                actor if "specialist" in dossier_roles(dossier, actor) else None
            )
        updated = Dossier.objects.filter(pk=dossier.pk, version=version).update(**changes)
        if updated != 1:
            raise TransitionConflictError(
                _("Someone else changed this dossier a moment ago. Reload it and try again.")
            )
        DossierEvent.objects.create(
            dossier=dossier, actor=actor, action=chosen.name, from_status=dossier.status,
            to_status=target.status, note=note.strip()[:2000], step_due_at=dossier.step_due_at,
            at=now,
        )  # fmt: skip
        previous_status = dossier.status
        dossier.refresh_from_db()
        _issue_form(dossier, chosen.name, actor, note, written, now)
        if target.status != previous_status:
            label = str(DossierStatus(target.status).label)
            notify(
                user=dossier.applicant,
                subject=_("Dossier %(code)s: %(status)s") % {"code": dossier.code, "status": label},
                body=_("Your dossier %(code)s is now: %(status)s.")
                % {"code": dossier.code, "status": label}
                + (f" {note.strip()}" if note.strip() else ""),
            )
        # Last: the audit chain's head is one row every writer locks, so it is held only
        # for the end of the transaction (the PDF above is rendered before it).
        audit_record(
            actor=actor,
            action=f"dossier.{chosen.name}",
            obj=dossier,
            data={"code": dossier.code, "from": current.name, "to": target.name,
                  "version": version + 1},
        )  # fmt: skip
    return dossier


def working_time_left(dossier: Dossier, hours: Hours | None = None) -> timedelta | None:
    """Working time until the due time (negative when late), frozen while paused. Pass the
    calendar's `hours` when computing this for many dossiers."""
    if dossier.due_at is None:
        return None
    if hours is None:
        hours = hours_for(dossier.receiving_agency.calendar if dossier.receiving_agency else None)
    now = dossier.paused_at or timezone.now()
    if now <= dossier.due_at:
        return working_time_between(now, dossier.due_at, hours)
    return -working_time_between(dossier.due_at, now, hours)


def dossier_extend(
    *, dossier: Dossier, official: Any, reason: str, new_due: datetime, version: int
) -> Dossier:
    """Issue BM.04: apologise and set a later due time. Allowed only before the dossier is
    late, while it is processed with its clock running, to its specialist or leader
    (dossiers.policy), with a reason."""
    from tinhso.dossiers import legal_forms
    from tinhso.dossiers.models import DocumentKind
    from tinhso.signing.services import SigningError

    now = timezone.now()
    if not may_extend(dossier, official):
        raise TransitionForbiddenError(
            _("Only the specialist or the leader handling the dossier may extend it.")
        )
    if not reason.strip():
        raise TransitionError(_("Give the reason for the delay."))
    if not extendable(dossier) or dossier.due_at is None:
        raise TransitionError(
            _("Only a dossier being processed, with its clock running, can be extended.")
        )
    if now > dossier.due_at:
        raise TransitionError(
            _(
                "The dossier is already late: the apology and extension must come "
                "before its due time."
            )
        )
    if new_due <= dossier.due_at:
        raise TransitionError(_("The new due time must be later than the current one."))
    written: list[str] = []
    try:
        with transaction.atomic():
            updated = Dossier.objects.filter(pk=dossier.pk, version=version).update(
                version=version + 1, due_at=new_due, warned_for_due=None, updated_at=now
            )
            if updated != 1:
                raise TransitionConflictError(
                    _("Someone else changed this dossier a moment ago. Reload it and try again.")
                )
            name = getattr(official, "full_name", "") or official.get_username()
            agency = dossier.receiving_agency
            assert agency is not None  # noqa: S101 (a dossier with a due time was received)
            try:
                legal_forms.issue_signed(
                    dossier=dossier, kind=DocumentKind.BM04, agency=agency,
                    actor=official, written=written, now=now,
                    render=lambda url: legal_forms.render_bm04(
                        dossier, reason=reason.strip(), new_due=new_due, official_name=name,
                        now=now, verify_url=url,
                    ),
                )  # fmt: skip
            except SigningError as exc:
                raise TransitionError(exc.message) from exc
            DossierEvent.objects.create(
                dossier=dossier, actor=official, action="extend", from_status=dossier.status,
                to_status=dossier.status, note=reason.strip()[:2000], at=now,
            )  # fmt: skip
            audit_record(
                actor=official, action="dossier.extended", obj=dossier,
                data={"code": dossier.code, "from": dossier.due_at.isoformat(),
                      "to": new_due.isoformat()},
            )  # fmt: skip
            notify(
                user=dossier.applicant,
                subject=_("Dossier %(code)s: new due time") % {"code": dossier.code},
                body=_(
                    "We apologise: your dossier %(code)s will be ready by %(due)s. "
                    "Reason: %(reason)s"
                )
                % {
                    "code": dossier.code,
                    "due": timezone.localtime(new_due).strftime("%d/%m/%Y %H:%M"),
                    "reason": reason.strip(),
                },
            )
    except BaseException:
        for stored in written:
            dossier_files.remove(stored)
        raise
    dossier.refresh_from_db()
    return dossier
