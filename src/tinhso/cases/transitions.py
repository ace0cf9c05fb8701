"""The one way a case moves through its workflow (ADR 0019).

`case_transition` runs in one transaction that checks the action and the actor's role (in
an agency handling the case: accounts.policies), moves the case only if nobody moved it
since the version the actor saw (optimistic locking: the loser gets ConflictError, HTTP
409), keeps the deadlines (the due time is set when the clock starts, from the statutory
time in working days of the subject's calendar; the clock stops in paused states and the
lost working time is added back on resuming; each step gets its share), runs the action's
declared effects (cases.effects), and emits `CaseTransitioned` (core.events): the subject's
history row, its notifications, then the audit entry.

The case's row is the first row a transition locks (its UPDATE); effects lock the rows
hanging from it afterwards (core.locks gives the same order to writers that start from
those rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import ForeignKey
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.accounts.policies import Viewer, roles_in
from tinhso.cases.base import Case
from tinhso.cases.effects import EffectContext, effect_run
from tinhso.cases.graph import Action, Graph
from tinhso.cases.selectors import workflow_graph
from tinhso.cases.subjects import SubjectType, Transitioned, subject_of
from tinhso.core.calendar import (
    Hours,
    add_working_days,
    add_working_time,
    counting_start,
    hours_for,
    working_time_between,
)
from tinhso.core.errors import ConflictError, DomainError, ForbiddenError
from tinhso.core.events import AuditItem, Event, event_emit


class TransitionError(DomainError):
    """The action cannot be taken (422); its subclasses: forbidden (403), conflict (409)."""

    status = 422
    code = "invalid_action"


class TransitionForbiddenError(TransitionError, ForbiddenError):
    status = 403
    code = "forbidden"


class TransitionConflictError(TransitionError, ConflictError):
    status = 409
    code = "conflict"


_GRAPH = "_tinhso_graph"


def graph_of(case: Case) -> Graph:
    """The case's workflow, read once per case object."""
    cached: tuple[str, Graph] | None = getattr(case, _GRAPH, None)
    subject = subject_of(case)
    code = subject.workflow_of(case)
    if cached is None or cached[0] != code:
        cached = (code, workflow_graph(code))
        setattr(case, _GRAPH, cached)
    return cached[1]


def case_ended(case: Case) -> bool:
    """Whether the case rests in a terminal state of its workflow."""
    graph = graph_of(case)
    state = graph.states.get(case.state or graph.start)
    return state is not None and state.terminal


def case_roles(case: Case, user: Viewer) -> set[str]:
    """The roles `user` holds in an agency handling the case now (that very agency)."""
    return roles_in(user, subject_of(case).handling_agency_ids(case))


def is_applicant(case: Case, user: Viewer) -> bool:
    applicant = subject_of(case).applicant_id(case)
    return applicant is not None and getattr(user, "pk", None) == applicant


def case_actions(case: Case, user: Viewer) -> list[Action]:
    """The actions `user` may take on the case now (not those taken by triggers only)."""
    graph = graph_of(case)
    roles = case_roles(case, user)
    applicant = is_applicant(case, user)
    return [
        a for a in graph.actions_from(case.state or graph.start)
        if (applicant and a.applicant) or roles & set(a.roles)
    ]  # fmt: skip


@dataclass(frozen=True)
class CaseTransitioned(Event):
    """A case moved (the event every module's history, notifications and audit read)."""

    kind = "case.transitioned"
    subject: SubjectType
    done: Transitioned
    version: int

    def audit(self) -> AuditItem:
        done = self.done
        return AuditItem(
            actor=done.actor,
            action=f"{self.subject.code}.{done.action}",
            obj=done.case,
            data={"code": str(done.case), "from": done.from_state, "to": done.to_state,
                  "version": self.version},
        )  # fmt: skip


def case_record(event: CaseTransitioned) -> None:
    """The subject's history row and notifications of a move (a CaseTransitioned consumer)."""
    event.subject.record(event.done)
    event.subject.notify(event.done)


def _named(subject: SubjectType, **more: object) -> dict[str, object]:
    """The subject's name within a message's sentence ("this dossier", "this report")."""
    return {"what": str(subject.label) or _("record"), **more}


def case_transition(
    *,
    case: Case,
    actor: User | None,
    action: str,
    version: int,
    note: str = "",
    assignee: User | None = None,
    now: datetime | None = None,
    trigger: str = "",
) -> Case:
    """Take `action` on the case as `actor`, who saw it at `version`. With `trigger`, the
    platform takes the action that answers it (no actor: the bank said the fee was paid);
    `now` is given only when importing historical records."""
    subject = subject_of(case)
    graph = graph_of(case)
    state = case.state or graph.start
    if trigger:
        chosen = graph.triggered(state, trigger)
        if chosen is None:
            raise TransitionConflictError(
                _("This %(what)s is no longer where this action applies (it is %(s)s).")
                % _named(subject, s=subject.status_label(case.status))  # type: ignore[attr-defined]
            )
    else:
        found = graph.actions.get(action)
        if found is None:
            raise TransitionError(_("This workflow has no action %(a)s.") % {"a": action})
        chosen = found
        _check_actor(case, subject, graph, chosen, actor, note, assignee)
    return _move(case, subject, graph, chosen, actor, version, note, assignee, now)


