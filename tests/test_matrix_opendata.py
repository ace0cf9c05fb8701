"""The permission matrix of the open-data portal (tests/permissions.py): the portal's
pages, the DCAT documents, the downloads and the CKAN Action API read by anyone; a dataset
not yet published (Hạc Thành's) is seen and changed only by those who publish for Hạc
Thành (its data publishers and agency administrators, the province administrator), and a
data publisher of another agency (Sở Y tế) learns nothing of it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from permissions import (
    EVERYONE,
    Route,
    Scene,
    check_route,
    hac_thanh,
    route_id,
    serving,
    serving_anywhere,
)
from tinhso.opendata.models import Dataset, Theme
from tinhso.opendata.services import publisher_for

pytestmark = pytest.mark.django_db

HAC_THANH = serving("opendata.publish")  # who publishes for Hạc Thành
PUBLISHERS = serving_anywhere("opendata.publish")  # for some agency
OTHER = ("other_publisher",)


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _private(scene: Scene) -> list[str]:
    return [
        scene.PRIVATE_TITLE, scene.PRIVATE_TAG, scene.private_dataset.name,
        str(scene.private_resource.pk),
    ]  # fmt: skip


def _named(scene: Scene) -> list[str]:
    """What a refusal must not tell of the dataset whose resource the caller names."""
    return [scene.PRIVATE_TITLE, scene.private_dataset.name]


def _built(scene: Scene) -> None:
    scene.private_dataset  # noqa: B018 (Hạc Thành has published before: it has a publisher)


def _slug(scene: Scene) -> dict[str, object]:
    return {"slug": scene.private_dataset.name}


def _resource(scene: Scene) -> dict[str, object]:
    return {"slug": scene.private_dataset.name, "resource_id": scene.private_resource.pk}


def _ckan(**values: Callable[[Scene], object]) -> Callable[[Scene, str], dict[str, object]]:
    return lambda scene, actor: {k: v(scene) for k, v in values.items()}


def _hidden(route: str, **kw: object) -> Route:
    """A read of the private dataset: Hạc Thành's publishers only."""
    return Route("GET", route, full=HAC_THANH, extra=OTHER, markers=_private, **kw)  # type: ignore[arg-type]


def _public(route: str, **kw: object) -> Route:
    """A public read: everyone, and nothing of the private dataset."""
    return Route("GET", route, limited=EVERYONE | set(OTHER), extra=OTHER,  # type: ignore[arg-type]
                 markers=_private, before=lambda s: _private(s) and None, **kw)  # fmt: skip


def _published(scene: Scene, answers: dict) -> None:
    assert not Dataset.objects.get(pk=scene.private_dataset.pk).private


def _created_by(holders: set[str], prefix: str) -> Callable[[Scene, dict], None]:
    def check(scene: Scene, answers: dict) -> None:
        made = set(Dataset.objects.filter(name__startswith=prefix).values_list("name", flat=True))
        assert made == {f"{prefix}{actor.replace('_', '-')}" for actor in holders}

    return check


def _new_dataset(prefix: str) -> Callable[[Scene, str], dict[str, object]]:
    def data(scene: Scene, actor: str) -> dict[str, object]:
        return {"name": f"{prefix}{actor.replace('_', '-')}", "title": "Dữ liệu thử",
                "owner_org": hac_thanh().code, "groups": Theme.objects.first().name,  # type: ignore[union-attr]
                "license_id": "CC-BY-4.0"}  # fmt: skip

    return data


