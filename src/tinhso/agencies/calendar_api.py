"""GET /api/v1/calendar/due: the due time the system would set, so anyone can check it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from tinhso.agencies.selectors import agency_get
from tinhso.core.api import ErrorOut
from tinhso.core.calendar import add_working_days, counting_start, hours_for, skipped_days
from tinhso.core.input import Moment

router = Router(tags=["calendar"])


class DueIn(Schema):
    agency: str = Field(description="Agency code (its working calendar is used)")
    start: Moment = Field(description="When the complete dossier was received (ISO 8601)")
    days: Decimal = Field(
        gt=0, le=365, decimal_places=2, description="Statutory time in working days"
    )


class SkippedDayOut(Schema):
    date: date
    reason: str


class DueOut(Schema):
    agency: str
    calendar: str
    start: datetime
    counting_from: datetime = Field(description="After the 15:00 rule and working hours")
    days: Decimal
    due: datetime
    working_hours: list[str]
    skipped_days: list[SkippedDayOut]


@router.get(
    "/due",
    response={200: DueOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="The due time for a dossier received at `start` with `days` working days",
)
def calendar_due(request: HttpRequest, query: Query[DueIn]) -> Status[object]:
    agency = agency_get(code=query.agency)
    if agency is None:
        return Status(
            404, {"detail": _("No agency has the code %(code)s.") % {"code": query.agency}}
        )
    hours = hours_for(agency.calendar)
    due = add_working_days(query.start, query.days, hours)
    begin = counting_start(query.start, hours)
    return Status(
        200,
        {
            "agency": agency.code,
            "calendar": hours.code,
            "start": query.start,
            "counting_from": begin,
            "days": query.days,
            "due": due,
            "working_hours": [f"{a:%H:%M}-{b:%H:%M}" for a, b in hours.periods()],
            "skipped_days": [
                {"date": d, "reason": r} for d, r in skipped_days(query.start, due, hours)
            ],
        },
    )
