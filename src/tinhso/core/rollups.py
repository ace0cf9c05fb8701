"""Daily rollups for any module (the platform's share of ADR 0026): counters of what
happened per agency, kept in the transaction of the change, so that a figure for any
period is a sum over a few rows per agency, never a scan of the records.

A module declares a model with `agency`, `span`, `day` (unique together) and integer
counter columns (with `db_default=0` for `rollup_add`, which names only the counters it
changes; a model without them, like the dossiers', is written with all its counters), and calls
`rollup_add` where its events happen: the change is written to its day's, its month's and
its year's rows in one INSERT … ON CONFLICT DO UPDATE (rows in one sorted order, so
concurrent writers of one agency lock them alike; writers of different agencies never
meet). `rollup_sum` adds a period up from whole years, whole months and the
days at its edges: at most about 60 day rows, 22 month rows and a row per year per agency,
whatever the period's length.

A change that touches several days at once (a stock's change dated in the future, a
rebuild) is a `Changes` map written by `rollups_write`, in statements of sorted rows. Stocks
(what is open at the end of a day) are kept as their changes; `rollup_net` reads a period's
flows and the stocks at its end in one query, prefix(end) - prefix(start - 1), each prefix
three index ranges per agency (`prefix_rows`). The dossier figures (dossiers.rollups) are
the example with stocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

from django.db import connection, models
from django.db.models import Q, Sum, Value
from django.utils import timezone


class Span(IntEnum):
    DAY = 1
    MONTH = 2
    YEAR = 3


def _firsts(day: date) -> list[tuple[int, date]]:
    return [
        (Span.DAY, day),
        (Span.MONTH, day.replace(day=1)),
        (Span.YEAR, day.replace(month=1, day=1)),
    ]


# (agency id, day) -> counter -> change
Changes = dict[tuple[int, date], dict[str, int]]


def change_add(changes: Changes, agency: int, day: date, counter: str, n: int = 1) -> None:
    """Add `n` to `counter` of the agency's day in `changes`."""
    row = changes.setdefault((agency, day), {})
    row[counter] = row.get(counter, 0) + n


def rollup_rows(changes: Changes) -> list[tuple[int, int, date, dict[str, int]]]:
    """The rows to change, (agency, span, first day, counts): every day's change also in
    its month and its year, merged, rows whose changes add up to nothing left out, sorted
    (one lock order for every writer)."""
    merged: dict[tuple[int, int, date], dict[str, int]] = {}
    for (agency, day), counts in changes.items():
        for span, first in _firsts(day):
            row = merged.setdefault((agency, span, first), {})
            for counter, n in counts.items():
                row[counter] = row.get(counter, 0) + n
    return [
        (agency, span, first, counts)
        for (agency, span, first), counts in sorted(merged.items())
        if any(counts.values())
    ]


WRITE_ROWS = 1000


