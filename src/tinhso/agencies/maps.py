"""Maps drawn on the server as SVG: the province's outline (or one area's boundary) from
the stored boundaries, and points as dots that are links. No tile service and no script
are needed to read one (a phone on 3G gets a few kilobytes); a module brings its own
points (where, what a dot links to, its title, its state) and includes
templates/agencies/_map.html.

The projection is equirectangular around the map's middle latitude (a province is small
enough that this keeps shapes), `SCALE` units per degree of latitude; the SVG element
carries the projection so a script can turn a tap back into a place."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import QuerySet, Subquery
from django_stubs_ext import StrOrPromise

from tinhso.agencies.geo import polygons_of
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel, Boundary

SCALE = 1000.0  # SVG units per degree of latitude

BOUNDARY_CREDIT = (
    "Ranh giới: thanglequoc/vietnamese-provinces-database (MIT), theo bản đồ sapnhap.bando.com.vn"
)


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


def _provinces() -> QuerySet[Agency]:
    return Agency.objects.filter(
        level=AgencyLevel.PROVINCE, kind=AgencyKind.PEOPLES_COMMITTEE, parent=None
    )


def province() -> Agency | None:
    """The province's People's Committee (the top of the tree): its map is the default."""
    return _provinces().first()


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


def _drawn(area: Agency | None) -> tuple[str, Frame] | None:
    """The outline of `area` (the province's when None), in one query: the boundary row's
    key and version (the province found in a subquery); the outline itself is cached per
    (agency, version), never by which agency is the province (each test database has its
    own)."""
    boundaries = Boundary.objects.all()
    if area is not None:
        boundaries = boundaries.filter(agency=area)
    else:
        boundaries = boundaries.filter(agency=Subquery(_provinces().values("pk")[:1]))
    row = boundaries.values_list("agency_id", "pk", "max_lat", "min_lng").first()
    if row is None:
        return None
    agency_id, pk, max_lat, min_lng = row
    return _outline(agency_id, f"{pk}:{max_lat}:{min_lng}")


@dataclass(frozen=True)
class MapPoint:
    """A point to show: where, what its dot links to, its title (a tooltip), and its
    state (the dot's CSS class is `dot-<state>`)."""

    href: str
    latitude: Any  # float, Decimal or None (then not shown)
    longitude: Any
    title: str
    state: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    href: str
    title: str
    state: str  # a CSS class suffix: dot-<state>


@dataclass(frozen=True)
class Map:
    frame: Frame
    outline: str
    dots: list[Dot]
    attribution: str
    # (state, what it means) in the caption, shown when there are dots.
    legend: tuple[tuple[str, StrOrPromise], ...] = ()

    @property
    def radius(self) -> str:
        """Dots about 1/120 of the map's width: big enough to tap on a phone."""
        return f"{self.frame.width / 120:.1f}"


def area_map(
    points: Iterable[MapPoint],
    area: Agency | None = None,
    *,
    legend: Sequence[tuple[str, StrOrPromise]] = (),
) -> Map | None:
    """The map of the province (or of `area`) with these points' dots (those with a place
    inside it). None when no boundary is loaded."""
    drawn = _drawn(area)
    if drawn is None:
        return None
    outline, frame = drawn
    dots = []
    for point in points:
        if point.latitude is None or point.longitude is None:
            continue
        lat, lng = float(point.latitude), float(point.longitude)
        if not frame.contains(lat, lng):
            continue
        x, y = frame.xy(lat, lng)
        dots.append(Dot(round(x, 1), round(y, 1), point.href, point.title, point.state))
    return Map(frame, outline, dots, BOUNDARY_CREDIT, tuple(legend))
