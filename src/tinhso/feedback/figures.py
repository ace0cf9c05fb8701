"""The reports' figures per body and period (Decision 766/QĐ-TTg scores how reports are
handled: received, answered on time, satisfaction), kept as rollups (core.rollups) by the
events that change them, and declared to the indicator registry (GET /api/v1/figures,
under "feedback").

* received: reports that arrived that day;
* answered early / on time / late: each answer, judged against the report's due time
  (core.indicators.timeliness);
* rejected, duplicates, reopened: those moves;
* ratings and their points (a changed rating moves its points);
* open: reports received and not yet answered or ended (a stock kept as changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ninja import Field, Schema

from tinhso.cases.transitions import CaseTransitioned
from tinhso.core.indicators import FigureSet, FigureValue, Indicator, Scope, Unit, timeliness
from tinhso.core.rollups import rollup_add, rollup_sum, rollup_sum_by_agency
from tinhso.feedback.models import OPEN_STATUSES, Report, ReportRollup, ReportStatus
from tinhso.feedback.services import ReportRated, ReportSubmitted

STOCK_START = date(2000, 1, 1)  # before any report
COUNTERS = (
    "received", "answered_early", "answered_on_time", "answered_late", "rejected",
    "duplicates", "reopened", "ratings", "rating_points",
)  # fmt: skip

INDICATORS = (
    Indicator("received", "Phản ánh, kiến nghị tiếp nhận", "Reports received", Unit.DOSSIERS),
    Indicator("answered", "Phản ánh, kiến nghị đã trả lời", "Reports answered", Unit.DOSSIERS),
    Indicator("answered_on_time", "Trả lời đúng hạn", "Answered on time", Unit.DOSSIERS),
    Indicator("answered_late", "Trả lời quá hạn", "Answered late", Unit.DOSSIERS),
    Indicator("on_time_share", "Tỷ lệ trả lời đúng hạn", "Share answered on time", Unit.RATIO),
    Indicator("rejected", "Không tiếp nhận", "Not accepted", Unit.DOSSIERS),
    Indicator("open", "Đang xử lý", "Open now", Unit.DOSSIERS),
    Indicator("satisfaction", "Mức độ hài lòng", "Satisfaction", Unit.SCORE),
)


class FeedbackFiguresOut(Schema):
    received: int = Field(description="reports received in the period")
    answered: int = Field(description="answers given in the period")
    answered_on_time: int = Field(description="answers given by the due time (early included)")
    answered_late: int = Field(description="answers given after the due time")
    on_time_share: float | None = Field(description="answered on time ÷ answered")
    rejected: int = Field(description="reports not accepted in the period")
    open: int = Field(description="reports not yet answered nor ended, now")
    satisfaction: float | None = Field(description="average rating (1–3) given in the period")


def feedback_figures(scope: Scope) -> Mapping[str, FigureValue]:
    totals = rollup_sum(ReportRollup, scope.agencies.within("agency"), scope.start, scope.end,
                        COUNTERS)  # fmt: skip
    on_time = totals["answered_early"] + totals["answered_on_time"]
    answered = on_time + totals["answered_late"]
    # A stock: every change up to the period's end (whole years, months and days: a few
    # rows per body, never a count of the reports).
    open_now = rollup_sum(
        ReportRollup, scope.agencies.within("agency"), STOCK_START, scope.end, ["open_change"]
    )["open_change"]
    return {
        "received": totals["received"],
        "answered": answered,
        "answered_on_time": on_time,
        "answered_late": totals["answered_late"],
        "on_time_share": round(on_time / answered, 4) if answered else None,
        "rejected": totals["rejected"],
        "open": open_now,
        "satisfaction": round(totals["rating_points"] / totals["ratings"], 2)
        if totals["ratings"]
        else None,
    }


def bodies_on_time(start: date, end: date) -> list[dict[str, object]]:
    """Per responsible body with reports in the period: received, answered, the share
    answered on time and the average rating, most received first (the public page)."""
    from django.db.models import Q

    from tinhso.agencies.models import Agency

    totals = rollup_sum_by_agency(ReportRollup, Q(), start, end, COUNTERS)
    names = dict(Agency.objects.filter(pk__in=list(totals)).values_list("pk", "name"))
    rows = []
    for agency_id, t in totals.items():
        on_time = t["answered_early"] + t["answered_on_time"]
        answered = on_time + t["answered_late"]
        if not t["received"] and not answered:
            continue
        rows.append({
            "agency": names.get(agency_id, ""), "received": t["received"], "answered": answered,
            "on_time_share": on_time / answered if answered else None,
            "satisfaction": t["rating_points"] / t["ratings"] if t["ratings"] else None,
        })  # fmt: skip
    return sorted(rows, key=lambda r: (-int(str(r["received"])), str(r["agency"])))


FIGURES = FigureSet(
    module="feedback",
    indicators=INDICATORS,
    compute=feedback_figures,
    schema=FeedbackFiguresOut,
    section="feedback",
)


# --- what the events change ----------------------------------------------------------------


def rollups_on_submitted(event: ReportSubmitted) -> None:
    report = event.report
    rollup_add(ReportRollup, agency_id=report.agency_id, at=report.submitted_at,
               counts={"received": 1, "open_change": 1})  # fmt: skip


def rollups_on_transition(event: CaseTransitioned) -> None:
    """A CaseTransitioned consumer: a report's move changes its body's figures."""
    if event.subject.code != "report":
        return
    done = event.done
    report = done.case
    assert isinstance(report, Report)  # noqa: S101 (the report subject moves reports)
    counts: dict[str, int] = {}
    was_open, is_open = done.from_status in OPEN_STATUSES, done.to_status in OPEN_STATUSES
    if was_open != is_open:
        counts["open_change"] = 1 if is_open else -1
    if done.to_status == ReportStatus.ANSWERED:
        judged = timeliness(done.at, report.due_at)
        counts[f"answered_{judged.value}" if judged else "answered_early"] = 1
    elif done.to_status == ReportStatus.REJECTED:
        counts["rejected"] = 1
    elif done.to_status == ReportStatus.DUPLICATE:
        counts["duplicates"] = 1
    elif done.action == "reopen":
        counts["reopened"] = 1
    rollup_add(ReportRollup, agency_id=report.agency_id, at=done.at, counts=counts)


def rollups_on_rating(event: ReportRated) -> None:
    """A rating given (or changed: its points move, it is not counted twice)."""
    report, before = event.report, event.before
    counts = {"rating_points": (report.rating or 0) - (before or 0)}
    if before is None:
        counts["ratings"] = 1
    rollup_add(ReportRollup, agency_id=report.agency_id, at=report.updated_at, counts=counts)