def rollups_write(model: type[models.Model], changes: Changes, counters: Sequence[str]) -> None:
    """Add `changes` (to the columns `counters`) to the rollups of `model`: INSERT … ON
    CONFLICT DO UPDATE adding them, PostgreSQL and SQLite alike, in statements of at most
    WRITE_ROWS rows and the driver's limit on parameters (a backfill's many), in the one
    sorted order. Call it inside the transaction of the change."""
    rows = rollup_rows(changes)
    if not rows or not counters:
        return
    table = model._meta.db_table
    columns = ", ".join(counters)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    row = "(%s, %s, %s, " + ", ".join(["%s"] * len(counters)) + ")"
    limit = connection.features.max_query_params or 65535
    size = max(1, min(WRITE_ROWS, limit // (3 + len(counters))))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params: list[Any] = []
            for agency, span, first, counts in chunk:
                params += [agency, span, first, *(counts.get(c, 0) for c in counters)]
            cursor.execute(
                f"INSERT INTO {table} (agency_id, span, day, {columns}) "  # noqa: S608 (names are ours)
                f"VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT (agency_id, span, day) DO UPDATE SET {updates}",
                params,
            )


def rollup_add(
    model: type[models.Model], *, agency_id: int, at: datetime, counts: Mapping[str, int]
) -> None:
    """Add `counts` (counter → change, negative allowed) to the agency's rows of the day
    `at` falls on (in the platform's time zone), its month and its year. Call it inside the
    transaction of the change."""
    counters = [name for name, n in counts.items() if n]
    day = timezone.localtime(at).date()
    rollups_write(model, {(agency_id, day): {c: counts[c] for c in counters}}, counters)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_rows(start: date, end: date) -> Q:
    """The rows that add up to the days from `start` to `end`: whole years, whole months,
    and the days left at the edges."""
    days: list[date] = []
    months: list[date] = []
    years: list[date] = []
    day = start
    while day <= end:
        if day.month == 1 and day.day == 1 and day.replace(year=day.year + 1) - timedelta(1) <= end:
            years.append(day)
            day = day.replace(year=day.year + 1)
        elif day.day == 1 and _next_month(day) - timedelta(1) <= end:
            months.append(day)
            day = _next_month(day)
        else:
            days.append(day)
            day += timedelta(1)
    condition = Q(pk__in=[])
    for span, firsts in ((Span.DAY, days), (Span.MONTH, months), (Span.YEAR, years)):
        if firsts:
            condition |= Q(span=int(span), day__in=firsts)
    return condition


def rollup_sum(
    model: type[models.Model], agencies: Q, start: date, end: date, counters: Sequence[str]
) -> dict[str, int]:
    """The counters summed over the agencies (`agencies`: a filter on the rows) and the
    days from `start` to `end`."""
    totals = model._default_manager.filter(agencies, period_rows(start, end)).aggregate(
        **{c: Sum(c) for c in counters}
    )
    return {c: int(totals[c] or 0) for c in counters}


def rollup_sum_by_agency(
    model: type[models.Model], agencies: Q, start: date, end: date, counters: Sequence[str]
) -> dict[int, dict[str, int]]:
    """`rollup_sum` for each agency at once (one grouped query)."""
    rows = (
        model._default_manager.filter(agencies, period_rows(start, end))
        .values("agency_id")
        .annotate(**{c: Sum(c) for c in counters})
    )
    return {row["agency_id"]: {c: int(row[c] or 0) for c in counters} for row in rows}


def prefix_rows(day: date) -> list[Q]:
    """The rows that together cover every day up to `day` (included), each once: three
    ranges of the (agency, span, day) index."""
    year, month = day.replace(month=1, day=1), day.replace(day=1)
    return [
        Q(span=int(Span.YEAR), day__lt=year),
        Q(span=int(Span.MONTH), day__gte=year, day__lt=month),
        Q(span=int(Span.DAY), day__gte=month, day__lte=day),
    ]


def rollup_net(
    model: type[models.Model], agencies: Q, start: date, end: date, counters: Sequence[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """The counters summed over the agencies for the days from `start` to `end`, and summed
    over every day up to `end` (a stock kept as its changes: its value at the end). One
    query: a UNION ALL of one aggregate per range of rows of prefix(end) and of
    prefix(start - 1), each an index range per agency (an OR of the ranges would read every
    row of the agency)."""
    base = model._default_manager.filter(agencies)
    sums = {c: Sum(c) for c in counters}
    parts = [
        base.filter(rows).annotate(sign=Value(sign)).values("sign").annotate(**sums)
        for sign, day in ((1, end), (-1, start - timedelta(1)))
        for rows in prefix_rows(day)
    ]
    period = dict.fromkeys(counters, 0)
    to_end = dict.fromkeys(counters, 0)
    for row in parts[0].union(*parts[1:], all=True):
        for counter in counters:
            n = row[counter] or 0
            period[counter] += row["sign"] * n
            if row["sign"] == 1:
                to_end[counter] += n
    return period, to_end
