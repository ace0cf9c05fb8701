"""GET /api/v1/procedures: the public catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from tinhso.agencies.selectors import agency_get
from tinhso.catalog.models import OnlineLevel, Procedure, ProcedureLevel
from tinhso.catalog.selectors import (
    ProcedureFilters,
    procedure_get,
    procedure_search,
    receiving_agencies_for,
)
from tinhso.core.api import ErrorOut, Page, PageParams

router = Router(tags=["procedures"])


class FeeOut(Schema):
    name: str
    amount: int
    per: str = ""
    note: str = ""


class PaperOut(Schema):
    id: int
    name: str
    originals: int
    copies: int
    required: bool
    reusable: bool
    paper_type: str
    eform: bool = Field(description="The declaration: the e-form takes its place online")


class ProcedureSummaryOut(Schema):
    code: str
    name: str
    field: str = Field(alias="field.name")
    field_code: str = Field(alias="field.code")
    level: str
    online_level: str
    time_days: Decimal
    fee_total: int
    implementing_agency: str | None

    @staticmethod
    def resolve_implementing_agency(obj: Procedure) -> str | None:
        return obj.implementing_agency.code if obj.implementing_agency else None


class AgencyRefOut(Schema):
    code: str
    name: str


class ProcedureOut(ProcedureSummaryOut):
    deciding_body: str
    time_note: str
    fees: list[FeeOut]
    papers: list[PaperOut]
    result_methods: list[str]
    result_name: str
    legal_basis: str
    form_schema: dict[str, Any]
    receiving_agencies: list[AgencyRefOut]

    @staticmethod
    def resolve_papers(obj: Procedure) -> list[Any]:
        return list(obj.papers.all())

    @staticmethod
    def resolve_receiving_agencies(obj: Procedure) -> list[Any]:
        return receiving_agencies_for(obj)


class ProcedureFilterIn(Schema):
    q: str = Field("", description="Words of the name or code; diacritics and case ignored")
    field: str | None = Field(None, description="Field code, e.g. HT")
    agency: str | None = Field(None, description="Agency code")
    level: ProcedureLevel | None = None
    online_level: OnlineLevel | None = None


@router.get(
    "",
    response={200: Page[ProcedureSummaryOut], 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="Search the procedure catalogue",
)
def procedures_list(
    request: HttpRequest, filters: Query[ProcedureFilterIn], paging: Query[PageParams]
) -> Status[object]:
    agency = None
    if filters.agency:
        agency = agency_get(code=filters.agency)
        if agency is None:
            return Status(
                404, {"detail": _("No agency has the code %(code)s.") % {"code": filters.agency}}
            )
    results = procedure_search(
        ProcedureFilters(
            q=filters.q,
            field=filters.field,
            agency=agency,
            level=filters.level.value if filters.level else None,
            online_level=filters.online_level.value if filters.online_level else None,
        )
    )
    start = (paging.page - 1) * paging.page_size
    return Status(
        200,
        {
            "count": len(results),
            "page": paging.page,
            "page_size": paging.page_size,
            "pages": max(1, -(-len(results) // paging.page_size)),
            "items": results[start : start + paging.page_size],
        },
    )


@router.get(
    "/{code}",
    response={200: ProcedureOut, 404: ErrorOut},
    auth=None,
    summary="One procedure, with papers, fees and its e-form",
)
def procedures_get(request: HttpRequest, code: str) -> Status[object]:
    procedure = procedure_get(code=code)
    if procedure is None:
        return Status(404, {"detail": _("No procedure has the code %(code)s.") % {"code": code}})
    return Status(200, procedure)
