"""GET /api/v1/figures and GET /api/v1/indicators: what the modules declared to the
indicator registry (core.indicators), composed here, where every module may be known.

The figures' response schema is put together from the registered figure sets when the API
is built (after the apps are ready): the top-level sets' fields after `agency`, `start` and
`end`, then one object per set that has a section (the payments)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import create_model

from tinhso.accounts.services import client_network
from tinhso.agencies.selectors import AgencyTree, agency_get
from tinhso.core.api import ErrorOut
from tinhso.core.indicators import Scope, figure_sets, figures_compute
from tinhso.core.input import Day
from tinhso.core.rates import rate_exceeded

figures_router = Router(tags=["figures"])
indicators_router = Router(tags=["figures"])


class FiguresIn(Schema):
    agency: str
    start: Day
    end: Day


def _figures_schema() -> type[Schema]:
    # The figure sets register in the apps' ready(): built before, the schema would miss them.
    apps.check_apps_ready()
    fields: dict[str, Any] = {"agency": (str, ...), "start": (date, ...), "end": (date, ...)}
    for figure_set in figure_sets():
        if figure_set.section:
            fields[figure_set.section] = (figure_set.schema, ...)
        else:
            fields.update(
                (name, (info.annotation, info))
                for name, info in figure_set.schema.model_fields.items()
            )
    return create_model("FiguresOut", __base__=Schema, **fields)


FiguresOut = _figures_schema()


RATE_SECONDS = 60


def _computations_exceeded(request: HttpRequest) -> int:
    """Seconds to wait when an anonymous client has had TINHSO_FIGURES_RATE answers
    computed in this minute (a client varying the period to miss the cache), else 0. Users
    signed in on the site are not counted, nor is a client whose address is unknown; an
    API client with a token (this endpoint asks for none) is counted by its address."""
    if getattr(request.user, "is_authenticated", False):
        return 0
    client = client_network(request)
    if not client or settings.TINHSO_FIGURES_RATE <= 0:
        return 0
    key = f"figures:rate:{client}"
    return rate_exceeded(key, most=settings.TINHSO_FIGURES_RATE, seconds=RATE_SECONDS)


@figures_router.get(
    "", response={200: FiguresOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}, auth=None,
    summary="Dossier figures of an agency (and its units) for a period, from the daily "
    "rollups the events keep (answers may be up to a minute old)",
    description="Public. An anonymous client may have TINHSO_FIGURES_RATE answers a minute "
    "computed (120 by default; answers already kept do not count); past that, 429 with "
    "Retry-After.",
    # The id it had when the dossiers module served it: generated clients keep their names.
    operation_id="tinhso_dossiers_api_figures",
)  # fmt: skip
def figures(
    request: HttpRequest, response: HttpResponse, query: Query[FiguresIn]
) -> Status[object]:
    # Public and anonymous: every answer may be kept FIGURES_CACHE_SECONDS by the browser,
    # a proxy (Cache-Control) and this server's cache (ADR 0026). The figures are sums of
    # rollups (a few rows per agency), so even an uncached answer costs one small query.
    seconds = settings.FIGURES_CACHE_SECONDS
    response["Cache-Control"] = f"public, max-age={seconds}"
    key = f"figures:{query.agency}:{query.start}:{query.end}"
    cached = cache.get(key) if seconds else None
    if cached is not None:
        return Status(200, cached)
    wait = _computations_exceeded(request)
    if wait:
        response["Retry-After"] = str(wait)
        response["Cache-Control"] = "no-store"
        return Status(429, {
            "detail": _("Too many figures asked for in a minute; try again in a minute."),
            "code": "rate",
        })  # fmt: skip
    agency = agency_get(code=query.agency)
    if agency is None:
        return Status(404, {
            "detail": _("No agency has the code %(code)s.") % {"code": query.agency},
            "code": "not_found",
        })  # fmt: skip
    if query.end < query.start or (query.end - query.start).days > 3660:
        return Status(422, {"detail": _("Choose a period of at most ten years."), "code": "period"})
    scope = Scope(agencies=AgencyTree(agency), start=query.start, end=query.end)
    body = {"agency": agency.code, "start": query.start, "end": query.end,
            **figures_compute(scope)}  # fmt: skip
    if seconds:
        cache.set(key, body, seconds)
    return Status(200, body)


class DimensionOut(Schema):
    code: str = Field(description="What the value is broken down by, e.g. `channel`")
    values: list[str] = Field(description="The keys of the value's breakdown")


class IndicatorOut(Schema):
    code: str = Field(description="`<module>.<key>`, e.g. `dossiers.finished_on_time`")
    name_vi: str
    name_en: str
    unit: str = Field(description="dossiers, ratings, VND, ratio (0–1) or score (1–3)")
    dimensions: list[DimensionOut]
    module: str = Field(description="The module that declares and computes it")


@indicators_router.get(
    "", response={200: list[IndicatorOut]}, auth=None,
    summary="Every indicator the modules declare: code, names, unit, dimensions, module",
)  # fmt: skip
def indicators_list(request: HttpRequest) -> list[dict[str, object]]:
    return [
        {
            "code": figure_set.code(indicator),
            "name_vi": indicator.name_vi,
            "name_en": indicator.name_en,
            "unit": indicator.unit.value,
            "dimensions": [
                {"code": d.code, "values": list(d.values)} for d in indicator.dimensions
            ],
            "module": figure_set.module,
        }
        for figure_set in figure_sets()
        for indicator in figure_set.indicators
    ]
