"""Subject types: what a module tells the workflow engine about its kind of case.

The engine (cases.transitions, cases.inbox) knows states, actions, roles, clocks and
effects; it does not know what a dossier is. A module registers its subject type once (in
its AppConfig.ready) with the answers only it has: its status codes, the roles its
workflows may name, which workflow a case follows, which agencies handle a case now, its
calendar and statutory time, and how its history row and its notifications are written.

    subject_register(SubjectType(code="dossier", model=Dossier, ...))
    subject_of(dossier).handling_agency_ids(dossier)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django_stubs_ext import StrOrPromise

if TYPE_CHECKING:
    from tinhso.accounts.models import User
    from tinhso.cases.base import Case
    from tinhso.cases.graph import State


class BoxKind(StrEnum):
    WORKFLOW = "workflow"  # cases waiting in the states that name the box, for the roles
    #                        that can act there (cases.inbox)
    DUE_SOON = "due_soon"  # open cases with at most one working day left
    OVERDUE = "overdue"  # open cases past their due time
    PAUSED = "paused"  # cases whose clock is stopped


@dataclass(frozen=True)
class Box:
    """An inbox of officials: `slug` as in URLs (`?hop=`), a label, what fills it."""

    slug: str
    label: StrOrPromise
    kind: BoxKind = BoxKind.WORKFLOW


@dataclass(frozen=True)
class Transitioned:
    """What a transition did, for the subject's history row and notifications."""

    case: Case
    actor: User | None
    action: str
    from_state: str
    to_state: str
    from_status: int
    to_status: int
    note: str
    at: datetime
    step_due_at: datetime | None  # the due time of the step this transition completed
    assignee: User | None = None  # whom an assigning action gave the case to


@dataclass(frozen=True)
class SubjectType:
    """A module's kind of case (see the module docstring)."""

    code: str
    model: type[Case]
    # The status codes a workflow state may map to (e.g. the national dossier codes 1–10).
    statuses: frozenset[int]
    # Statuses of cases whose clock no longer runs (ended, or done and waiting to be
    # handed over): never due soon or overdue.
    closed_statuses: frozenset[int]
    # Status codes whose first reaching starts the clock (the due time is set then).
    clock_starts: frozenset[int]
    # The roles its workflows may name (core.roles codes).
    roles: frozenset[str]
    # The officials' boxes, in the order shown (states name the workflow boxes).
    boxes: Sequence[Box]
    # Which workflow (cases.Workflow code) a case follows; the cases following one.
    workflow_of: Callable[[Any], str]
    workflow_q: Callable[[str], Q]
    # The agencies handling the case now (during an inter-agency step: the other agency).
    handling_agency_ids: Callable[[Any], list[int]]
    # The cases these agencies handle: in `state` (or in any state when None).
    handled_q: Callable[[list[int], State | None], Q]
    # The working calendar (core.calendar code) the case's deadlines are counted in; the
    # statutory time in working days, counted from when the clock starts.
    calendar_of: Callable[[Any], str | None]
    time_days: Callable[[Any], Decimal]
    # The cases officials' lists start from (related rows joined, heavy columns left out),
    # and how a box is ordered.
    list_queryset: Callable[[], QuerySet[Any]]
    inbox_order: tuple[str, ...]
    # Writes the case's history row (in the transition's transaction).
    record: Callable[[Transitioned], None]
    # The person the case is about (may take the workflow's applicant actions), if any.
    applicant_id: Callable[[Any], int | None] = lambda case: None
    # Tells the people concerned (in the transaction: notifications leave by the outbox).
    notify: Callable[[Transitioned], None] = lambda done: None
    # The label of a status code, for messages.
    status_label: Callable[[int], str] = str
    label: StrOrPromise = ""
    # The lookup from a case to its calendar's code, for the boxes' queries (the due-soon
    # box compares due times per calendar); blank: every case counts in the default one.
    calendar_field: str = ""
    # The columns a box's rows show (and the API's list items), related ones included
    # ("procedure__name"): a box reads only these, as `cases.inbox.InboxRow`s (light rows,
    # not model instances). Blank: the cases themselves, every column of `list_queryset`.
    inbox_columns: tuple[str, ...] = ()


_SUBJECTS: dict[str, SubjectType] = {}


def subject_register(subject: SubjectType) -> None:
    _SUBJECTS[subject.code] = subject


def subject_get(code: str) -> SubjectType:
    return _SUBJECTS[code]


def subject_of(case: Case) -> SubjectType:
    """The subject type of a case instance (by its model)."""
    for subject in _SUBJECTS.values():
        if isinstance(case, subject.model):
            return subject
    raise LookupError(f"No subject type is registered for {type(case).__name__}.")


def subjects() -> list[SubjectType]:
    return list(_SUBJECTS.values())
