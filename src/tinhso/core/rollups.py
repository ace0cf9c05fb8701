"""Daily rollups for any module (the platform's share of ADR 0026): counters of what
happened per agency, kept in the transaction of the change, so that a figure for any
period is a sum over a few rows per agency, never a scan of the records.

A module declares a model with `agency`, `span`, `day` (unique together) and integer
counter columns, and calls `rollup_add` where its events happen: the change is written to
its day's, its month's and its year's rows in one INSERT … ON CONFLICT DO UPDATE (rows in
one sorted order, so concurrent writers of one agency lock them alike; writers of different
agencies never meet). `rollup_sum` adds a period up from whole years, whole months and the
days at its edges: at most about 60 day rows, 22 month rows and a row per year per agency,
whatever the period's length.

(The dossier figures keep their own, older rollups in dossiers.rollups, which also carry
stocks; new modules use this one.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

from django.db import connection, models
from django.db.models import Q, Sum
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


def rollup_add(
    model: type[models.Model], *, agency_id: int, at: datetime, counts: Mapping[str, int]
) -> None:
    """Add `counts` (counter → change, negative allowed) to the agency's rows of the day
    `at` falls on (in the platform's time zone), its month and its year. Call it inside the
    transaction of the change."""
    counters = [name for name, n in counts.items() if n]
    if not counters:
        return
    day = timezone.localtime(at).date()
    table = model._meta.db_table
    columns = ", ".join(counters)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    row = "(%s, %s, %s, " + ", ".join(["%s"] * len(counters)) + ")"
    params: list[Any] = []
    for span, first in _firsts(day):
        params += [agency_id, int(span), first, *(counts[c] for c in counters)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (agency_id, span, day, {columns}) "  # noqa: S608 (names are ours)
            f"VALUES {', '.join([row] * 3)} "
            f"ON CONFLICT (agency_id, span, day) DO UPDATE SET {updates}",
            params,
        )


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