def _check_actor(
    case: Case,
    subject: SubjectType,
    graph: Graph,
    chosen: Action,
    actor: User | None,
    note: str,
    assignee: User | None,
) -> None:
    if chosen.name not in {a.name for a in case_actions(case, actor)}:
        involved = case_roles(case, actor) or is_applicant(case, actor)
        if involved and (case.state or graph.start) not in chosen.sources:
            raise TransitionConflictError(
                _("This %(what)s is no longer where this action applies (it is %(s)s).")
                % _named(subject, s=subject.status_label(case.status))  # type: ignore[attr-defined]
            )
        raise TransitionForbiddenError(
            _("You may not take this action on this %(what)s.") % _named(subject)
        )
    if chosen.note_required and not note.strip():
        raise TransitionError(_("Give the reason for refusing."))
    if chosen.assigns and assignee is not None and chosen.assigns not in case_roles(case, assignee):
        raise TransitionError(_("The assignee does not hold this step's role in this agency."))


def _move(
    case: Case,
    subject: SubjectType,
    graph: Graph,
    chosen: Action,
    actor: User | None,
    version: int,
    note: str,
    assignee: User | None,
    at: datetime | None,
) -> Case:
    model = type(case)
    with transaction.atomic():
        now = at or timezone.now()
        current = graph.states[case.state or graph.start]
        target = graph.states[chosen.target]
        hours = hours_for(subject.calendar_of(case))
        changes: dict[str, Any] = {
            "state": target.name, "status": target.status, "version": version + 1,
        }  # fmt: skip
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            changes["updated_at"] = now
        changes.update(_clock(case, subject, current, target, hours, now))
        if chosen.assigns:
            changes["assignee"] = assignee or (
                actor if chosen.assigns in case_roles(case, actor) else None
            )
        # The case's row first: every transition of this case queues here.
        updated = model._default_manager.filter(pk=case.pk, version=version).update(**changes)
        if updated != 1:
            raise TransitionConflictError(
                _("Someone else changed this %(what)s a moment ago. Reload it and try again.")
                % _named(subject)
            )
        from_status = case.status  # type: ignore[attr-defined]
        previous_step_due = case.step_due_at
        _reload(case)
        context = EffectContext(
            case=case, subject=subject, graph=graph, action=chosen, actor=actor, note=note,
            now=now, argument="",
        )  # fmt: skip
        for effect in chosen.effects:
            effect_run(effect, context)
        event_emit(
            CaseTransitioned(
                subject=subject,
                version=version + 1,
                done=Transitioned(
                    case=case, actor=actor, action=chosen.name, from_state=current.name,
                    to_state=target.name, from_status=from_status, to_status=target.status,
                    note=note.strip()[:2000], at=now, step_due_at=previous_step_due,
                    assignee=getattr(case, "assignee", None) if chosen.assigns else None,
                ),
            )
        )  # fmt: skip
    return case


def _reload(case: Case) -> None:
    """Read the case's row again as this transaction left it, keeping the related rows
    already loaded (its procedure, agency, applicant) whose keys did not change: Django's
    `refresh_from_db` drops them all, and the effects and notifications would read each
    again."""
    kept = [
        (f, f.get_cached_value(case))
        for f in type(case)._meta.concrete_fields
        if isinstance(f, ForeignKey) and f.is_cached(case)
    ]
    case.refresh_from_db()
    for f, related in kept:
        if related is not None and getattr(case, f.attname) == related.pk:
            f.set_cached_value(case, related)


def _clock(
    case: Case, subject: SubjectType, current: Any, target: Any, hours: Hours, now: datetime
) -> dict[str, Any]:
    """The clock's fields after moving from `current` to `target`."""
    changes: dict[str, Any] = {}
    total = hours.day_length * float(subject.time_days(case))
    due_at, step_due_at = case.due_at, case.step_due_at
    if target.status in subject.clock_starts and case.accepted_at is None:
        changes["accepted_at"] = now
        due_at = add_working_days(now, subject.time_days(case), hours)
    if current.paused and not target.paused and case.paused_at is not None:
        lost = working_time_between(case.paused_at, now, hours)
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
    return changes


def working_time_left(case: Case, hours: Hours | None = None) -> timedelta | None:
    """Working time until the due time (negative when late), frozen while paused. Pass the
    calendar's `hours` when computing this for many cases."""
    if case.due_at is None:
        return None
    if hours is None:
        hours = hours_for(subject_of(case).calendar_of(case))
    now = case.paused_at or timezone.now()
    if now <= case.due_at:
        return working_time_between(now, case.due_at, hours)
    return -working_time_between(case.due_at, now, hours)
