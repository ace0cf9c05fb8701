"""GET /api/v1/agencies: the public agency directory."""

from __future__ import annotations

import functools

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.agencies.selectors import agency_get, agency_list
from tinhso.core.api import ErrorOut, Page, PageParams, paginate

router = Router(tags=["agencies"])


@functools.cache
def _detail_prefix() -> str:
    # One reverse() per process instead of one per listed agency (it showed in profiles).
    return reverse("agencies:detail", args=["-"])[:-2]


class AdminUnitOut(Schema):
    code: int
    type: str
    name: str


class AgencyOut(Schema):
    code: str = Field(description="Electronic identifier code (Decision 20/2020/QĐ-TTg)")
    name: str
    name_en: str
    short_name: str
    kind: str
    level: str = Field(description="Tier of local government: province or commune")
    eid_level: int = Field(description="Level the code identifies (1 = province)")
    depth: int = Field(description="Depth in the agency tree (0 = root)")
    parent: str | None = Field(description="Parent agency's code")
    admin_unit: AdminUnitOut | None
    address: str
    phone: str
    email: str
    website: str
    calendar: str
    url: str

    @staticmethod
    def resolve_parent(obj: Agency) -> str | None:
        return obj.parent.code if obj.parent is not None else None

    @staticmethod
    def resolve_admin_unit(obj: Agency) -> dict[str, object] | None:
        if obj.admin_unit_code is None:
            return None
        return {
            "code": obj.admin_unit_code,
            "type": obj.admin_unit_type,
            "name": obj.admin_unit_name,
        }

    @staticmethod
    def resolve_url(obj: Agency) -> str:
        return _detail_prefix() + obj.code + "/"


class AgencyFilter(Schema):
    q: str = Field("", description="Words of the name or code; accents and case are ignored")
    level: AgencyLevel | None = Field(None, description="province or commune")
    kind: AgencyKind | None = None
    parent: str | None = Field(None, description="Only the direct units of this agency code")


@router.get(
    "",
    response={200: Page[AgencyOut], 404: ErrorOut, 422: ErrorOut},
    summary="List agencies",
    auth=None,
)
def agencies_list(
    request: HttpRequest, filters: Query[AgencyFilter], paging: Query[PageParams]
) -> Status[object]:
    parent = None
    if filters.parent:
        parent = agency_get(code=filters.parent)
        if parent is None:
            return Status(
                404,
                {
                    "detail": _("No agency has the code %(code)s.") % {"code": filters.parent},
                    "code": "unknown_parent",
                },
            )
    qs = agency_list(
        q=filters.q,
        level=filters.level.value if filters.level else None,
        kind=filters.kind.value if filters.kind else None,
        parent=parent,
    )
    return Status(200, paginate(qs, paging))


@router.get("/{code}", response={200: AgencyOut, 404: ErrorOut}, summary="One agency", auth=None)
def agencies_get(request: HttpRequest, code: str) -> Status[object]:
    agency = agency_get(code=code)
    if agency is None:
        return Status(404, {"detail": _("No agency has the code %(code)s.") % {"code": code}})
    return Status(200, agency)
