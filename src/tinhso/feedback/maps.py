"""The reports' map: the province's (or a commune's) map of agencies.maps with the reports
as dots linking to their pages, coloured by where each stands (open, answered, ended).
With the script, a tap on the map of the report form fills the place's latitude and
longitude."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy

from tinhso.agencies.maps import Map, MapPoint, area_map
from tinhso.agencies.models import Agency
from tinhso.feedback.models import OPEN_STATUSES, ReportStatus

MAP_REPORTS = 500  # dots on a map at most (the most recent)

# The dots' states, in the map's caption.
LEGEND = (
    ("open", gettext_lazy("being handled")),
    ("answered", gettext_lazy("answered")),
    ("ended", gettext_lazy("not accepted or duplicate")),
)


def _state(status: int) -> str:
    if status in OPEN_STATUSES:
        return "open"
    return "answered" if status in (ReportStatus.ANSWERED, ReportStatus.CLOSED) else "ended"


# What a dot needs of a report, read as plain values (a map reads hundreds).
DOT_COLUMNS = ("code", "status", "latitude", "longitude", "category__name")
Point = tuple[str, int, Any, Any, str]


def dots_of(reports: Any) -> list[Point]:
    """The values a map's dots need, from a queryset of reports (sliced or not)."""
    return list(reports.values_list(*DOT_COLUMNS))


def report_map(points: Iterable[Point], commune: Agency | None = None) -> Map | None:
    """The map of the province (or of `commune`) with these reports' dots (those inside
    it): `points` are (code, status, latitude, longitude, category name). None when no
    boundary is loaded."""
    labels = {s.value: str(s.label) for s in ReportStatus}
    shown = (
        MapPoint(
            reverse("feedback:detail", args=[code]),
            latitude,
            longitude,
            f"{code} · {category} · {labels.get(status, '')}",
            _state(status),
        )
        for code, status, latitude, longitude, category in points
        if latitude is not None and longitude is not None
    )
    return area_map(shown, commune, legend=LEGEND)
