"""Working-day arithmetic for statutory deadlines (core.calendar).

Deadlines are counted in working time: the agency's working hours on working days. A
working day is a weekday that is not a Vietnamese public holiday (the `holidays` package,
lunar New Year included, with the substituted days off and make-up working Saturdays it
knows), unless the calendar stores an exception for that date (the government's or the
province's announcements for a year, editable in the admin). A dossier received after the
intake cut-off (15:00) counts from the start of the next working day.

    due = add_working_days(received_at, days, calendar)

A day is the calendar's working hours per day (8 h by default), so half days work too,
and the clock can stop and resume: `working_time_between` measures a pause to add back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tinhso.core.models import WorkingCalendar

DEFAULT_CODE = "VN"


@dataclass(frozen=True)
class Hours:
    """One calendar's working hours and exceptions, loaded once per computation."""

    code: str
    name: str
    morning: tuple[time, time]
    afternoon: tuple[time, time]
    cutoff: time
    exceptions: dict[date, bool] = field(default_factory=dict)

    @property
    def day_length(self) -> timedelta:
        return _span(*self.morning) + _span(*self.afternoon)

    def periods(self) -> list[tuple[time, time]]:
        return [self.morning, self.afternoon]


def _span(start: time, end: time) -> timedelta:
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@lru_cache(maxsize=64)
def _public_holidays(year: int, language: str = "vi") -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year, language=language)


def _builtin(code: str | None) -> Hours:
    return Hours(
        code=code or DEFAULT_CODE,
        name="Lịch làm việc của cơ quan hành chính nhà nước",
        morning=(time(7, 30), time(11, 30)),
        afternoon=(time(13, 30), time(17, 30)),
        cutoff=time(15, 0),
    )


_COLUMNS = (
    "code", "name", "morning_start", "morning_end", "afternoon_start", "afternoon_end",
    "intake_cutoff",
)  # fmt: skip


def _stored(calendars: QuerySet[WorkingCalendar]) -> dict[str, Hours]:
    """These calendars' hours with their announced exceptions, by code, in one query: each
    calendar's row comes once per exception (an outer join), or once with none."""
    rows = calendars.values_list(*_COLUMNS, "exceptions__date", "exceptions__is_working")
    found: dict[str, Hours] = {}
    for code, name, m_start, m_end, a_start, a_end, cutoff, day, working in rows:
        hours = found.get(code)
        if hours is None:
            hours = found[code] = Hours(
                code=code, name=name, morning=(m_start, m_end), afternoon=(a_start, a_end),
                cutoff=cutoff, exceptions={},
            )  # fmt: skip
        if day is not None:
            hours.exceptions[day] = working
    return found


def hours_for(code: str | None) -> Hours:
    """The working hours of calendar `code`; a code that is not stored (or none) counts in
    the stored national calendar DEFAULT_CODE with its announced exceptions, as `hours_all`
    says, and in the built-in national hours when that is not stored either. One query."""
    found = _stored(WorkingCalendar.objects.filter(code__in={code or DEFAULT_CODE, DEFAULT_CODE}))
    return found.get(code or DEFAULT_CODE) or found.get(DEFAULT_CODE) or _builtin(code)


def hours_all() -> tuple[Hours, dict[str, Hours]]:
    """Every stored calendar by code, and the one a code that is not stored (or none)
    counts in: one query, whatever the number of calendars."""
    stored = _stored(WorkingCalendar.objects.all())
    return stored.get(DEFAULT_CODE) or _builtin(None), stored


def working_day_left_until(now: datetime, hours: Hours) -> datetime:
    """The last moment with at most one working day of working time left after `now`
    (`working_time_between(now, due) <= day_length` exactly when `due` is at most this):
    one working day after `now`, or, when that falls at a period's end, the start of the
    next working period (no working time passes until then)."""
    reached = _local(add_working_time(now, hours.day_length, hours))
    day = reached.date()
    while True:
        if is_working_day(day, hours):
            for period_start, period_end in hours.periods():
                begin = datetime.combine(day, period_start, _tz())
                end = datetime.combine(day, period_end, _tz())
                if end > reached:
                    return max(begin, reached)
        day += timedelta(days=1)
        reached = datetime.combine(day, time(0), _tz())


def is_working_day(day: date, hours: Hours) -> bool:
    if day in hours.exceptions:
        return hours.exceptions[day]
    return bool(_public_holidays(day.year).is_working_day(day))


def non_working_reason(day: date, hours: Hours) -> str:
    if day in hours.exceptions:
        return "" if hours.exceptions[day] else str(_("Day off announced for this year"))
    language = "en_US" if (get_language() or "vi").startswith("en") else "vi"
    name = _public_holidays(day.year, language).get(day)
    if name:
        return str(name)
    return str(_("Weekend")) if not is_working_day(day, hours) else ""


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=_tz())
    return moment.astimezone(_tz())


def _next_working_day(day: date, hours: Hours) -> date:
    day += timedelta(days=1)
    while not is_working_day(day, hours):
        day += timedelta(days=1)
    return day


def counting_start(received_at: datetime, hours: Hours) -> datetime:
    """When the clock starts for something received at `received_at`: then, if that is in
    working hours before the cut-off (or the next working period that day); otherwise the
    start of the next working day (received after the cut-off, after hours, or on a day
    off)."""
    moment = _local(received_at)
    day, clock = moment.date(), moment.time()
    if is_working_day(day, hours) and clock < hours.cutoff:
        for start, end in hours.periods():
            if clock < start:
                return datetime.combine(day, start, _tz())
            if clock < end:
                return moment
    return datetime.combine(_next_working_day(day, hours), hours.morning[0], _tz())


def add_working_time(start: datetime, amount: timedelta, hours: Hours) -> datetime:
    """The moment `amount` of working time after `start` (which should already be a
    counting start). Ends exactly at a period's end rather than the next period's start."""
    moment = _local(start)
    remaining = amount
    day = moment.date()
    while True:
        if is_working_day(day, hours):
            for period_start, period_end in hours.periods():
                begin = max(moment, datetime.combine(day, period_start, _tz()))
                end = datetime.combine(day, period_end, _tz())
                if begin >= end:
                    continue
                available = end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
        moment = datetime.combine(day, time(0), _tz())


def add_working_days(received_at: datetime, days: Decimal | float | int, hours: Hours) -> datetime:
    """The due time of something received at `received_at` with `days` working days."""
    start = counting_start(received_at, hours)
    return add_working_time(start, hours.day_length * float(days), hours)


def working_time_between(start: datetime, end: datetime, hours: Hours) -> timedelta:
    """Working time elapsed from `start` to `end` (for clocks that pause and resume)."""
    a, b = _local(start), _local(end)
    if b <= a:
        return timedelta(0)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if is_working_day(day, hours):
            for period_start, period_end in hours.periods():
                lo = max(a, datetime.combine(day, period_start, _tz()))
                hi = min(b, datetime.combine(day, period_end, _tz()))
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


def skipped_days(start: datetime, due: datetime, hours: Hours) -> list[tuple[date, str]]:
    """The non-working days between start and due, with why (for explanations)."""
    out = []
    day = _local(start).date()
    while day <= _local(due).date():
        if not is_working_day(day, hours):
            out.append((day, non_working_reason(day, hours)))
        day += timedelta(days=1)
    return out
