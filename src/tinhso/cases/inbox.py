"""The officials' inboxes, derived from the workflows (as DIGIT does), not from state names.

A case waiting in a state shows in the box that state names (`"box"` in the workflow) for
the officials who hold, in an agency handling it there, a role of one of the state's
non-exceptional actions: what their roles can act on. When an action of the workflow
assigns cases to a role, the holders of that role see the cases assigned to them and the
unassigned ones (not those assigned to a colleague), except in another agency's step.
Three boxes hold every case the official handles, whatever its state: due within a
working day, overdue, clock stopped; each is one query with its bounds in SQL (due soon
compares the due time with each calendar's "one working day from now").

A box's count is exact up to COUNT_LIMIT and says "over" that beyond it: counting stops
there, so the counts of the eight boxes cost one statement whose work is bounded however
many cases wait in them (a commune with a decade of unreturned results, issue 15). The
exact stocks of an agency (in progress, paused, overdue) are the figures' (rollups).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tinhso.accounts.policies import Viewer, memberships
from tinhso.cases.graph import Graph, State
from tinhso.cases.selectors import workflow_graphs
from tinhso.cases.subjects import Box, BoxKind, SubjectType
from tinhso.core.calendar import hours_all, working_day_left_until
from tinhso.core.words import grouped

BOX_LIMIT = 200
# Counting a box stops past this many cases (the count then says "over 1,000").
COUNT_LIMIT = 1000


class BoxCount(int):
    """How many cases a box holds: exact up to COUNT_LIMIT; past it, the limit with `more`
    set. An int (the pages compare it, add it, test it), shown by `label`."""

    more: bool

    def __new__(cls, value: int, more: bool = False) -> BoxCount:
        count = super().__new__(cls, value)
        count.more = more
        return count

    @property
    def label(self) -> str:
        """As a tab shows it: "12", or "over 1,000" ("hơn 1.000" in Vietnamese)."""
        shown = count_shown(int(self))
        return _("over %(n)s") % {"n": shown} if self.more else shown


def count_shown(n: int) -> str:
    """A count grouped as the page's language writes it: "1.000" in Vietnamese (whose
    Django format sets no grouping), "1,000" in English."""
    if (get_language() or "").startswith("vi"):
        return grouped(n)
    return number_format(n, force_grouping=True)


class InboxLook:
    """One official's look at one subject's boxes: their roles and agencies, the subject's
    workflows and the filters built from them, each read or built once however many boxes
    are counted (the inbox page counts all eight)."""

    def __init__(self, user: Viewer, subject: SubjectType) -> None:
        self.user, self.subject = user, subject
        self.held: dict[str, list[int]] = {}
        for m in memberships(user):
            if m.role in subject.roles:
                self.held.setdefault(m.role, []).append(m.agency_id)
        self._graphs: dict[str, Graph] | None = None
        self._handled: dict[tuple[tuple[int, ...], str | None], Q] = {}

    def graphs(self) -> dict[str, Graph]:
        if self._graphs is None:
            self._graphs = workflow_graphs(self.subject.code)
        return self._graphs

    def handled(self, agency_ids: list[int], state: State | None) -> Q:
        """subject.handled_q, built once per agency set and kind of state (a state of
        another agency's step, or any other)."""
        kind = None if state is None else (state.name if state.inter_agency else "")
        key = (tuple(sorted(set(agency_ids))), kind)
        if key not in self._handled:
            self._handled[key] = self.subject.handled_q(list(key[0]), state)
        return self._handled[key]

    def all_handled(self) -> QuerySet[Any]:
        """Every case of the subject handled by an agency where the user holds one of its
        roles (that very agency: roles do not reach the agencies below)."""
        ids = sorted({i for ids in self.held.values() for i in ids})
        if not ids:
            return self.subject.list_queryset().none()
        return self.subject.list_queryset().filter(self.handled(ids, None))

    def workflow_arms(self, slug: str) -> list[Q]:
        """The cases waiting in a state that names box `slug`, in an agency where the user
        holds a role that can act there, as a list of conditions whose union they are
        (each state and role, each way an agency handles it). A (state, role) pair that
        every workflow of the subject shares needs no condition on the workflow (no join
        to find it)."""
        graphs = self.graphs()
        # (state name, role, assigned, the other agency of its step) → the workflows where
        # it holds, and one of its states (what the handling agencies depend on).
        pairs: dict[tuple[str, str, bool, str], set[str]] = {}
        states: dict[tuple[str, str, bool, str], State] = {}
        for code, graph in graphs.items():
            assigned_roles = {a.assigns for a in graph.actions.values() if a.assigns}
            for state in graph.states.values():
                if state.box != slug:
                    continue
                for role in graph.box_roles(state.name) & self.held.keys():
                    key = (state.name, role, role in assigned_roles, state.inter_agency)
                    pairs.setdefault(key, set()).add(code)
                    states.setdefault(key, state)
        arms: list[Q] = []
        for key, codes in sorted(pairs.items()):
            name, role, assigned, _other = key
            state = states[key]
            in_state = Q(state=name)
            if codes != graphs.keys():
                workflows = Q(pk__in=[])
                for code in sorted(codes):
                    workflows |= self.subject.workflow_q(code)
                in_state &= workflows
            if assigned and not state.inter_agency:
                in_state &= Q(assignee=self.user) | Q(assignee__isnull=True)
            arms += [in_state & part for part in _parts(self.handled(self.held[role], state))]
        return arms

    def arms(self, box: Box) -> list[Q]:
        """Conditions whose union is the box (an empty list: nothing): one for each way the
        user's agencies handle a case (received it, implement its procedure, hold its
        inter-agency step), so that each can be read along its own index."""
        if box.kind == BoxKind.WORKFLOW:
            return self.workflow_arms(box.slug)
        ids = sorted({i for ids in self.held.values() for i in ids})
        if not ids:
            return []
        if box.kind == BoxKind.PAUSED:
            kind = Q(paused_at__isnull=False)
        else:
            now = timezone.now()
            kind = ~Q(status__in=self.subject.closed_statuses) & Q(paused_at__isnull=True)
            if box.kind == BoxKind.OVERDUE:
                kind &= Q(due_at__lt=now)
            else:
                # Due soon: at most one working day left, compared in the query. Four
                # calendar days bound it for the index (a working day is never longer),
                # the calendar's own bound (one working day after now, per calendar)
                # decides.
                kind &= due_soon_q(self.subject, now) & Q(
                    due_at__gte=now, due_at__lte=now + timedelta(days=4)
                )
        return [part & kind for part in _parts(self.handled(ids, None))]

    def counts(self) -> dict[str, BoxCount]:
        """How many cases each box holds (BoxCount: exact up to COUNT_LIMIT), every box in
        one statement. Each way into a box (an arm, read along its own index) gives at most
        COUNT_LIMIT + 1 keys and their union is counted: a case two arms find counts once,
        and an arm past the limit puts its box past it, so the count is exact whenever it
        is at most the limit, and no box reads more than COUNT_LIMIT + 1 keys per arm."""
        found = {box.slug: BoxCount(0) for box in self.subject.boxes}
        slugs: list[str] = []
        selects: list[str] = []
        params: list[Any] = []
        database = self.subject.list_queryset().db
        for box in self.subject.boxes:
            arms = self.arms(box)
            if not arms:
                continue
            parts: list[str] = []
            for arm in arms:
                keys = self.subject.list_queryset().filter(arm).order_by().values_list("pk")
                compiler = keys[: COUNT_LIMIT + 1].query.get_compiler(using=database)
                try:
                    sql, arm_params = compiler.as_sql()
                except EmptyResultSet:  # an arm that can match nothing
                    continue
                # The ORM's own SQL for the arm, its values bound as parameters.
                parts.append(f"SELECT * FROM ({sql}) arm{len(parts)}")  # noqa: S608
                params += arm_params
            if not parts:
                continue
            slugs.append(box.slug)
            selects.append(f"(SELECT COUNT(*) FROM ({' UNION '.join(parts)}) box)")  # noqa: S608
        if selects:
            with connections[database].cursor() as cursor:
                cursor.execute(f"SELECT {', '.join(selects)}", params)
                row = cursor.fetchone()
            for slug, n in zip(slugs, row, strict=True):
                found[slug] = BoxCount(min(n, COUNT_LIMIT), more=n > COUNT_LIMIT)
        return found

    def rows(self, slug: str) -> list[Any]:
        """The cases of one box, most urgent first (at most BOX_LIMIT; undated last). With
        several ways to handle a case (a department receives some and implements the
        procedures of others), each way's first BOX_LIMIT keys are read along its own index
        and merged here, then the rows of the first BOX_LIMIT: one query with OR would walk
        the whole table in due order, filtering (issue 15)."""
        box = box_get(self.subject, slug)
        if box is None:
            return []
        arms = self.arms(box)
        due_soon = box.kind == BoxKind.DUE_SOON
        fields = ("due_at", "pk") if due_soon else (*self.subject.inbox_order, "pk")
        order = [F(f).asc(nulls_last=True) for f in fields]
        cases = self.subject.list_queryset()
        if len(arms) <= 1:
            return self._loaded(cases.filter(_union(arms)).order_by(*order)[:BOX_LIMIT])
        keys: dict[Any, tuple[Any, ...]] = {}
        for arm in arms:
            for row in cases.filter(arm).order_by(*order).values_list(*fields)[:BOX_LIMIT]:
                keys[row[-1]] = row
        first = sorted(
            keys.values(), key=lambda row: [(v is None, v if v is not None else 0) for v in row]
        )[:BOX_LIMIT]
        found = {row.pk: row for row in self._loaded(cases.filter(pk__in=[r[-1] for r in first]))}
        return [found[row[-1]] for row in first if row[-1] in found]

    def _loaded(self, cases: QuerySet[Any]) -> list[Any]:
        """The rows as the subject's `inbox_columns` give them (`InboxRow`s, no model
        instances built for the case and its related rows), or whole cases without them."""
        columns = self.subject.inbox_columns
        if not columns:
            return list(cases)
        label = self.subject.status_label
        return [
            InboxRow.of(("pk", *columns), values, label)
            for values in cases.values_list("pk", *columns)
        ]


class InboxRow(SimpleNamespace):
    """A box's row: the subject's `inbox_columns`, a related row's as a nested namespace
    (`procedure__name` → `row.procedure.name`), and the status's label as a model gives it
    (`get_status_display`), for the page and the API list alike."""

    @classmethod
    def of(
        cls, columns: tuple[str, ...], values: tuple[Any, ...], label: Callable[[int], str]
    ) -> InboxRow:
        row = cls(**_layout(columns).build(values))
        row._label = label
        return row

    def get_status_display(self) -> str:
        return str(self._label(self.status))


class _Layout:
    """Where each column of a row goes: its own names, and each related row's layout
    (worked out once per list of columns, not for every row of every box: splitting the
    names for each row was most of a box's time after its query, issue 15)."""

    def __init__(self, columns: list[tuple[str, int]]) -> None:
        self.names: list[tuple[str, int]] = []
        related: dict[str, list[tuple[str, int]]] = {}
        for column, index in columns:
            head, _sep, rest = column.partition("__")
            if rest:
                related.setdefault(head, []).append((rest, index))
            else:
                self.names.append((head, index))
        self.related = [(name, _Layout(parts)) for name, parts in related.items()]

    def build(self, values: tuple[Any, ...]) -> dict[str, Any]:
        found = {name: values[index] for name, index in self.names}
        for name, layout in self.related:
            found[name] = SimpleNamespace(**layout.build(values))
        return found


@functools.lru_cache(maxsize=64)
def _layout(columns: tuple[str, ...]) -> _Layout:
    return _Layout([(column, index) for index, column in enumerate(columns)])


def _parts(condition: Q) -> list[Q]:
    """The alternatives of an OR condition (the condition itself otherwise), without those
    that match nothing (`pk__in=[]`)."""
    if condition.connector != Q.OR or condition.negated:
        return [condition]
    parts: list[Q] = []
    for child in condition.children:
        if isinstance(child, Q):
            parts += _parts(child)
        elif child != ("pk__in", []):
            parts.append(Q(child))
    return parts


def _union(arms: list[Q]) -> Q:
    condition = Q(pk__in=[])
    for arm in arms:
        condition |= arm
    return condition


def due_soon_q(subject: SubjectType, now: datetime) -> Q:
    """The cases with at most one working day left before their due time at `now`: their
    due time at most `working_day_left_until(now)` of their calendar (every calendar's
    bound is computed once, from two queries, however many cases)."""
    default, stored = hours_all()
    field = subject.calendar_field
    if not field:
        return Q(due_at__lte=working_day_left_until(now, default))
    condition = Q(**{f"{field}__in": list(stored)}, _negated=True) | Q(**{f"{field}__isnull": True})
    condition &= Q(due_at__lte=working_day_left_until(now, default))
    for code, hours in sorted(stored.items()):
        condition |= Q(**{field: code}, due_at__lte=working_day_left_until(now, hours))
    return condition


def cases_handled(user: Viewer, subject: SubjectType) -> QuerySet[Any]:
    """Every case of the subject handled by an agency where `user` holds one of the
    subject's roles (that very agency: roles do not reach the agencies below)."""
    return InboxLook(user, subject).all_handled()


def box_get(subject: SubjectType, slug: str) -> Box | None:
    return next((b for b in subject.boxes if b.slug == slug), None)


def inbox(user: Viewer, subject: SubjectType, slug: str) -> list[Any]:
    """The cases of one box for `user`, most urgent first (at most BOX_LIMIT)."""
    return InboxLook(user, subject).rows(slug)


def inbox_counts(user: Viewer, subject: SubjectType) -> dict[str, BoxCount]:
    """How many cases each box holds (exact up to COUNT_LIMIT), in one statement."""
    return InboxLook(user, subject).counts()


def inbox_look(user: Viewer, subject: SubjectType) -> InboxLook:
    """One official's look at the subject's boxes, for a page that shows the counts and a
    box's rows: their roles, agencies and workflows read once for both."""
    return InboxLook(user, subject)
