"""The permission matrix of the procedure catalogue (tests/permissions.py): its pages and
API are public; in the admin, the catalogue editor (and the province administrator) keep
the procedures, nobody else gets in. (The submission form, a dossiers page, is in
test_permissions.py.)"""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import EVERYONE, Route, Scene, check_route, route_id
from tinhso.catalog.models import Procedure, ProcedureField, SearchSynonym

pytestmark = pytest.mark.django_db
CODE = "1.001193"  # the birth registration


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _code(scene: Scene) -> dict[str, object]:
    return {"code": CODE}


def _procedure(scene: Scene) -> dict[str, object]:
    return {"object_id": Procedure.objects.get(code=CODE).pk}


def _procedure_pk(scene: Scene) -> dict[str, object]:
    return {"pk": Procedure.objects.get(code=CODE).pk}


def _field(scene: Scene) -> dict[str, object]:
    return {"object_id": ProcedureField.objects.order_by("pk").first().pk}  # type: ignore[union-attr]


def _synonym(scene: Scene) -> dict[str, object]:
    return {"object_id": SearchSynonym.objects.order_by("pk").first().pk}  # type: ignore[union-attr]


EDITORS = {"province_admin", "province_catalog_editor"}
ADMIN = "quan-tri/catalog/"

ROUTES = [
    Route("GET", "thu-tuc/", name="search", limited=EVERYONE, data={"q": "khai sinh"}),
    Route("GET", "thu-tuc/<str:code>/", limited=EVERYONE, args=_code),
    Route("GET", "thu-tuc/<str:code>/to-khai/", name="the blank form", limited=EVERYONE,
          args=_code),
    Route("GET", "/api/v1/procedures", limited=EVERYONE, data={"q": "khai sinh"}),
    Route("GET", "/api/v1/procedures/{code}", limited=EVERYONE, args=_code),
    *[
        Route("GET", ADMIN + page, limited=EDITORS, args=args)
        for model, args in (
            ("procedure", _procedure), ("procedurefield", _field), ("searchsynonym", _synonym)
        )
        for page in (
            f"{model}/",
            f"{model}/add/",
            f"{model}/<path:object_id>/change/",
            f"{model}/<path:object_id>/history/",
            f"{model}/<path:object_id>/delete/",
        )
    ],
    Route("GET", ADMIN + "procedure/<int:pk>/xem-truoc-ket-qua/", name="the result's preview",
          limited=EDITORS, args=_procedure_pk),
    *[
        Route("GET", ADMIN + f"{model}/<path:object_id>/", name="to its change page",
              limited=EDITORS, ok=(302,), args=args)
        for model, args in (
            ("procedure", _procedure), ("procedurefield", _field), ("searchsynonym", _synonym)
        )
    ],
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)


def test_the_catalogue_editors_role_opens_the_catalogue_in_the_admin() -> None:
    """Staff holding the catalogue editor's role in the province People's Committee keep the
    procedures (policy `catalog.edit`, no group needed); the same role held in a commune
    gives nothing there, and neither gives any other page of the admin."""
    from permissions import agency
    from tinhso.accounts.models import User
    from tinhso.accounts.services import membership_grant, official_create
    from tinhso.catalog.roles import CATALOG_EDITOR

    pages = {}
    for where in ("province", "hac_thanh"):
        editor = official_create(actor=None, username=f"bientap.{where}", full_name="Biên tập")
        User.objects.filter(pk=editor.pk).update(is_staff=True)  # may enter the admin
        membership_grant(actor=None, user=editor, agency=agency(where), role=CATALOG_EDITOR)
        client = Client()
        client.force_login(User.objects.get(pk=editor.pk))
        procedure = Procedure.objects.get(code=CODE)
        pages[where] = [
            client.get(f"/{ADMIN}procedure/").status_code,
            client.get(f"/{ADMIN}procedure/{procedure.pk}/change/").status_code,
            client.get("/quan-tri/accounts/user/").status_code,
        ]
    assert pages == {"province": [200, 200, 403], "hac_thanh": [403, 403, 403]}
