"""The agency tree, its codes, the province loader, the directory API and pages."""

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from vietnam_provinces import ProvinceCode, Ward

from tinhso.agencies.codes import eid_code, eid_level, validate_eid_code
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.agencies.services import agency_create, agency_save, province_seed
from tinhso.core.models import AuditEntry

pytestmark = pytest.mark.django_db

THANH_HOA = 38


def _all_pages(client: Client, url: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(url, {**params, "page": page, "page_size": 50}).json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def test_api_lists_the_166_communes_and_wards_of_thanh_hoa_with_official_names(
    client: Client,
) -> None:
    official = {w.name for w in Ward.iter_by_province(ProvinceCode(THANH_HOA))}
    assert len(official) == 166
    items = _all_pages(client, "/api/v1/agencies", level="commune")
    assert len(items) == 166
    assert {item["admin_unit"]["name"] for item in items} == official
    hac_thanh = next(i for i in items if i["admin_unit"]["name"] == "Phường Hạc Thành")
    assert hac_thanh["name"] == "Ủy ban nhân dân phường Hạc Thành"
    assert hac_thanh["admin_unit"]["type"] == "phường"
    assert hac_thanh["parent"] == "000.00.00.H56"


def test_every_code_has_the_decision_20_structure_and_is_unique() -> None:
    codes = list(Agency.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) >= 166 + 15
    for code in codes:
        validate_eid_code(code)
        assert len(code) <= 35
    assert Agency.objects.get(level=AgencyLevel.PROVINCE, parent=None).code == "000.00.00.H56"


def test_the_tree_has_no_fixed_depth() -> None:
    centre = Agency.objects.get(kind=AgencyKind.SERVICE_CENTRE)
    assert centre.depth == 2  # province committee → office → service centre
    assert centre.parent is not None
    assert centre.parent.kind == AgencyKind.OFFICE
    unit = agency_create(
        actor=None,
        code="001.01.01.H56",
        name="Quầy tiếp nhận số 1",
        kind=AgencyKind.UNIT,
        level=AgencyLevel.PROVINCE,
        parent=centre,
    )
    deeper = agency_create(
        actor=None,
        code="001.001.01.01.H56",
        name="Tổ tiếp nhận lưu động",
        kind=AgencyKind.UNIT,
        level=AgencyLevel.PROVINCE,
        parent=unit,
    )
    assert (unit.depth, deeper.depth, eid_level(deeper.code)) == (3, 4, 5)
    assert [a.pk for a in Agency.objects.filter(path__startswith=centre.path)] == [
        centre.pk,
        unit.pk,
        deeper.pk,
    ]


@pytest.mark.parametrize(
    "code",
    ["H56", "000.00.00.h56", "000.00.4.H56", "000.05.00.H56", "1.000.00.00.H56", "000.00.00.H5"],
)
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError):
        validate_eid_code(code)


def test_a_code_longer_than_35_characters_is_refused() -> None:
    code = ".".join(["001"] * 8) + ".00.00.H56"
    assert len(code) > 35
    with pytest.raises(ValidationError, match="35"):
        validate_eid_code(code)


def test_a_child_must_carry_its_parents_code_and_nothing_is_written_otherwise() -> None:
    justice = Agency.objects.get(short_name="STP")
    before = (Agency.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError):
        agency_create(
            actor=None,
            code="000.01.05.H56",  # under Sở Tài chính (05), not Sở Tư pháp (04)
            name="Phòng sai chỗ",
            kind=AgencyKind.UNIT,
            level=AgencyLevel.PROVINCE,
            parent=justice,
        )
    assert (Agency.objects.count(), AuditEntry.objects.count()) == before


def test_an_agency_cannot_be_moved_under_its_own_unit() -> None:
    office = Agency.objects.get(kind=AgencyKind.OFFICE)
    centre = Agency.objects.get(kind=AgencyKind.SERVICE_CENTRE)
    office.parent = centre
    with pytest.raises(ValidationError):
        agency_save(actor=None, agency=office)


def test_loading_again_changes_nothing_and_another_province_loads_too() -> None:
    count = Agency.objects.count()
    again = province_seed(province_code=THANH_HOA)
    assert (again.created, again.updated, Agency.objects.count()) == (0, 0, count)
    hanoi = province_seed(province_code=1, eid_root="H26")
    hanoi_wards = list(Ward.iter_by_province(ProvinceCode(1)))
    assert hanoi.communes == len(hanoi_wards)
    assert hanoi.province.name == "Ủy ban nhân dân thành phố Hà Nội"
    assert Agency.objects.filter(
        path__startswith=hanoi.province.path, level="commune"
    ).count() == len(hanoi_wards)
    with pytest.raises(ValidationError, match="34"):
        province_seed(province_code=99)


