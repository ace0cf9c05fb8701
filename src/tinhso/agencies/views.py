from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tinhso.agencies.models import AgencyKind, AgencyLevel
from tinhso.agencies.selectors import agency_ancestors, agency_get, agency_list

PAGE_SIZE = 50


def directory(request: HttpRequest) -> HttpResponse:
    """The public agency directory: search, filter by level and kind; works without
    JavaScript, and htmx swaps only the results when it is there."""
    q = request.GET.get("q", "")[:100]
    level = request.GET.get("level", "")
    kind = request.GET.get("kind", "")
    qs = agency_list(
        q=q,
        level=level if level in AgencyLevel.values else None,
        kind=kind if kind in AgencyKind.values else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "q": q,
        "level": level,
        "kind": kind,
        "levels": AgencyLevel.choices,
        "kinds": AgencyKind.choices,
        "query": query.urlencode(),
    }
    template = (
        "agencies/_results.html" if request.headers.get("HX-Request") else "agencies/directory.html"
    )
    return render(request, template, context)


def detail(request: HttpRequest, code: str) -> HttpResponse:
    agency = agency_get(code=code)
    if agency is None:
        raise Http404
    children = agency_list(parent=agency)
    context = {"agency": agency, "ancestors": agency_ancestors(agency), "children": children}
    return render(request, "agencies/detail.html", context)
