"""The officials' inboxes, derived from the workflows (as DIGIT does), not from state names.

A case waiting in a state shows in the box that state names (`"box"` in the workflow) for
the officials who hold, in an agency handling it there, a role of one of the state's
non-exceptional actions: what their roles can act on. When an action of the workflow
assigns cases to a role, the holders of that role see the cases assigned to them and the
unassigned ones (not those assigned to a colleague), except in another agency's step.
Three boxes hold every case the official handles, whatever its state: due within a
working day, overdue, clock stopped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tinhso.accounts.policies import memberships
from tinhso.cases.models import Case, Workflow
from tinhso.cases.subjects import Box, BoxKind, SubjectType
from tinhso.cases.workflow import workflow_graph
from tinhso.core.calendar import hours_memo, working_time_between

BOX_LIMIT = 200


def _role_agencies(user: Any, roles: set[str]) -> dict[str, list[int]]:
    """For each of `roles`, the agencies where `user` holds it."""
    found: dict[str, list[int]] = {}
    for m in memberships(user):
        if m.role in roles:
            found.setdefault(m.role, []).append(m.agency_id)
    return found


def cases_handled(user: Any, subject: SubjectType) -> QuerySet[Any]:
    """Every case of the subject handled by an agency where `user` holds one of the
    subject's roles (that very agency: roles do not reach the agencies below)."""
    ids = sorted({m.agency_id for m in memberships(user) if m.role in subject.roles})
    if not ids:
        return subject.list_queryset().none()
    return subject.list_queryset().filter(subject.handled_q(ids, None))


def _workflow_box_q(user: Any, subject: SubjectType, slug: str) -> Q:
    """The cases waiting in a state that names box `slug`, in an agency where `user`
    holds a role that can act there."""
    held = _role_agencies(user, set(subject.roles))
    condition = Q(pk__in=[])
    for code in Workflow.objects.filter(subject=subject.code).values_list("code", flat=True):
        graph = workflow_graph(code)
        assigned_roles = {a.assigns for a in graph.actions.values() if a.assigns}
        for state in graph.states.values():
            if state.box != slug:
                continue
            for role in sorted(graph.box_roles(state.name) & held.keys()):
                in_state = (
                    subject.workflow_q(code)
                    & Q(state=state.name)
                    & subject.handled_q(held[role], state)
                )
                if role in assigned_roles and not state.inter_agency:
                    in_state &= Q(assignee=user) | Q(assignee__isnull=True)
                condition |= in_state
    return condition


def _box_queryset(user: Any, subject: SubjectType, box: Box) -> QuerySet[Any]:
    base = cases_handled(user, subject)
    now = timezone.now()
    if box.kind == BoxKind.WORKFLOW:
        return subject.list_queryset().filter(_workflow_box_q(user, subject, box.slug))
    if box.kind == BoxKind.PAUSED:
        return base.filter(paused_at__isnull=False)
    open_cases = base.exclude(status__in=subject.closed_statuses).filter(paused_at__isnull=True)
    if box.kind == BoxKind.OVERDUE:
        return open_cases.filter(due_at__lt=now)
    # Due soon: candidates within four calendar days (a working day is never longer).
    return open_cases.filter(due_at__gte=now, due_at__lte=now + timedelta(days=4))


def _due_soon(subject: SubjectType, candidates: QuerySet[Any]) -> list[Case]:
    """Those with at most one working day left (working time needs the calendar)."""
    calendar_hours = hours_memo()  # one calendar load per calendar, not per case
    now = timezone.now()
    soon = []
    for case in candidates.order_by("due_at"):
        hours = calendar_hours(subject.calendar_of(case))
        if working_time_between(now, case.due_at, hours) <= hours.day_length:
            soon.append(case)
    return soon


def box_get(subject: SubjectType, slug: str) -> Box | None:
    return next((b for b in subject.boxes if b.slug == slug), None)


def inbox(user: Any, subject: SubjectType, slug: str) -> list[Any]:
    """The cases of one box for `user`, most urgent first (at most BOX_LIMIT)."""
    box = box_get(subject, slug)
    if box is None:
        return []
    qs = _box_queryset(user, subject, box)
    if box.kind == BoxKind.DUE_SOON:
        return _due_soon(subject, qs)[:BOX_LIMIT]
    return list(qs.order_by(*subject.inbox_order)[:BOX_LIMIT])


def inbox_counts(user: Any, subject: SubjectType) -> dict[str, int]:
    """How many cases each box holds: COUNT queries, not the lists themselves."""
    return {
        box.slug: len(_due_soon(subject, _box_queryset(user, subject, box)))
        if box.kind == BoxKind.DUE_SOON
        else _box_queryset(user, subject, box).count()
        for box in subject.boxes
    }