ROUTES = [
    _public("du-lieu-mo/", name="the portal"),
    _public("du-lieu-mo/tim-kiem/", name="search", data={"q": "ma tran"}),
    _public("catalog.ttl", path=lambda s: "/catalog.ttl", name="DCAT"),
    _public("organization/<slug:name>", ok=(302,),
            args=lambda s: {"name": publisher_for(hac_thanh()).name}),
    _hidden("du-lieu-mo/<slug:slug>/", args=_slug),
    _hidden("du-lieu-mo/<slug:slug>/tai-nguyen/<uuid:resource_id>/", args=_resource),
    _hidden("dataset/<slug>.jsonld", path=lambda s: f"/dataset/{s.private_dataset.name}.jsonld"),
    _hidden("dataset/<str:slug>", args=_slug, ok=(302,)),
    _hidden("dataset/<str:slug>/", args=_slug, ok=(302,)),
    _hidden("dataset/<str:slug>/resource/<uuid:resource_id>", args=_resource, ok=(302,)),
    _hidden("dataset/<slug:slug>/resource/<uuid:resource_id>/download/<str:filename>",
            args=lambda s: {**_resource(s), "filename": "bang.csv"}),
    # The publishers' pages: each publisher sees their own agencies' datasets.
    Route("GET", "du-lieu-mo/quan-ly/", name="the publishers' list", full=HAC_THANH,
          limited=set(OTHER), extra=OTHER, markers=_private),
    Route("GET", "du-lieu-mo/quan-ly/tao-moi/", name="the form for a new dataset",
          limited=PUBLISHERS, extra=OTHER, markers=_private),
    # Sở Y tế's publisher cannot choose Hạc Thành: the form refuses it.
    Route("POST", "du-lieu-mo/quan-ly/tao-moi/", name="creating for Hạc Thành",
          full=HAC_THANH, ok=(302,), limited=set(OTHER), limited_ok=(200,), extra=OTHER,
          before=_built, data=_new_dataset("trang-"),
          check=_created_by(set(HAC_THANH), "trang-")),
    _hidden("du-lieu-mo/quan-ly/<slug:slug>/", args=_slug),
    Route("POST", "du-lieu-mo/quan-ly/<slug:slug>/cong-bo/", name="publishing", args=_slug,
          full=HAC_THANH, ok=(302,), extra=OTHER, markers=_private, data={"publish": "1"},
          check=_published),
    # The CKAN Action API. Reads:
    *[_public(f"ckan:{name}") for name in (
        "status_show", "site_read", "license_list", "package_list", "organization_list",
        "group_list", "tag_list")],
    _public("ckan:help_show", data={"name": "package_show"}),
    _public("ckan:organization_show", data=_ckan(
        id=lambda s: publisher_for(hac_thanh()).name, include_datasets=lambda s: "true")),
    _public("ckan:group_show", data=_ckan(  # the private dataset's field
        id=lambda s: Theme.objects.order_by("name").first().name,  # type: ignore[union-attr]
        include_datasets=lambda s: "true")),
    _public("api/action/<str:name>", name="the unversioned address",
            args=lambda s: {"name": "package_search"}),
    Route("GET", "ckan:package_search", name="with private datasets", full=HAC_THANH,
          limited=EVERYONE - HAC_THANH | set(OTHER), extra=OTHER, markers=_private,
          data={"q": "ma tran", "include_private": "true"}),
    _hidden("ckan:package_show", data=_ckan(id=lambda s: s.private_dataset.name)),
    _hidden("ckan:resource_show", data=_ckan(id=lambda s: s.private_resource.pk)),
    _hidden("ckan:xloader_status", data=_ckan(resource_id=lambda s: s.private_resource.pk)),
    # The "not found" message repeats the id the caller gave, nothing more.
    Route("GET", "ckan:datastore_search", full=HAC_THANH, extra=OTHER, markers=_named,
          data=_ckan(resource_id=lambda s: s.private_resource.pk)),
    # Writes (an API token; a publisher of another agency is refused).
    Route("POST", "ckan:package_create", body="json", full=HAC_THANH, extra=OTHER,
          before=_built, data=_new_dataset("ckan-"), check=_created_by(set(HAC_THANH), "ckan-")),
    Route("POST", "ckan:package_patch", body="json", full=HAC_THANH, extra=OTHER,
          markers=_private, data=_ckan(id=lambda s: s.private_dataset.name,
                                       notes=lambda s: "Mô tả mới")),
    Route("POST", "ckan:resource_create", body="json", full=HAC_THANH, extra=OTHER,
          markers=_private, data=_ckan(package_id=lambda s: s.private_dataset.name,
                                       name=lambda s: "Liên kết",
                                       url=lambda s: "https://example.org/bang.csv")),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
