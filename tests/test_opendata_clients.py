"""The open-data portal through clients nobody here wrote, over real HTTP: CKAN's own
Python client (ckanapi) lists, searches, shows, reads tabular rows and publishes; rdflib
reads the DCAT catalogue page after page (Hydra) in each of its three syntaxes, and
pyshacl checks it against the DCAT-AP 3.0.0 shapes published by SEMIC."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import ckanapi
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib import namespace as ns

pytestmark = pytest.mark.django_db(transaction=True)
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SHAPES = Path(__file__).parent / "data" / "dcat-ap-3.0.0-shacl.ttl"


def test_ckanapi_reads_and_publishes(live_server: Any, seeded_transactional_db: None) -> None:
    from tinhso.accounts.models import User
    from tinhso.accounts.services import api_token_create
    from tinhso.agencies.models import Agency
    from tinhso.opendata.models import Dataset

    public = set(Dataset.objects.filter(private=False).values_list("name", flat=True))
    private = set(Dataset.objects.filter(private=True).values_list("name", flat=True))
    assert private
    for get_only in (False, True):
        ckan = ckanapi.RemoteCKAN(live_server.url, get_only=get_only)
        assert ckan.action.site_read() is True
        assert ckan.action.status_show()["ckan_version"]
        assert set(ckan.action.package_list()) == public
        found = ckan.action.package_search(
            q="truong hoc", fq="organization:so-giao-duc-va-dao-tao", rows=5,
            **{"facet.field": ["groups", "res_format"]},
        )  # fmt: skip
        assert found["count"] >= 1
        assert found["results"][0]["organization"]["name"] == "so-giao-duc-va-dao-tao"
        assert "groups" in found["search_facets"]
        dataset = ckan.action.package_show(id="dan-so-theo-xa")
        assert dataset["title"] == "Dân số, diện tích và mật độ theo xã, phường"
        resource = next(r for r in dataset["resources"] if r["datastore_active"])
        assert ckan.action.resource_show(id=resource["id"])["format"] == "CSV"
        rows = ckan.action.datastore_search(
            resource_id=resource["id"], q="hoang", limit=2, sort="Mã đơn vị hành chính desc"
        )
        assert len(rows["records"]) == 2
        assert rows["total"] >= 2
        codes = [r["Mã đơn vị hành chính"] for r in rows["records"]]
        assert codes == sorted(codes, reverse=True)
        assert "so-y-te" in ckan.action.organization_list()
        assert ckan.action.organization_show(id="so-y-te")["package_count"] >= 4
        assert len(ckan.action.group_list()) == 15
        assert ckan.action.group_show(id="y-te")["title"] == "Y tế"
        assert "OCOP" in ckan.action.tag_list()
        # Errors arrive as the exceptions CKAN's own errors raise.
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id=sorted(private)[0])
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="khong-co-bo-du-lieu-nay")
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.package_search(rows="nhieu")
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.datastore_search(resource_id=resource["id"], filters="{hỏng")
        with pytest.raises(ckanapi.SearchQueryError):
            ckan.action.package_search(sort="tuoi desc")
        with pytest.raises(ckanapi.CKANAPIError):
            ckan.call_action("khong_co_action")

    # A publisher of Sở Y tế, with an API key, as CKAN's harvesters and scripts publish.
    key = api_token_create(user=User.objects.get(username="dulieu.yte"))[1]
    writer = ckanapi.RemoteCKAN(live_server.url, apikey=key)
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(live_server.url).action.package_create(
            name="tram-y-te-moi", owner_org="so-y-te"
        )
    created = writer.action.package_create(
        name="tram-y-te-moi", title="Trạm y tế mới", owner_org="so-y-te", groups=[{"name": "y-te"}],
        tags=[{"name": "trạm y tế"}], license_id="CC-BY-4.0",
        resources=[{"url": "https://thanhhoa.gov.vn/", "name": "Cổng thông tin", "format": "HTML"}],
    )  # fmt: skip
    assert created["private"] is True
    assert [r["url"] for r in created["resources"]] == ["https://thanhhoa.gov.vn/"]
    anonymous = ckanapi.RemoteCKAN(live_server.url)
    assert "tram-y-te-moi" not in anonymous.action.package_list()
    table = io.StringIO()
    csv.writer(table).writerows([["Tên", "Số giường"], ["Trạm Y tế Hạc Thành", "12"]])
    uploaded = writer.action.resource_create(
        package_id="tram-y-te-moi", name="Danh sách", url="",
        upload=("tram.csv", io.BytesIO(table.getvalue().encode("utf-8"))),
    )  # fmt: skip
    assert uploaded["datastore_active"] is True
    with pytest.raises(ckanapi.ValidationError):
        writer.action.resource_create(
            package_id="tram-y-te-moi", upload=("x.csv", io.BytesIO(b"MZ\x90\x00binary\x00"))
        )
    patched = writer.action.package_patch(id="tram-y-te-moi", private=False)
    assert patched["private"] is False
    assert "tram-y-te-moi" in anonymous.action.package_list()
    rows = anonymous.action.datastore_search(resource_id=uploaded["id"])
    assert rows["records"] == [{"_id": 1, "Tên": "Trạm Y tế Hạc Thành", "Số giường": 12}]
    other = api_token_create(user=User.objects.get(username="dulieu.giaoduc"))[1]
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(live_server.url, apikey=other).action.package_patch(
            id="tram-y-te-moi", title="Đổi tên"
        )
    assert (
        Agency.objects.get(short_name="SYT")
        .publisher.datasets.filter(name="tram-y-te-moi", private=False)
        .exists()
    )


def _harvest(url: str, rdf_format: str) -> tuple[Graph, int]:
    """Read every page of the catalogue, following hydra:nextPage, as a harvester does."""
    graph = Graph()
    pages = 0
    while url:
        page = Graph().parse(url, format=rdf_format)
        graph += page
        pages += 1
        following = list(page.objects(None, HYDRA.nextPage))
        url = str(following[0]) if following else ""
    return graph, pages


def test_dcat_consumers_find_every_public_dataset_and_no_private_one(
    live_server: Any, seeded_transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyshacl import validate

    from tinhso.opendata import dcat
    from tinhso.opendata.models import Dataset

    monkeypatch.setattr(dcat, "PAGE_SIZE", 25)
    public = {str(pk) for pk in Dataset.objects.filter(private=False).values_list("id", flat=True)}
    private = {str(pk) for pk in Dataset.objects.filter(private=True).values_list("id", flat=True)}
    assert len(public) > 50
    assert private
    for extension, rdf_format in (("ttl", "turtle"), ("rdf", "xml"), ("jsonld", "json-ld")):
        graph, pages = _harvest(f"{live_server.url}/catalog.{extension}", rdf_format)
        assert pages == -(-len(public) // 25)
        found = {
            str(graph.value(node, ns.DCTERMS.identifier))
            for node in graph.subjects(ns.RDF.type, ns.DCAT.Dataset)
        }
        assert found == public, extension
        assert not found & private
        catalog = next(graph.subjects(ns.RDF.type, ns.DCAT.Catalog))
        assert len(set(graph.objects(catalog, ns.DCAT.dataset))) == len(public)
    one = Dataset.objects.filter(private=False).first()
    assert one is not None
    single = Graph().parse(f"{live_server.url}/dataset/{one.name}.ttl", format="turtle")
    assert (URIRef(f"{live_server.url}/dataset/{one.pk}"), ns.RDF.type, ns.DCAT.Dataset) in single
    monkeypatch.setattr(dcat, "PAGE_SIZE", 100)
    first_page = Graph().parse(f"{live_server.url}/catalog.ttl", format="turtle")
    conforms, _graph, report = validate(
        first_page, shacl_graph=Graph().parse(SHAPES), inference="none", advanced=True
    )
    assert conforms, report
