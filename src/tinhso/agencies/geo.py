"""Places: which administrative unit a point lies in, and distances.

Boundaries are GeoJSON (WGS 84, [longitude, latitude]) Polygons or MultiPolygons kept per
agency (agencies.Boundary). A point is looked up by the bounding boxes first (an index
range), then tested against the few polygons whose box holds it (even-odd rule over every
ring, so holes are outside)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tinhso.agencies.models import Agency, AgencyLevel, Boundary

Ring = Sequence[Sequence[float]]
EARTH_RADIUS_M = 6_371_008.8


def polygons_of(geometry: dict[str, Any]) -> list[list[Ring]]:
    """The polygons (each a list of rings) of a Polygon or MultiPolygon; ValueError else."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon" and isinstance(coordinates, list):
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        raise ValueError("a boundary is a GeoJSON Polygon or MultiPolygon")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError("a polygon has at least one ring")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValueError("a ring has at least four positions")
            for position in ring:
                if (
                    not isinstance(position, list | tuple)
                    or len(position) < 2
                    or not all(isinstance(v, int | float) for v in position[:2])
                    or not (-180 <= position[0] <= 180 and -90 <= position[1] <= 90)
                ):
                    raise ValueError("a position is [longitude, latitude] in degrees")
    return polygons


def _in_ring(lng: float, lat: float, ring: Ring) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(geometry: dict[str, Any], lat: float, lng: float) -> bool:
    """Whether the point lies inside the Polygon or MultiPolygon (holes excluded)."""
    for polygon in polygons_of(geometry):
        inside = False
        for ring in polygon:
            if _in_ring(lng, lat, ring):
                inside = not inside
        if inside:
            return True
    return False


def bounds(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng)."""
    lats = [p[1] for polygon in polygons_of(geometry) for ring in polygon for p in ring]
    lngs = [p[0] for polygon in polygons_of(geometry) for ring in polygon for p in ring]
    return min(lats), max(lats), min(lngs), max(lngs)


def boundary_set(agency: Agency, geometry: dict[str, Any], *, source: str = "") -> Boundary:
    """Keep `geometry` as the agency's boundary (replacing any); ValidationError if it is
    not a valid Polygon or MultiPolygon."""
    try:
        min_lat, max_lat, min_lng, max_lng = bounds(geometry)
    except ValueError as exc:
        raise ValidationError(
            _("The boundary of %(a)s is not valid: %(e)s.") % {"a": agency, "e": exc}
        ) from None
    with transaction.atomic():
        boundary, _created = Boundary.objects.update_or_create(
            agency=agency,
            defaults={
                "geometry": geometry, "min_lat": min_lat, "max_lat": max_lat,
                "min_lng": min_lng, "max_lng": max_lng, "source": source[:255],
            },
        )  # fmt: skip
    return boundary


def commune_at(lat: float, lng: float) -> Agency | None:
    """The active commune or ward whose boundary holds the point, if any."""
    candidates = (
        Boundary.objects.filter(
            min_lat__lte=lat, max_lat__gte=lat, min_lng__lte=lng, max_lng__gte=lng,
            agency__level=AgencyLevel.COMMUNE, agency__is_active=True,
        )
        .select_related("agency")
        .order_by("agency__path")
    )  # fmt: skip
    for boundary in candidates:
        if contains(boundary.geometry, lat, lng):
            return boundary.agency
    return None


def province_bounds() -> tuple[float, float, float, float] | None:
    """The box around every commune's boundary (None when none is loaded)."""
    from django.db.models import Max, Min

    box = Boundary.objects.filter(agency__level=AgencyLevel.COMMUNE).aggregate(
        Min("min_lat"), Max("max_lat"), Min("min_lng"), Max("max_lng")
    )
    if box["min_lat__min"] is None:
        return None
    return box["min_lat__min"], box["max_lat__max"], box["min_lng__min"], box["max_lng__max"]


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def box_around(lat: float, lng: float, metres: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) of a square at least `metres` around the point."""
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    dlng = math.degrees(metres / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 0.01)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng
