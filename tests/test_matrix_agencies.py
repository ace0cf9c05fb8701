"""The permission matrix of the agency directory (tests/permissions.py): public pages and
API, the same for everyone."""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import EVERYONE, Route, Scene, check_route, hac_thanh, route_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _code(scene: Scene) -> dict[str, object]:
    return {"code": hac_thanh().code}


ROUTES = [
    Route("GET", "co-quan/", limited=EVERYONE, data={"q": "hac thanh"}),
    Route("GET", "co-quan/<str:code>/", limited=EVERYONE, args=_code),
    Route("GET", "/api/v1/agencies", limited=EVERYONE, data={"q": "hac thanh"}),
    Route("GET", "/api/v1/agencies/{code}", limited=EVERYONE, args=_code),
]


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
