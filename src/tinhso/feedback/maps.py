"""The reports' map, drawn on the server as SVG: the province's outline (or one commune's
boundary) from the stored boundaries, and the reports as dots that are links. No tile
service and no script are needed to read it (a phone on 3G gets a few kilobytes); with the
script, a tap on the map of the report form fills the place's latitude and longitude.

The projection is equirectangular around the map's middle latitude (a province is small
enough that this keeps shapes), `SCALE` units per degree of latitude; the SVG element
carries the projection so the script can turn a tap back into a place."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tinhso.agencies.geo import polygons_of
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel, Boundary
from tinhso.feedback.models import OPEN_STATUSES, ReportStatus

SCALE = 1000.0  # SVG units per degree of latitude
MAP_REPORTS = 500  # dots on a map at most (the most recent)


def _simplify(points: Sequence[Sequence[float]], tolerance: float) -> list[Sequence[float]]:
    """Douglas–Peucker: the points a line keeps when nothing nearer than `tolerance`
    (degrees) to it is dropped."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first][:2], points[last][:2]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        farthest, distance = -1, tolerance
        for i in range(first + 1, last):
            x, y = points[i][:2]
            # From the line through the two ends; from the end itself when they meet (a
            # ring's first and last points are the same).
            if norm:
                d = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / norm
            else:
                d = math.hypot(x - x1, y - y1)
            if d > distance:
                farthest, distance = i, d
        if farthest >= 0:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


@dataclass(frozen=True)
class Frame:
    """The box a map shows, in degrees, and how it is projected."""

    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float

    @property
    def cos(self) -> float:
        return math.cos(math.radians((self.min_lat + self.max_lat) / 2))

    def xy(self, lat: float, lng: float) -> tuple[float, float]:
        return (lng - self.min_lng) * self.cos * SCALE, (self.max_lat - lat) * SCALE

    @property
    def width(self) -> float:
        return (self.max_lng - self.min_lng) * self.cos * SCALE

    @property
    def height(self) -> float:
        return (self.max_lat - self.min_lat) * SCALE

    def contains(self, lat: float, lng: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lng <= lng <= self.max_lng


def _path(frame: Frame, geometry: dict[str, Any], tolerance: float) -> str:
    parts = []
    for polygon in polygons_of(geometry):
        for ring in polygon:
            kept = _simplify(ring, tolerance)
            if len(kept) < 4:
                continue
            points = [frame.xy(p[1], p[0]) for p in kept]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return " ".join(parts)


def _geometry_of(agency: Agency | None) -> tuple[dict[str, Any], Frame] | None:
    if agency is None:
        return None
    boundary = Boundary.objects.filter(agency=agency).first()
    if boundary is None:
        return None
    pad_lat = (boundary.max_lat - boundary.min_lat) * 0.03
    pad_lng = (boundary.max_lng - boundary.min_lng) * 0.03
    frame = Frame(
        boundary.min_lat - pad_lat, boundary.max_lat + pad_lat,
        boundary.min_lng - pad_lng, boundary.max_lng + pad_lng,
    )  # fmt: skip
    return boundary.geometry, frame


def province() -> Agency | None:
    return Agency.objects.filter(
        level=AgencyLevel.PROVINCE, kind=AgencyKind.PEOPLES_COMMITTEE, parent=None
    ).first()


@lru_cache(maxsize=64)
def _outline(agency_id: int, version: str) -> tuple[str, Frame] | None:
    """An agency's boundary as an SVG path and its frame, kept per process (the boundary's
    `version` invalidates it)."""
    found = _geometry_of(Agency.objects.filter(pk=agency_id).first())
    if found is None:
        return None
    geometry, frame = found
    # About 1/600 of the map's width: invisible at the size it is drawn, 10–50× fewer points.
    tolerance = max(frame.max_lng - frame.min_lng, frame.max_lat - frame.min_lat) / 600
    return _path(frame, geometry, tolerance), frame


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    code: str
    title: str
    state: str  # open | answered | ended


@dataclass(frozen=True)
class Map:
    frame: Frame
    outline: str
    dots: list[Dot]
    attribution: str


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
    target = commune or province()
    if target is None:
        return None
    boundary = (
        Boundary.objects.filter(agency=target).values_list("pk", "max_lat", "min_lng").first()
    )
    if boundary is None:
        return None
    drawn = _outline(target.pk, f"{boundary[0]}:{boundary[1]}:{boundary[2]}")
    if drawn is None:
        return None
    outline, frame = drawn
    labels = {s.value: str(s.label) for s in ReportStatus}
    dots = []
    for code, status, latitude, longitude, category in points:
        if latitude is None or longitude is None:
            continue
        lat, lng = float(latitude), float(longitude)
        if not frame.contains(lat, lng):
            continue
        x, y = frame.xy(lat, lng)
        title = f"{code} · {category} · {labels.get(status, '')}"
        dots.append(Dot(round(x, 1), round(y, 1), code, title, _state(status)))
    return Map(frame, outline, dots, BOUNDARY_CREDIT)


BOUNDARY_CREDIT = (
    "Ranh giới: thanglequoc/vietnamese-provinces-database (MIT), theo bản đồ sapnhap.bando.com.vn"
)
