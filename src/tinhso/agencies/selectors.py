"""Reads of the agency tree."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.core.text import fold


def agency_list(
    *,
    q: str = "",
    level: str | None = None,
    parent: Agency | None = None,
    kind: str | None = None,
    active_only: bool = True,
) -> QuerySet[Agency]:
    """Agencies matching every word of `q` (accents and case ignored), a level, a kind and
    the direct parent, in tree order."""
    qs = Agency.objects.select_related("parent")
    if active_only:
        qs = qs.filter(is_active=True)
    for word in fold(q).split():
        qs = qs.filter(search_text__contains=word)
    if level:
        qs = qs.filter(level=level)
    if kind:
        qs = qs.filter(kind=kind)
    if parent is not None:
        qs = qs.filter(parent=parent)
    return qs.order_by("path")


def agency_get(*, code: str) -> Agency | None:
    return Agency.objects.select_related("parent").filter(code=code).first()


def agency_ancestors(agency: Agency) -> list[Agency]:
    by_id = Agency.objects.in_bulk(agency.ancestor_ids())
    return [by_id[pk] for pk in agency.ancestor_ids() if pk in by_id]


def agency_superior_name(agency: Agency) -> str:
    """The name of the body above `agency`, as the heading of its papers names it: its
    parent's, read with it where the caller joined it (`select_related("…parent")`),
    otherwise by its key; "" at the top of the tree."""
    if agency.parent_id is None:
        return ""
    parent = agency.parent
    return parent.name if parent is not None else ""


def province_committee(*, province_code: int) -> Agency | None:
    """The People's Committee at the top of a province's tree (as province_seed makes it)."""
    return Agency.objects.filter(
        parent__isnull=True, kind=AgencyKind.PEOPLES_COMMITTEE, admin_unit_code=province_code
    ).first()


def agency_counts() -> dict[str, int]:
    qs = Agency.objects.filter(is_active=True)
    return {
        "province": qs.filter(level=AgencyLevel.PROVINCE).count(),
        "commune": qs.filter(level=AgencyLevel.COMMUNE).count(),
    }


@dataclass(frozen=True)
class AgencyTree:
    """An agency and every unit below it, as the indicators count them
    (core.indicators.AgencySet): a parent agency's figures include its communes'."""

    agency: Agency

    @property
    def code(self) -> str:
        return self.agency.code

    def within(self, field: str) -> Q:
        # The materialised path: the whole subtree is one prefix match (ADR 0002).
        return Q(**{f"{field}__path__startswith": self.agency.path})
