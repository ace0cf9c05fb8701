"""Loading the boundaries of a province's units from GeoJSON (agencies.Boundary): each
feature is matched to the People's Committee of the commune or ward of the same name, or,
with `province=True`, the file's one feature is the province's outline."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from tinhso.agencies.geo import boundary_set
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.core.text import fold

DATA = Path(__file__).parent / "data"
BUNDLED = {38: ("38-communes-2025.geojson.gz", "38-province-2025.geojson.gz")}
SOURCE = "thanglequoc/vietnamese-provinces-database@cd58063 (MIT)"


@dataclass
class BoundariesLoaded:
    loaded: int = 0
    unmatched: list[str] = field(default_factory=list)


def _read(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise ValueError(f"{path.name} is not a GeoJSON FeatureCollection")
    return data


def _features(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["features"] if data["type"] == "FeatureCollection" else [data]


def boundaries_load(path: Path, *, source: str = "", province: bool = False) -> BoundariesLoaded:
    """Load the boundaries of `path` (GeoJSON, optionally gzipped) in one transaction."""
    data = _read(path)
    result = BoundariesLoaded()
    with transaction.atomic():
        if province:
            committee = Agency.objects.filter(
                level=AgencyLevel.PROVINCE, kind=AgencyKind.PEOPLES_COMMITTEE, parent=None
            ).first()
            features = _features(data)
            if committee is None or len(features) != 1:
                raise ValueError("a province outline is one feature, for the province's committee")
            boundary_set(committee, features[0]["geometry"], source=source)
            result.loaded = 1
            return result
        communes = {
            fold(a.admin_unit_name): a
            for a in Agency.objects.filter(
                level=AgencyLevel.COMMUNE, kind=AgencyKind.PEOPLES_COMMITTEE
            ).exclude(admin_unit_name="")
        }
        for feature in _features(data):
            props = feature.get("properties") or {}
            name = props.get("fullName") or f"{props.get('type', '')} {props.get('name', '')}"
            agency = communes.get(fold(str(name).strip()))
            if agency is None:
                result.unmatched.append(str(name))
                continue
            boundary_set(agency, feature["geometry"], source=source)
            result.loaded += 1
    return result


def boundaries_load_bundled(province_code: int) -> BoundariesLoaded:
    """The boundaries shipped with the platform for this province, if any."""
    files = BUNDLED.get(province_code)
    if files is None:
        return BoundariesLoaded()
    communes, outline = files
    result = boundaries_load(DATA / communes, source=SOURCE)
    boundaries_load(DATA / outline, source=SOURCE, province=True)
    return result
