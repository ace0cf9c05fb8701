"""The dossier figures kept as daily rollups (ADR 0026, on the platform's core.rollups): per
receiving agency, one row per day, per month and per year (`DossierRollup`), changed by the
events that change them, in their own transaction, so that a figure for any period is a sum
over a few rows per agency and never a scan of the dossiers.

What a row counts:

* flows, on the day they happen: dossiers received (accepted from new, by channel),
  finished early / on time / late (core.indicators.timeliness against the due time then in
  force; a finish without a due time counts as early), ratings and their points;
* stocks, as changes: a dossier entering an open status adds one to `in_progress` on that
  day and leaving it takes one off; the same for the paused statuses; a dossier whose
  clock runs with a due time adds one to `overdue` on the first day whose end is past its
  due time (a row in the future, when it is) and takes it off when it stops running or its
  due time moves. A stock at the end of a day is the sum of its changes up to that day.

Every change is written three times (its day, its month, its year) in one upsert
statement whose rows are sorted (core.rollups.rollups_write), so concurrent writers of one
agency lock them in the same order; a writer contends only with writers of the same agency
on the same day (and with the due-day row of a dossier due then). A period's value is
prefix(end) - prefix(start - 1) (core.rollups.rollup_net), and a prefix is at most ten-odd
years + eleven months + thirty days of rows per agency, whatever the period's length or the
number of dossiers.

`rollups_rebuild` recomputes the rows (and the finished dossiers' outcomes) from the
history, for the data migration and `tinhso figures_rebuild`; `dossier_figures_direct` in
dossiers.figures is the scan they are checked against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tinhso.cases.transitions import CaseTransitioned
from tinhso.core.indicators import Scope, Timeliness, timeliness
from tinhso.core.rollups import Changes, change_add, rollup_net, rollup_rows, rollups_write
from tinhso.dossiers.models import (
    Channel,
    Dossier,
    DossierEvent,
    DossierRollup,
    DossierStatus,
    Rating,
)
from tinhso.dossiers.transitions import DossierExtended

OPEN = frozenset({
    DossierStatus.ACCEPTED, DossierStatus.PROCESSING, DossierStatus.SUPPLEMENT_REQUESTED,
    DossierStatus.PAYMENT_REQUESTED,
})  # fmt: skip
PAUSED = frozenset({DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.PAYMENT_REQUESTED})
RUNNING = OPEN - PAUSED

FLOWS = (
    "received", "received_counter", "received_online", "received_post", "finished_early",
    "finished_on_time", "finished_late", "ratings", "rating_points", "paid_online",
    "amount_collected", "paid_otherwise",
)  # fmt: skip
STOCKS = ("in_progress_change", "paused_change", "overdue_change")
COUNTERS = FLOWS + STOCKS
_CHANNEL: dict[int, str] = {Channel.COUNTER: "received_counter", Channel.ONLINE: "received_online",
            Channel.POST: "received_post"}  # fmt: skip
_FINISHED = {Timeliness.EARLY: "finished_early", Timeliness.ON_TIME: "finished_on_time",
             Timeliness.LATE: "finished_late"}  # fmt: skip


def overdue_day(due: datetime) -> date:
    """The first day at whose end a dossier due at `due` is late (the figures' "overdue at
    the end of the period": due before the day's last moment)."""
    day = timezone.localdate(due)
    if due < datetime.combine(day, time.max, timezone.get_current_timezone()):
        return day
    return day + timedelta(days=1)


def move_changes(
    changes: Changes,
    *,
    agency: int,
    channel: int,
    from_status: int,
    to_status: int,
    at: datetime,
    due_before: datetime | None,
    due_after: datetime | None,
) -> None:
    """Add to `changes` what a move of one dossier from `from_status` to `to_status` at
    `at` changes, its due time being `due_before` before and `due_after` after."""
    day = timezone.localdate(at)
    if to_status == DossierStatus.ACCEPTED and from_status < DossierStatus.ACCEPTED:
        change_add(changes, agency, day, "received")
        if channel in _CHANNEL:
            change_add(changes, agency, day, _CHANNEL[channel])
    if to_status == DossierStatus.FINISHED:
        change_add(changes, agency, day, _FINISHED[timeliness(at, due_after) or Timeliness.EARLY])
    for stock, statuses in (("in_progress_change", OPEN), ("paused_change", PAUSED)):
        change = (to_status in statuses) - (from_status in statuses)
        if change:
            change_add(changes, agency, day, stock, change)
    _overdue(changes, agency, day, from_status in RUNNING, due_before, -1)
    _overdue(changes, agency, day, to_status in RUNNING, due_after, 1)


def _overdue(
    changes: Changes, agency: int, day: date, running: bool, due: datetime | None, sign: int
) -> None:
    # A running period [start, stop) with a due time counts as overdue over
    # [max(start, overdue day), max(stop, overdue day)): +1 when it starts, -1 when it stops.
    if running and due is not None:
        change_add(changes, agency, max(day, overdue_day(due)), "overdue_change", sign)


def rollups_apply(changes: Changes) -> None:
    """Write `changes` into the dossier rollups (core.rollups.rollups_write). Called inside
    the transaction of the change."""
    rollups_write(DossierRollup, changes, COUNTERS)


# --- what the events change -------------------------------------------------------------


def paused_time(dossier_id: int, until: datetime) -> timedelta:
    """How long the dossier's clock was stopped (in a paused status) up to `until`, from
    its history."""
    total = timedelta(0)
    since: datetime | None = None
    for at, to_status in (
        DossierEvent.objects.filter(dossier_id=dossier_id, at__lte=until)
        .order_by("at", "id")
        .values_list("at", "to_status")
    ):
        if to_status in PAUSED and since is None:
            since = at
        elif to_status not in PAUSED and since is not None:
            total += at - since
            since = None
    if since is not None:
        total += until - since
    return total


def outcome_of(finished_at: datetime, due_at: datetime | None) -> str:
    judged = timeliness(finished_at, due_at)
    return judged.value if judged else ""


def dossier_moved(
    dossier: Dossier,
    *,
    from_status: int,
    to_status: int,
    at: datetime,
    paid_by_official: bool = False,
) -> None:
    """A transition of `dossier` (already saved with its new status and due time): its
    outcome when it finishes, and the rollups (with a payment an official recorded: paid
    at the counter, not through the bank). In the transition's transaction."""
    if to_status == DossierStatus.FINISHED:
        Dossier.objects.filter(pk=dossier.pk).update(
            finished_at=at,
            outcome=outcome_of(at, dossier.due_at),
            paused_for=paused_time(dossier.pk, at),
        )
    if dossier.receiving_agency_id is None:
        return
    changes: Changes = {}
    # A transition that leaves a running status keeps the due time (only starting the
    # clock or resuming it moves it): the due time before is the one after.
    move_changes(
        changes, agency=dossier.receiving_agency_id, channel=dossier.channel,
        from_status=from_status, to_status=to_status, at=at,
        due_before=dossier.due_at, due_after=dossier.due_at,
    )  # fmt: skip
    if paid_by_official:
        change_add(changes, dossier.receiving_agency_id, timezone.localdate(at), "paid_otherwise")
    rollups_apply(changes)


def dossier_due_moved(
    dossier: Dossier, *, old_due: datetime, new_due: datetime, at: datetime
) -> None:
    """The due time of a running dossier moved (BM.04): its overdue day moves with it."""
    if dossier.receiving_agency_id is None or dossier.status not in RUNNING:
        return
    changes: Changes = {}
    day = timezone.localdate(at)
    _overdue(changes, dossier.receiving_agency_id, day, True, old_due, -1)
    _overdue(changes, dossier.receiving_agency_id, day, True, new_due, 1)
    rollups_apply(changes)


def dossier_rated(rating: Rating) -> None:
    """A rating was given (in its transaction)."""
    agency = rating.dossier.receiving_agency_id
    if agency is None:
        return
    changes: Changes = {}
    day = timezone.localdate(rating.created_at)
    change_add(changes, agency, day, "ratings")
    change_add(changes, agency, day, "rating_points", rating.score)
    rollups_apply(changes)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """The flows of a period and the stocks at its end."""

    flows: Mapping[str, int]
    stocks: Mapping[str, int]


def rollup_totals(scope: Scope) -> Totals:
    """Sum the rollups of `scope`'s agencies: flows over its days, stocks up to its end:
    prefix(end) - prefix(start - 1). One query, a UNION ALL of one aggregate per range of
    rows, each an index range per agency (an OR of the ranges would read every row of the
    agency); once per scope, however many figure sets read it (dossiers, payments)."""
    totals = scope.shared.get("dossiers.rollup_totals")
    if not isinstance(totals, Totals):
        totals = scope.shared["dossiers.rollup_totals"] = _rollup_totals(scope)
    return totals


def _rollup_totals(scope: Scope) -> Totals:
    period, to_end = rollup_net(
        DossierRollup, scope.agencies.within("agency"), scope.start, scope.end, COUNTERS
    )
    flows = {c: period[c] for c in FLOWS}
    stocks = {c.removesuffix("_change"): to_end[c] for c in STOCKS}
    return Totals(flows=flows, stocks=stocks)


# --- rebuilding from the history ------------------------------------------------------------

# What the modules above add to a rebuild of the rollups (payments: the bank payments),
# each given the changes to add theirs to (rollups_contributor_register).
REBUILD_CONTRIBUTORS: list[Callable[[Changes], None]] = []


def rollups_contributor_register(contribute: Callable[[Changes], None]) -> None:
    """A module's part of a rebuild of the rollups (its AppConfig.ready()); once."""
    if contribute not in REBUILD_CONTRIBUTORS:
        REBUILD_CONTRIBUTORS.append(contribute)


def rollups_add(changes: Changes, agency: int, at: datetime, counts: Mapping[str, int]) -> None:
    """Add `counts` (counters of the rollups) to `changes`, on the day of `at`."""
    for counter, n in counts.items():
        if counter not in COUNTERS:
            raise ValueError(f"No counter {counter!r} in the rollups.")
        change_add(changes, agency, timezone.localdate(at), counter, n)


@dataclass
class _Replay:
    """What replaying the history found besides the rollups: each finished dossier's finish
    time, due time and time paused."""

    changes: Changes
    finished: dict[int, tuple[datetime, datetime | None, timedelta]]


def history_replay(
    events: Iterable[tuple[int, int | None, int, datetime, int, int, datetime | None]],
) -> _Replay:
    """Replay (dossier, agency, channel, at, from, to, due) rows ordered by dossier and
    time. The due time of every past move is the dossier's current one (the history does
    not keep the old ones): the figures counted so before the rollups."""
    replay = _Replay(changes={}, finished={})
    current, paused_since, paused = None, None, timedelta(0)
    for dossier, agency, channel, at, from_status, to_status, due in events:
        if dossier != current:
            current, paused_since, paused = dossier, None, timedelta(0)
        if to_status in PAUSED and paused_since is None:
            paused_since = at
        elif to_status not in PAUSED and paused_since is not None:
            paused, paused_since = paused + (at - paused_since), None
        if to_status == DossierStatus.FINISHED:
            replay.finished[dossier] = (at, due, paused)
        if agency is not None:
            move_changes(
                replay.changes, agency=agency, channel=channel, from_status=from_status,
                to_status=to_status, at=at, due_before=due, due_after=due,
            )  # fmt: skip
    return replay


def rollups_rebuild(batch: int = 5000) -> int:
    """Recompute every rollup row from the dossiers' history and ratings, and the outcome
    of every finished dossier. Returns the number of rows written. Runs in one transaction
    (the data migration, `tinhso figures_rebuild`)."""
    with transaction.atomic():
        DossierRollup.objects.all().delete()
        events = (
            DossierEvent.objects.exclude(from_status=F("to_status"))
            .order_by("dossier_id", "at", "id")
            .values_list(
                "dossier_id", "dossier__receiving_agency_id", "dossier__channel", "at",
                "from_status", "to_status", "dossier__due_at",
            )
        )  # fmt: skip
        replay = history_replay(events.iterator(chunk_size=batch))
        changes = replay.changes
        for agency, created, score in (
            Rating.objects.filter(dossier__receiving_agency__isnull=False)
            .values_list("dossier__receiving_agency_id", "created_at", "score")
            .iterator(chunk_size=batch)
        ):
            day = timezone.localdate(created)
            change_add(changes, agency, day, "ratings")
            change_add(changes, agency, day, "rating_points", score)
        paid_otherwise_replay(changes, batch)
        for contribute in REBUILD_CONTRIBUTORS:
            contribute(changes)
        rows = rollup_rows(changes)
        DossierRollup.objects.bulk_create(
            (
                DossierRollup(agency_id=agency, span=span, day=first, **counts)
                for agency, span, first, counts in rows
            ),
            batch_size=batch,
        )
        outcomes_backfill(replay.finished, batch)
    return len(rows)


def paid_otherwise_replay(changes: Changes, batch: int = 5000) -> None:
    """Add to `changes` the payments officials recorded ("paid" by someone), from the
    history."""
    for agency, at in (
        DossierEvent.objects.filter(action="paid", actor__isnull=False)
        .exclude(dossier__receiving_agency__isnull=True)
        .values_list("dossier__receiving_agency_id", "at")
        .iterator(chunk_size=batch)
    ):
        change_add(changes, agency, timezone.localdate(at), "paid_otherwise")


def outcomes_backfill(
    finished: Mapping[int, tuple[datetime, datetime | None, timedelta]], batch: int = 5000
) -> None:
    """Store the outcome of the finished dossiers (id → finish time, due time, paused)."""
    ids = sorted(finished)
    for start in range(0, len(ids), batch):
        chunk = []
        for pk in ids[start : start + batch]:
            at, due, paused = finished[pk]
            chunk.append(
                Dossier(pk=pk, finished_at=at, outcome=outcome_of(at, due), paused_for=paused)
            )
        Dossier.objects.bulk_update(chunk, ["finished_at", "outcome", "paused_for"])


def rollups_on_transition(event: CaseTransitioned) -> None:
    """A CaseTransitioned consumer: a dossier's move changes its figures."""
    if event.subject.code != "dossier":
        return
    done = event.done
    assert isinstance(done.case, Dossier)  # noqa: S101 (the dossier subject moves dossiers)
    dossier_moved(
        done.case, from_status=done.from_status, to_status=done.to_status, at=done.at,
        paid_by_official=done.action == "paid" and done.actor is not None,
    )  # fmt: skip


def rollups_on_extension(event: DossierExtended) -> None:
    """A DossierExtended consumer: BM.04 moved the due time."""
    dossier_due_moved(event.dossier, old_due=event.old_due, new_due=event.new_due, at=event.at)
