"""The procedure catalogue: demo content, search, filters, API, pages, import/export."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tinhso.catalog.models import Procedure
from tinhso.catalog.services import (
    DEMO_CATALOG,
    CatalogError,
    catalog_export,
    catalog_import,
    catalog_load_file,
)

pytestmark = pytest.mark.django_db


def _codes(client: Client, **params: str) -> list[str]:
    body = client.get("/api/v1/procedures", {"page_size": 200, **params}).json()
    return [item["code"] for item in body["items"]]


def test_the_demo_catalogue_holds_the_procedures_citizens_need() -> None:
    names = list(Procedure.objects.values_list("name", flat=True))
    assert len(names) >= 40
    for expected in [
        "Thủ tục đăng ký khai sinh",
        "Thủ tục đăng ký kết hôn",
        "Thủ tục đăng ký khai tử",
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        "Thủ tục đăng ký thành lập hộ kinh doanh",
    ]:
        assert expected in names
    assert any(n.startswith("Thủ tục chứng thực bản sao từ bản chính") for n in names)
    assert any("Phiếu lý lịch tư pháp" in n for n in names)
    assert any("Giấy chứng nhận quyền sử dụng đất" in n for n in names)
    assert Procedure.objects.filter(field__code="BTXH").count() >= 2
    assert Procedure.objects.filter(online_level="full").count() >= 10
    assert {"province", "commune"} <= set(Procedure.objects.values_list("level", flat=True))
    birth = Procedure.objects.get(code="1.001193")
    assert birth.time_days == 1
    assert birth.field.name == "Hộ tịch"
    lltp = Procedure.objects.get(code="2.000488")
    assert lltp.fees[0]["amount"] == 200000
    assert lltp.implementing_agency.short_name == "STP"


@pytest.mark.parametrize("q", ["dang ky khai sinh", "Đăng ký khai sinh", "ĐĂNG KÝ KHAI SINH"])
def test_search_ignores_diacritics_and_case_and_ranks_the_exact_procedure_first(
    client: Client, q: str
) -> None:
    codes = _codes(client, q=q)
    assert codes[0] == "1.001193"
    assert codes == _codes(client, q="dang ky khai sinh")


@pytest.mark.parametrize(
    "q",
    ["khai sihn", "dang ki khai sinh", "giay khai sinh", "khaisinh", "Đăng kí khai sinh",
     "GIẤY KHAI SINH"],
)  # fmt: skip
def test_what_people_type_finds_the_birth_registration_first(client: Client, q: str) -> None:
    """Misspellings, the i/y spelling, words the name does not use (synonyms kept with the
    catalogue), a missing space: the procedure people mean comes first."""
    codes = _codes(client, q=q)
    assert codes[0] == "1.001193", codes[:3]


def test_a_corrected_query_says_did_you_mean(client: Client) -> None:
    page = client.get("/thu-tuc/", {"q": "khai sihn"}, HTTP_ACCEPT_LANGUAGE="vi")
    html = page.content.decode()
    assert "Có phải bạn muốn tìm" in html
    assert "<strong>khai sinh</strong>" in html
    assert "Thủ tục đăng ký khai sinh" in html
    plain = client.get("/thu-tuc/", {"q": "khai sinh"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert "Có phải bạn muốn tìm" not in plain.content.decode()
    nothing = client.get("/thu-tuc/", {"q": "zzzzqqq"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert "Có phải bạn muốn tìm" not in nothing.content.decode()


def test_synonyms_travel_with_the_catalogue() -> None:
    from tinhso.catalog.services import catalog_export

    exported = {s["phrase"]: s["means"] for s in catalog_export()["synonyms"]}
    assert exported["giay khai sinh"] == "khai sinh"


def test_d_with_stroke_folds_to_d(client: Client) -> None:
    assert "TH.DD.01" in _codes(client, q="dat dai")
    assert _codes(client, q="đất") == _codes(client, q="dat")


def test_relevance_puts_name_matches_before_field_matches(client: Client) -> None:
    codes = _codes(client, q="chung thuc")
    assert codes[:2] == ["2.000815", "2.000884"] or codes[0].startswith("2.000")
    assert _codes(client, q="2.000488") == ["2.000488"]


def test_filters(client: Client) -> None:
    civil = _codes(client, field="HT")
    assert "1.001193" in civil
    assert "2.000488" not in civil
    province = _codes(client, level="province")
    assert "2.000488" in province
    assert "TH.HT.06" in province
    assert "1.001193" not in province
    full = _codes(client, online_level="full")
    assert "1.001193" in full
    assert "1.000894" not in full
    justice = _codes(client, agency="000.00.04.H56")
    assert set(justice) == {"2.000488", "TH.HT.06"}
    commune = _codes(client, agency="000.02.60.H56")
    assert "1.001193" in commune
    assert "2.000488" not in commune
    assert client.get("/api/v1/procedures", {"agency": "000.00.99.H56"}).status_code == 404
    assert client.get("/api/v1/procedures", {"level": "district"}).status_code == 422


def test_procedure_detail_over_the_api(client: Client) -> None:
    body = client.get("/api/v1/procedures/1.001193").json()
    assert body["name"] == "Thủ tục đăng ký khai sinh"
    assert body["online_level"] == "full"
    assert body["papers"][0]["eform"] is True
    assert any(p["reusable"] for p in body["papers"])
    assert body["form_schema"]["type"] == "object"
    assert len(body["receiving_agencies"]) == 166
    assert client.get("/api/v1/procedures/9.999999").status_code == 404
    schema = client.get("/api/v1/openapi.json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/procedures"]["get"]["parameters"]}
    assert {"q", "field", "agency", "level", "online_level", "page", "page_size"} <= params
    assert "/api/v1/procedures/{code}" in schema["paths"]


def test_procedure_page_has_what_a_citizen_needs_before_coming(client: Client) -> None:
    html = client.get("/thu-tuc/2.000488/").content.decode()
    for text in [
        "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp",
        "200.000 đồng",
        "Luật Lý lịch tư pháp năm 2009",
        "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa",
        "10 ngày làm việc",
    ]:
        assert text in html, text
    assert (
        "@media print"
        in Path(__import__("tinhso").__file__).parent.joinpath("static/css/site.css").read_text()
    )
    blank = client.get("/thu-tuc/2.000488/to-khai/").content.decode()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in blank
    assert "Mục đích yêu cầu cấp Phiếu" in blank


def test_search_page_works_without_javascript(client: Client) -> None:
    html = client.get("/thu-tuc/", {"q": "ket hon"}).content.decode()
    assert "Thủ tục đăng ký kết hôn" in html
    partial = client.get("/thu-tuc/", {"q": "ket hon"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Thủ tục đăng ký kết hôn" in partial
    assert "<html" not in partial


def _demo() -> dict[str, Any]:
    return catalog_load_file(DEMO_CATALOG)


def test_a_bad_file_is_refused_as_a_whole_with_named_problems() -> None:
    data = _demo()
    data["procedures"][0]["time_days"] = -3
    data["procedures"][5]["level"] = "district"
    data["procedures"][7]["name"] = "Đổi tên không được ghi"
    before = Procedure.objects.get(code=data["procedures"][7]["code"]).name
    with pytest.raises(CatalogError) as caught:
        catalog_import(data=data)
    problems = "\n".join(caught.value.problems)
    assert "procedure 1.001193, field time_days" in problems
    assert f"procedure {data['procedures'][5]['code']}, field level" in problems
    assert Procedure.objects.get(code=data["procedures"][7]["code"]).name == before


def test_semantic_problems_are_named_too() -> None:
    data = _demo()
    data["procedures"][0]["field"] = "KHONGCO"
    data["procedures"][1]["implementing_agency"] = "XYZ"
    data["procedures"][2]["form"] = {"type": "object", "properties": {"a": {"type": "strnig"}}}
    data["procedures"].append(dict(data["procedures"][3]))
    with pytest.raises(CatalogError) as caught:
        catalog_import(data=data)
    problems = "\n".join(caught.value.problems)
    assert "procedure 1.001193, field field: unknown field code 'KHONGCO'" in problems
    assert "field implementing_agency: no agency 'XYZ'" in problems
    assert "procedure 1.000656, field form" in problems
    assert "appears more than once" in problems


def test_export_then_import_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("export_catalog")
    exported = yaml.safe_load(capsys.readouterr().out)
    assert exported == catalog_export()
    exported["procedures"][0]["time_days"] = 2
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(exported, allow_unicode=True), encoding="utf-8")
    call_command("import_catalog", str(path))
    assert Procedure.objects.get(code=exported["procedures"][0]["code"]).time_days == 2


def test_the_import_command_fails_on_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"procedures": [{"code": "1.1"}]}', encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_catalog", str(path))
    (tmp_path / "broken.yaml").write_text("procedures: [", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_catalog", str(tmp_path / "broken.yaml"))


def test_catalogue_editors_edit_procedures_in_the_admin_and_nothing_else(client: Client) -> None:
    assert client.login(username="bientap", password="demo")
    assert client.get("/quan-tri/catalog/procedure/").status_code == 200
    procedure = Procedure.objects.get(code="1.001193")
    assert client.get(f"/quan-tri/catalog/procedure/{procedure.pk}/change/").status_code == 200
    assert client.get("/quan-tri/agencies/agency/").status_code == 403
    assert client.get("/quan-tri/accounts/user/").status_code == 403
