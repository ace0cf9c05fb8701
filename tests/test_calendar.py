"""Working-day deadlines: weekends, Vietnamese public holidays (lunar New Year included),
announced swaps, per-calendar hours, the 15:00 rule, pauses, and the public API."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tinhso.agencies.models import Agency
from tinhso.core.calendar import (
    add_working_days,
    counting_start,
    hours_for,
    is_working_day,
    working_time_between,
)
from tinhso.core.models import CalendarException, WorkingCalendar

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def test_the_2026_lunar_new_year_days_off_are_skipped() -> None:
    hours = hours_for("VN")
    for day in range(16, 21):
        assert not is_working_day(date(2026, 2, day), hours)
    # Friday 13 Feb, 10:00, three working days: Tết (16–20) and two weekends lie between.
    assert add_working_days(at(2026, 2, 13, 10), 3, hours) == at(2026, 2, 25, 10)


def test_the_15_oclock_rule() -> None:
    hours = hours_for("VN")
    assert counting_start(at(2026, 3, 2, 14, 59), hours) == at(2026, 3, 2, 14, 59)
    assert counting_start(at(2026, 3, 2, 15, 0), hours) == at(2026, 3, 3, 7, 30)
    assert add_working_days(at(2026, 3, 2, 15, 30), 1, hours) == at(2026, 3, 3, 17, 30)
    assert add_working_days(at(2026, 3, 2, 14, 59), 1, hours) == at(2026, 3, 3, 14, 59)


def test_weekends_lunch_and_early_mornings() -> None:
    hours = hours_for("VN")
    assert counting_start(at(2026, 3, 7, 9), hours) == at(2026, 3, 9, 7, 30)  # Saturday
    assert counting_start(at(2026, 3, 9, 12), hours) == at(2026, 3, 9, 13, 30)  # lunch
    assert counting_start(at(2026, 3, 9, 6), hours) == at(2026, 3, 9, 7, 30)
    assert add_working_days(at(2026, 3, 9, 9), 0.5, hours) == at(2026, 3, 9, 15)


def test_swapped_days_the_package_knows() -> None:
    hours = hours_for("VN")
    assert is_working_day(date(2026, 8, 22), hours)  # make-up working Saturday
    assert not is_working_day(date(2026, 8, 31), hours)  # the day off it buys
    # Friday 28 Aug 10:00 + 1 day: 31 Aug, 1 and 2 Sep are off.
    assert add_working_days(at(2026, 8, 28, 10), 1, hours) == at(2026, 9, 3, 10)


def test_announced_exceptions_and_agency_hours_are_editable() -> None:
    calendar = WorkingCalendar.objects.create(
        code="TH-HE", name="Giờ làm việc mùa hè", morning_start=time(7), morning_end=time(11, 30),
        afternoon_start=time(14), afternoon_end=time(17), intake_cutoff=time(15),
    )  # fmt: skip
    CalendarException.objects.create(
        calendar=calendar, date=date(2026, 3, 3), is_working=False, note="Nghỉ"
    )
    CalendarException.objects.create(
        calendar=calendar, date=date(2026, 3, 7), is_working=True, note="Làm bù"
    )
    # A day off of the national calendar, read in the same query, is not TH-HE's.
    national, _created = WorkingCalendar.objects.get_or_create(
        code="VN", defaults={"name": "Lịch làm việc"}
    )
    CalendarException.objects.create(
        calendar=national, date=date(2026, 3, 4), is_working=False, note="Nghỉ"
    )
    hours = hours_for("TH-HE")
    assert hours.day_length == timedelta(hours=7, minutes=30)
    assert not is_working_day(date(2026, 3, 3), hours)
    assert is_working_day(date(2026, 3, 7), hours)
    assert is_working_day(date(2026, 3, 4), hours)
    assert not is_working_day(date(2026, 3, 4), hours_for("VN"))
    # Monday 2 Mar 10:00 + 2 days of 7.5 h: Tue 3 is off.
    assert add_working_days(at(2026, 3, 2, 10), 2, hours) == at(2026, 3, 5, 10)


def test_a_paused_clock_resumes_with_the_time_it_lost() -> None:
    hours = hours_for("VN")
    assert working_time_between(at(2026, 3, 6, 10), at(2026, 3, 9, 10), hours) == timedelta(hours=8)
    assert working_time_between(at(2026, 3, 9, 12), at(2026, 3, 9, 13), hours) == timedelta(0)


def test_the_api_gives_the_same_due_time(client: Client) -> None:
    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    response = client.get(
        "/api/v1/calendar/due",
        {"agency": agency.code, "start": "2026-02-13T16:00:00+07:00", "days": 3},
    )
    body = response.json()
    assert response.status_code == 200
    expected = add_working_days(at(2026, 2, 13, 16), 3, hours_for(agency.calendar))
    assert datetime.fromisoformat(body["due"].replace("Z", "+00:00")) == expected
    assert datetime.fromisoformat(body["counting_from"].replace("Z", "+00:00")) == at(
        2026, 2, 23, 7, 30
    )
    skipped = {d["date"]: d["reason"] for d in body["skipped_days"]}
    assert list(skipped) == [f"2026-02-{d}" for d in range(14, 23)]
    assert skipped["2026-02-14"] == "Cuối tuần"
    assert "Tết" in skipped["2026-02-17"]
    assert (
        client.get(
            "/api/v1/calendar/due", {"agency": "x", "start": "2026-02-13T10:00:00+07:00", "days": 1}
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/calendar/due", {"agency": agency.code, "start": "hôm qua", "days": 1}
        ).status_code
        == 422
    )
    assert (
        client.get(
            "/api/v1/calendar/due",
            {"agency": agency.code, "start": "2026-02-13T10:00:00+07:00", "days": 0},
        ).status_code
        == 422
    )


def test_one_working_day_left_until_is_the_bound_of_the_due_soon_box() -> None:
    """working_time_between(now, due) <= one day exactly when due <= the bound: checked
    every 151 minutes over a fortnight with a weekend, Tết and an announced day off, for due
    times every 29 minutes around the bound."""
    from tinhso.core.calendar import hours_all, working_day_left_until

    calendar = WorkingCalendar.objects.create(code="TEST-SOON", name="Thử")
    CalendarException.objects.create(calendar=calendar, date=date(2026, 3, 4), is_working=False)
    default, stored = hours_all()
    assert default.code == "VN"
    assert stored["TEST-SOON"].exceptions == {date(2026, 3, 4): False}
    for hours in (default, stored["TEST-SOON"]):
        for start in (at(2026, 2, 12, 6), at(2026, 2, 26, 6)):
            now = start
            while now < start + timedelta(days=14):
                bound = working_day_left_until(now, hours)
                assert working_time_between(now, bound, hours) <= hours.day_length
                for minutes in range(-60, 16 * 60, 29):
                    due = bound + timedelta(minutes=minutes)
                    soon = working_time_between(now, due, hours) <= hours.day_length
                    assert soon == (due <= bound), (hours.code, now, due, bound)
                now += timedelta(minutes=151)


def test_a_calendar_code_not_stored_counts_in_the_national_calendar_everywhere() -> None:
    """An agency naming a calendar nobody stored counts in the stored national calendar,
    its announced days off included: its deadlines (`hours_for`) and the due-soon box
    (`hours_all`) agree."""
    from tinhso.core.calendar import DEFAULT_CODE, hours_all

    national, _created = WorkingCalendar.objects.get_or_create(
        code=DEFAULT_CODE, defaults={"name": "Lịch làm việc"}
    )
    CalendarException.objects.create(
        calendar=national, date=date(2026, 3, 3), is_working=False, note="Nghỉ"
    )
    hours = hours_for("KHONG-CO")
    assert not is_working_day(date(2026, 3, 3), hours)
    assert hours == hours_all()[0]
    assert add_working_days(at(2026, 3, 2, 10), 2, hours) == at(2026, 3, 5, 10)