def test_search_ignores_accents_and_case(client: Client) -> None:
    for q in ["hac thanh", "Hạc Thành", "HẠC THÀNH"]:
        names = [i["name"] for i in client.get("/api/v1/agencies", {"q": q}).json()["items"]]
        assert names == ["Ủy ban nhân dân phường Hạc Thành"], q
    names = [
        i["name"] for i in client.get("/api/v1/agencies", {"q": "van hoa the thao"}).json()["items"]
    ]
    assert names == ["Sở Văn hóa, Thể thao và Du lịch"]


def test_filter_by_parent_and_paging(client: Client) -> None:
    office = Agency.objects.get(kind=AgencyKind.OFFICE)
    body = client.get("/api/v1/agencies", {"parent": office.code}).json()
    assert [i["kind"] for i in body["items"]] == ["service_centre"]
    page = client.get("/api/v1/agencies", {"level": "commune", "page_size": 20, "page": 9}).json()
    assert (page["count"], page["pages"], len(page["items"])) == (166, 9, 6)


def test_bad_filters_get_clear_errors(client: Client) -> None:
    response = client.get(
        "/api/v1/agencies", {"parent": "000.00.77.H56"}, HTTP_ACCEPT_LANGUAGE="vi"
    )
    assert response.status_code == 404
    assert "000.00.77.H56" in response.json()["detail"]
    assert client.get("/api/v1/agencies", {"level": "district"}).status_code == 422
    assert client.get("/api/v1/agencies", {"page_size": 1000}).status_code == 422
    assert client.get("/api/v1/agencies/000.00.99.H56").status_code == 404


def test_one_agency_by_code(client: Client) -> None:
    body = client.get("/api/v1/agencies/000.00.04.H56").json()
    assert body["name"] == "Sở Tư pháp"
    assert body["level"] == "province"
    assert body["eid_level"] == 2


def test_openapi_documents_the_agency_filters(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    params = {p["name"] for p in schema["paths"]["/api/v1/agencies"]["get"]["parameters"]}
    assert {"level", "parent", "q", "page", "page_size"} <= params


def test_directory_page_works_without_javascript_and_with_htmx(client: Client) -> None:
    page = client.get("/co-quan/", {"q": "hoang hoa"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ủy ban nhân dân xã Hoằng Hóa" in html
    assert '<label for="q">' in html
    partial = client.get("/co-quan/", {"q": "hoang hoa"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Ủy ban nhân dân xã Hoằng Hóa" in partial
    assert "<html" not in partial


def test_detail_page_shows_code_and_units(client: Client) -> None:
    html = client.get("/co-quan/000.00.01.H56/").content.decode()
    assert "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa" in html
    assert "000.00.01.H56" in html
    assert client.get("/co-quan/000.00.98.H56/").status_code == 404


def test_agency_changes_are_audited() -> None:
    justice = Agency.objects.get(short_name="STP")
    justice.phone = "0237 3000 000"
    agency_save(actor=None, agency=justice)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert entry.action == "agency.updated"
    assert entry.data["changed"]["phone"] == ["", "0237 3000 000"]


def test_code_builder_pads_each_level() -> None:
    assert eid_code("H56") == "000.00.00.H56"
    assert eid_code("H56", 4) == "000.00.04.H56"
    assert eid_code("H56", 60, 7) == "000.07.60.H56"
    assert re.fullmatch(r"\d{3}\.\d{3}\.\d{2}\.\d{2}\.H56", eid_code("H56", 1, 2, 3, 4))


def test_listing_takes_two_queries_whatever_the_page_size(
    client: Client, django_assert_num_queries: Any
) -> None:
    for size in (5, 200):
        with django_assert_num_queries(2):  # the count and the page, parents joined
            assert client.get("/api/v1/agencies", {"page_size": size}).status_code == 200


def test_the_superior_a_paper_names_is_the_parent_read_with_it_when_joined(
    django_assert_num_queries: Any,
) -> None:
    from tinhso.agencies.selectors import agency_superior_name

    centre = Agency.objects.get(kind=AgencyKind.SERVICE_CENTRE)
    office = Agency.objects.get(pk=centre.parent_id)
    top = Agency.objects.get(pk=office.parent_id)
    fresh = Agency.objects.get(pk=centre.pk)
    with django_assert_num_queries(1):  # the parent by its key
        assert agency_superior_name(fresh) == office.name
    joined = Agency.objects.select_related("parent").get(pk=centre.pk)
    with django_assert_num_queries(0):  # joined: nothing more to read
        assert agency_superior_name(joined) == office.name
    with django_assert_num_queries(0):  # the top of the tree has none
        assert agency_superior_name(top) == ""
    assert top.parent_id is None
