"""The permission matrix of citizens' reports (tests/permissions.py): the public list, each
report's page, its photos and Open311 are everyone's and never show the reporter (their
name, phone, ID: they did not agree to show their name); reporting is open to all; the
reporter alone rates; the officials' pages are for the report roles of the responsible
ward, the contact for its receivers only (their look logged for the citizen)."""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import EVERYONE, PUBLIC_MARKERS, Route, Scene, check_route, route_id

pytestmark = pytest.mark.django_db

STAFF = ("report_receiver", "report_handler", "report_moderator", "other_report_receiver")
ALL = EVERYONE | set(STAFF)


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _public(s: Scene) -> list[str]:
    return PUBLIC_MARKERS


def _code(s: Scene) -> dict[str, object]:
    return {"code": s.report.code}


def _open311(suffix: str) -> object:
    return lambda s: "/open311/v2/" + suffix.format(code=s.report.code, token=s.report.public_id)


def _report(s: Scene, actor: str) -> dict[str, str]:
    return {"category": "den-duong", "description": f"Đèn hỏng ({actor})", "lat": "19.8072",
            "lng": "105.7768", "phone": "0977000111", "checked": "1"}  # fmt: skip


ROUTES = [
    Route("GET", "phan-anh/", name="the public list", limited=ALL, extra=STAFF,
          before=lambda s: s.report and None, markers=_public),
    Route("GET", "phan-anh/gui/", name="the form to report", limited=ALL, extra=STAFF),
    Route("POST", "phan-anh/gui/", name="anyone reports", full=ALL, extra=STAFF, ok=(302,),
          data=_report),
    Route("GET", "phan-anh/<str:code>/", name="a report's public page", limited=ALL,
          extra=STAFF, args=_code, markers=_public),
    Route("POST", "phan-anh/<str:code>/", name="the reporter rates", full={"applicant"},
          extra=STAFF, args=_code, ok=(302,), data={"what": "rate", "rating": "2"},
          markers=_public),
    Route("GET", "phan-anh/anh/<uuid:public_id>/", name="a report's photo", limited=ALL,
          extra=STAFF, args=lambda s: {"public_id": s.report_photo.public_id}),
    Route("GET", "can-bo/phan-anh/", name="the officials' boxes", limited=set(STAFF),
          extra=STAFF, before=lambda s: s.report and None, markers=_public),
    # The receiver reads the reporter's contact (logged); the field worker and the
    # moderator handle the report without it; the receiver of another commune not at all.
    Route("GET", "can-bo/phan-anh/<str:code>/", name="handling a report",
          full={"report_receiver"}, limited={"report_handler", "report_moderator"},
          extra=STAFF, args=_code, markers=lambda s: ["0912000001", "Nguyễn Văn An"]),
    Route("POST", "can-bo/phan-anh/<str:code>/", name="closing a report",
          full={"report_receiver"}, extra=STAFF, args=_code, ok=(302,),
          data=lambda s, a: {"action": "close", "version": s.report.version}, markers=_public),
    # Open311 GeoReport v2: public reads; creating needs an application's api_key.
    Route("GET", r"^open311/v2/services\.(?P<fmt>json|xml)$", limited=ALL, extra=STAFF,
          path=_open311("services.xml")),
    Route("GET", r"^open311/v2/services/(?P<code>[\w-]{1,64})\.(?P<fmt>json|xml)$",
          limited=ALL, extra=STAFF, path=_open311("services/o-ga.json")),
    Route("GET", r"^open311/v2/requests\.(?P<fmt>json|xml)$", limited=ALL, extra=STAFF,
          path=_open311("requests.json"), before=lambda s: s.report and None, markers=_public),
    Route("POST", r"^open311/v2/requests\.(?P<fmt>json|xml)$", name="without an api_key",
          extra=STAFF, path=_open311("requests.json"), data=_report),
    Route("GET", r"^open311/v2/requests/(?P<code>[\w-]{1,64})\.(?P<fmt>json|xml)$",
          limited=ALL, extra=STAFF, path=_open311("requests/{code}.xml"), markers=_public),
    Route("GET", r"^open311/v2/tokens/(?P<token_id>[\w-]{1,64})\.(?P<fmt>json|xml)$",
          limited=ALL, extra=STAFF, path=_open311("tokens/{token}.json"), markers=_public),
    Route("GET", r"^open311/v2/discovery\.(?P<fmt>json|xml)$", limited=ALL, extra=STAFF,
          path=_open311("discovery.json")),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
