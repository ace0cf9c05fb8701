from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tinhso.agencies.selectors import agency_get
from tinhso.catalog.eform import form_fields
from tinhso.catalog.models import OnlineLevel, ProcedureLevel
from tinhso.catalog.selectors import (
    ProcedureFilters,
    fields_with_counts,
    procedure_get,
    procedure_search,
    receiving_agencies_for,
)

PAGE_SIZE = 20


def search(request: HttpRequest) -> HttpResponse:
    """Find a procedure: words without diacritics are fine; filters by field, agency, level
    and online level. Works without JavaScript; htmx swaps only the results."""
    get = request.GET
    level = get.get("level", "")
    online = get.get("online_level", "")
    agency = agency_get(code=get.get("agency", "")) if get.get("agency") else None
    filters = ProcedureFilters(
        q=get.get("q", "")[:200],
        field=get.get("field") or None,
        agency=agency,
        level=level if level in ProcedureLevel.values else None,
        online_level=online if online in OnlineLevel.values else None,
    )
    results = procedure_search(filters)
    page = Paginator(results, PAGE_SIZE).get_page(get.get("page"))
    query = get.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "fields": fields_with_counts(),
        "levels": ProcedureLevel.choices,
        "online_levels": OnlineLevel.choices,
        "query": query.urlencode(),
        "corrected": results.corrected,
    }
    template = (
        "catalog/_results.html" if request.headers.get("HX-Request") else "catalog/search.html"
    )
    return render(request, template, context)


def detail(request: HttpRequest, code: str) -> HttpResponse:
    procedure = procedure_get(code=code)
    if procedure is None:
        raise Http404
    receiving = receiving_agencies_for(procedure)
    context = {
        "procedure": procedure,
        "papers": list(procedure.papers.all()),
        "receiving_centre": [a for a in receiving if a.level == "province"],
        "receiving_communes": len([a for a in receiving if a.level == "commune"]),
    }
    return render(request, "catalog/detail.html", context)


def blank_form(request: HttpRequest, code: str) -> HttpResponse:
    """The e-form as a printable blank declaration, for those who fill it in by hand."""
    procedure = procedure_get(code=code)
    if procedure is None:
        raise Http404
    context = {"procedure": procedure, "fields": form_fields(procedure.form_schema or {})}
    return render(request, "catalog/blank_form.html", context)
