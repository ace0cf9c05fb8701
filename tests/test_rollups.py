"""The platform's rollups (core.rollups): changes over many days written as day, month and
year rows, and a period's flows and the stocks at its end read back, checked against the
same changes added up directly."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from tinhso.agencies.models import Agency
from tinhso.core import rollups
from tinhso.core.rollups import (
    Changes,
    Span,
    change_add,
    rollup_add,
    rollup_net,
    rollup_rows,
    rollups_write,
)
from tinhso.feedback.models import ReportRollup

pytestmark = pytest.mark.django_db


def test_a_days_change_is_also_its_months_and_its_years_in_one_sorted_order() -> None:
    changes: Changes = {}
    change_add(changes, 7, date(2026, 3, 5), "received")
    change_add(changes, 7, date(2026, 3, 9), "received", 2)
    change_add(changes, 3, date(2025, 12, 31), "received")
    change_add(changes, 3, date(2025, 12, 31), "received", -1)  # adds up to nothing
    rows = rollup_rows(changes)
    assert rows == [
        (7, Span.DAY, date(2026, 3, 5), {"received": 1}),
        (7, Span.DAY, date(2026, 3, 9), {"received": 2}),
        (7, Span.MONTH, date(2026, 3, 1), {"received": 3}),
        (7, Span.YEAR, date(2026, 1, 1), {"received": 3}),
    ]
    assert rows == sorted(rows, key=lambda row: row[:3])


def _agencies() -> list[int]:
    return list(Agency.objects.order_by("pk").values_list("pk", flat=True)[:3])


def test_a_periods_flows_and_the_stocks_at_its_end_match_the_changes_added_up(
    monkeypatch: Any,
) -> None:
    """Random changes over three years (negative ones too, some in the future, as an
    a stock's may be) written in small statements: for random periods, the flows are the
    sum of the period's days and the stock the sum of every day up to its end."""
    monkeypatch.setattr(rollups, "WRITE_ROWS", 7)  # several statements, one order
    agencies = _agencies()
    generator = random.Random(15)
    first = date(2024, 11, 20)
    ledger: list[tuple[int, date, str, int]] = []
    for _ in range(4):  # several writes touch the same rows
        changes: Changes = {}
        for _ in range(150):
            agency = generator.choice(agencies)
            day = first + timedelta(days=generator.randrange(3 * 366))
            counter = generator.choice(["received", "open_change"])
            n = generator.choice([1, 1, 2, -1])
            change_add(changes, agency, day, counter, n)
            ledger.append((agency, day, counter, n))
        rollups_write(ReportRollup, changes, ["received", "open_change"])
    chosen = {agencies[0], agencies[2]}
    for _ in range(25):
        start = first + timedelta(days=generator.randrange(-40, 3 * 366))
        end = start + timedelta(days=generator.randrange(0, 800))
        period, to_end = rollup_net(
            ReportRollup, Q(agency_id__in=chosen), start, end, ["received", "open_change"]
        )
        for counter in ("received", "open_change"):
            mine = [(d, n) for a, d, c, n in ledger if a in chosen and c == counter]
            assert period[counter] == sum(n for d, n in mine if start <= d <= end)
            assert to_end[counter] == sum(n for d, n in mine if d <= end)


def test_rollup_add_writes_the_rows_of_its_day_month_and_year() -> None:
    """On the day, month and year of the province's time: half past midnight on New Year's
    Day there is still the last day of the old year in UTC."""
    agency = _agencies()[0]
    at = datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    rollup_add(ReportRollup, agency_id=agency, at=at, counts={"received": 2, "ratings": 0})
    rollup_add(ReportRollup, agency_id=agency, at=at, counts={"received": 1})
    rows = ReportRollup.objects.filter(agency_id=agency).order_by("span", "day")
    assert [(r.span, r.day, r.received, r.ratings) for r in rows] == [
        (Span.DAY, date(2026, 1, 1), 3, 0),
        (Span.MONTH, date(2026, 1, 1), 3, 0),
        (Span.YEAR, date(2026, 1, 1), 3, 0),
    ]


def test_the_dossier_rollups_spans_are_the_platforms() -> None:
    from tinhso.dossiers.models import RollupSpan

    assert {int(s): s.name for s in Span} == {int(s): s.name for s in RollupSpan}
