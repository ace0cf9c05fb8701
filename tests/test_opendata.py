"""The open-data portal: datasets and their publishing rules, the tabular store (encodings,
types, bad rows), the CKAN Action API's answers and errors, the platform's own datasets and
the portal pages. Clients nobody here wrote (ckanapi, rdflib, pyshacl) are in
test_opendata_clients.py."""

from __future__ import annotations

import codecs
import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from flows import user
from tinhso.accounts.roles import SPECIALIST
from tinhso.accounts.services import membership_grant, official_create
from tinhso.agencies.models import Agency
from tinhso.core.files import read_bytes
from tinhso.core.models import AuditEntry
from tinhso.opendata import datastore
from tinhso.opendata.demo import encode_cp1258
from tinhso.opendata.formats import detect
from tinhso.opendata.models import Activity, Dataset, DatastoreTable, Resource, Theme
from tinhso.opendata.platform import platform_datasets_refresh
from tinhso.opendata.services import (
    InvalidError,
    NotAllowedError,
    ResourceInput,
    dataset_create,
    dataset_patch,
    publisher_for,
    resource_create,
)
from tinhso.payments.roles import ACCOUNTANT

pytestmark = pytest.mark.django_db
API = "/api/3/action/"

ROWS = [
    ["Mã", "Xã, phường", "Dân số", "Tỷ lệ (%)", "Ngày cập nhật", "Điện thoại", "Đạt chuẩn"],
    ["1", "Phường Hạc Thành", "85000", "12.5", "15/01/2026", "02373852000", "true"],
    ["2", "Xã Hoằng Hóa", "42000", "8.25", "16/01/2026", "02373866111", "false"],
    ["3", "Xã Nga Sơn", "", "7", "17/01/2026", "", "true"],
]


def _csv(rows: list[list[str]] = ROWS, sep: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _publisher_token(token_for: Any, name: str = "dulieu.yte") -> dict[str, str]:
    headers = token_for(user(name))
    return {"HTTP_AUTHORIZATION": headers["Authorization"]}


def _post(client: Client, action: str, body: object, **headers: str) -> Any:
    return client.post(
        API + action, data=json.dumps(body), content_type="application/json", **headers
    )


def _dataset(name: str = "ho-ngheo-thu", **extra: Any) -> Dataset:
    agency = Agency.objects.get(short_name="SYT")
    return dataset_create(
        actor=user("dulieu.yte"),
        data={"name": name, "title": "Hộ nghèo thử nghiệm", "owner_org": agency.code, **extra},
    )


def _table_of(dataset: Dataset, content: bytes, filename: str = "du-lieu.csv") -> Resource:
    return resource_create(
        actor=user("dulieu.yte"),
        dataset=dataset,
        data=ResourceInput(name="Bảng", file=detect(filename, content)),
    )


# --- The demo -------------------------------------------------------------------------------


def test_demo_has_all_15_fields_and_60_datasets_with_real_tables() -> None:
    themes = Theme.objects.all()
    assert themes.count() == 15
    for theme in themes:
        assert theme.datasets.filter(private=False).exists(), theme.title
    demo = Dataset.objects.filter(generator="")
    assert demo.count() >= 60
    for dataset in demo:
        tables = DatastoreTable.objects.filter(resource__dataset=dataset)
        assert tables.exists(), dataset.name
        assert all(t.row_count > 0 for t in tables), dataset.name
    encodings = set(DatastoreTable.objects.values_list("encoding", flat=True))
    assert {"utf-8", "utf-8-sig", "cp1258", "xlsx"} <= encodings
    formats = set(Resource.objects.values_list("format", flat=True))
    assert {"CSV", "XLSX", "JSON", "GeoJSON", "PDF"} <= formats
    assert Dataset.objects.filter(generator__gt="").count() == 3


# --- The tabular store ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        encode_cp1258,
        lambda text: text.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "windows-1258", "utf-16"],
)
def test_csv_in_each_encoding_reads_the_same(encode: Any) -> None:
    dataset = _dataset()
    resource = _table_of(dataset, encode(_csv(sep=";")))
    table = resource.datastore
    assert [f["id"] for f in table.fields] == ROWS[0]
    found = datastore.search(
        table.table, table.fields, table.row_count, datastore.SearchRequest(q="hoang hoa")
    )
    assert found.total == 1
    assert found.records[0]["Xã, phường"] == "Xã Hoằng Hóa"


def test_types_are_inferred_and_a_leading_zero_stays_text() -> None:
    resource = _table_of(_dataset(), _csv().encode())
    kinds = {f["id"]: f["type"] for f in resource.datastore.fields}
    assert kinds == {
        "Mã": "int",
        "Xã, phường": "text",
        "Dân số": "int",
        "Tỷ lệ (%)": "numeric",
        "Ngày cập nhật": "date",
        "Điện thoại": "text",
        "Đạt chuẩn": "bool",
    }
    table = resource.datastore
    found = datastore.search(
        table.table,
        table.fields,
        table.row_count,
        datastore.SearchRequest(filters={"Đạt chuẩn": True}, sort="Dân số desc"),
    )
    assert [r["Mã"] for r in found.records] == [1, 3]
    assert found.records[0]["Ngày cập nhật"] == "2026-01-15"
    assert found.records[0]["Điện thoại"] == "02373852000"
    assert found.records[1]["Dân số"] is None
    assert found.records[0]["Tỷ lệ (%)"] == 12.5


def test_bad_rows_are_reported_with_their_lines_not_dropped_silently(
    client: Client, token_for: Any
) -> None:
    rows = [*ROWS[:2], [*ROWS[2], "thừa"], ROWS[3][:-2]]
    dataset = _dataset()
    resource = _table_of(dataset, _csv(rows).encode())
    table = resource.datastore
    assert table.row_count == 1
    assert table.bad_row_count == 2
    assert [b["line"] for b in table.bad_rows] == [3, 4]
    assert "8" in table.bad_rows[0]["error"]
    assert "7" in table.bad_rows[0]["error"]
    shown = client.get(
        API + "resource_show", {"id": str(resource.pk)}, **_publisher_token(token_for)
    )
    assert shown.json()["result"]["datastore_bad_rows"] == 2
    page = Client()
    page.force_login(user("dulieu.yte"))
    html = page.get(f"/du-lieu-mo/{dataset.name}/tai-nguyen/{resource.pk}/").content.decode()
    assert "dòng 3" in html
    assert "dòng 4" in html


def test_xlsx_is_loaded_with_its_cell_types() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Năm", "Doanh thu (tỷ đồng)", "Ghi chú"])
    sheet.append([2024, 1234.5, "Đã kiểm toán"])
    sheet.append([2025, 1500, None])
    out = io.BytesIO()
    book.save(out)
    resource = _table_of(_dataset(), out.getvalue(), "doanh-thu.xlsx")
    assert resource.format == "XLSX"
    table = resource.datastore
    assert [f["type"] for f in table.fields] == ["int", "numeric", "text"]
    found = datastore.search(table.table, table.fields, table.row_count, datastore.SearchRequest())
    assert found.records[1] == {"_id": 2, "Năm": 2025, "Doanh thu (tỷ đồng)": 1500, "Ghi chú": None}


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("virus.csv", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
        ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        ("du-lieu.exe", b"a,b\n1,2\n"),
        ("rong.csv", b""),
    ],
)
def test_a_wrong_file_is_refused_and_nothing_is_stored(
    client: Client, token_for: Any, settings: Any, filename: str, content: bytes
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = _dataset()
    before = Resource.objects.count()
    response = client.post(
        API + "resource_create",
        {
            "package_id": dataset.name,
            "name": "Tệp",
            "upload": SimpleUploadedFile(filename, content),
        },
        **_publisher_token(token_for),
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["__type"] == "Validation Error"
    assert "upload" in error
    assert Resource.objects.count() == before
    stored = (
        list((settings.MEDIA_ROOT / "opendata").rglob("*"))
        if (settings.MEDIA_ROOT / "opendata").exists()
        else []
    )
    assert [p for p in stored if p.is_file()] == []


def test_an_oversized_upload_is_refused(client: Client, token_for: Any, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TINHSO_OPENDATA_UPLOAD_MAX_BYTES = 1024
    dataset = _dataset()
    response = client.post(
        API + "resource_create",
        {"package_id": dataset.name, "upload": SimpleUploadedFile("lon.csv", b"a,b\n" * 1000)},
        **_publisher_token(token_for),
    )
    assert response.status_code == 409
    assert "MB" in response.json()["error"]["message"]
    assert not dataset.resources.exists()


def test_a_file_that_cannot_be_loaded_leaves_the_dataset_as_it_was() -> None:
    dataset = _dataset()
    broken = b"PK\x03\x04" + b"\x00" * 10
    with pytest.raises(Exception):  # noqa: B017, PT011 (not even recognised as a format)
        _table_of(dataset, broken, "hong.xlsx")
    assert not dataset.resources.exists()


# --- Publishing rules -----------------------------------------------------------------------


def test_who_may_create_a_dataset(client: Client, token_for: Any, citizen: Any) -> None:
    syt = Agency.objects.get(short_name="SYT")
    wrong_role = official_create(actor=None, username="bacsi.syt", full_name="Bác Sĩ", password="x")
    membership_grant(actor=None, user=wrong_role, agency=syt, role=SPECIALIST)
    body = {"name": "thu-quyen", "title": "Thử quyền", "owner_org": syt.code}
    cases = [
        ({}, 403),  # anonymous
        ({"HTTP_AUTHORIZATION": token_for(citizen)["Authorization"]}, 403),
        (_publisher_token(token_for, "dulieu.giaoduc"), 403),  # publisher of another agency
        ({"HTTP_AUTHORIZATION": token_for(wrong_role)["Authorization"]}, 403),  # wrong role
        ({"HTTP_AUTHORIZATION": "Bearer ts_not-a-token"}, 403),
    ]
    for headers, status in cases:
        response = _post(client, "package_create", body, **headers)
        assert response.status_code == status, headers
        assert response.json()["error"]["__type"] == "Authorization Error"
    assert not Dataset.objects.filter(name="thu-quyen").exists()
    created = _post(client, "package_create", body, **_publisher_token(token_for))
    assert created.status_code == 200
    assert created.json()["result"]["private"] is True
    # The raw key, as ckanapi and CKAN's own clients send it, works too.
    raw = token_for(user("dulieu.yte"))["Authorization"].split(" ", 1)[1]
    again = _post(client, "package_create", {**body, "name": "thu-quyen-2"}, HTTP_AUTHORIZATION=raw)
    assert again.status_code == 200


def test_a_dataset_is_private_until_a_publisher_publishes_it(
    client: Client, token_for: Any
) -> None:
    headers = _publisher_token(token_for)
    syt = Agency.objects.get(short_name="SYT")
    _post(
        client,
        "package_create",
        {"name": "nhap", "title": "Bản nháp", "owner_org": syt.code},
        **headers,
    )

    def anonymous_sees() -> bool:
        listed = "nhap" in client.get(API + "package_list").json()["result"]
        found = client.get(API + "package_search", {"q": "nhap", "fq": "name:nhap"}).json()
        shown = client.get(API + "package_show", {"id": "nhap"}).status_code == 200
        page = client.get("/du-lieu-mo/nhap/").status_code == 200
        catalog = b"nhap" in client.get("/catalog.ttl").content
        assert listed == bool(found["result"]["count"]) == shown == page == catalog
        return listed

    assert not anonymous_sees()
    assert client.get(API + "package_show", {"id": "nhap"}).status_code == 404
    mine = client.get(
        API + "package_search", {"fq": "name:nhap", "include_private": "true"}, **headers
    )
    assert mine.json()["result"]["count"] == 1
    # Another agency's publisher does not see it either.
    other = _publisher_token(token_for, "dulieu.giaoduc")
    assert client.get(API + "package_show", {"id": "nhap"}, **other).status_code == 404
    # A patch that does not mention `private` does not publish.
    _post(client, "package_patch", {"id": "nhap", "notes": "Sửa mô tả"}, **headers)
    assert not anonymous_sees()
    refused = _post(client, "package_patch", {"id": "nhap", "private": "có lẽ"}, **headers)
    assert refused.status_code == 409
    assert not anonymous_sees()
    published = _post(client, "package_patch", {"id": "nhap", "private": False}, **headers)
    assert published.status_code == 200
    assert anonymous_sees()
    dataset = Dataset.objects.get(name="nhap")
    assert dataset.published_at is not None
    kinds = list(Activity.objects.filter(dataset=dataset).values_list("kind", flat=True))
    assert kinds.count("published") == 1
    assert "created" in kinds
    assert AuditEntry.objects.filter(
        action="opendata.published", object_id=str(dataset.pk)
    ).exists()


def test_the_other_agency_cannot_change_a_public_dataset(client: Client, token_for: Any) -> None:
    dataset = _dataset(name="cong-khai", private=False)
    response = _post(
        client,
        "package_patch",
        {"id": dataset.name, "title": "Đổi"},
        **_publisher_token(token_for, "dulieu.giaoduc"),
    )
    assert response.status_code == 403
    dataset.refresh_from_db()
    assert dataset.title == "Hộ nghèo thử nghiệm"
    with pytest.raises(NotAllowedError):
        dataset_patch(actor=user("dulieu.giaoduc"), dataset=dataset, data={"title": "x"})


def test_invalid_dataset_fields_are_all_reported() -> None:
    with pytest.raises(InvalidError) as caught:
        _dataset(
            name="Không Hợp Lệ",
            license_id="bản quyền",
            frequency="hourly",
            contact_email="khong-phai-email",
            temporal_start="2026-12-01",
            temporal_end="2026-01-01",
            groups=["khong-co"],
        )
    assert set(caught.value.errors) == {
        "name", "license_id", "frequency", "contact_email", "temporal_end", "groups",
    }  # fmt: skip
    assert not Dataset.objects.filter(title="Hộ nghèo thử nghiệm").exists()


# --- The Action API: answers ----------------------------------------------------------------


def test_package_search_ignores_diacritics_and_filters_sorts_and_counts(client: Client) -> None:
    plain = client.get(API + "package_search", {"q": "dan so"}).json()["result"]
    marked = client.get(API + "package_search", {"q": "Dân số"}).json()["result"]
    assert plain["count"] == marked["count"] >= 2
    assert plain["results"][0]["name"] in ("dan-so-theo-xa", "dan-so-theo-nam")
    fq = client.get(
        API + "package_search",
        {"fq": "groups:y-te res_format:CSV", "facet.field": '["organization","tags"]', "rows": 100},
    ).json()["result"]
    assert fq["count"] >= 1
    assert all("y-te" in [g["name"] for g in d["groups"]] for d in fq["results"])
    assert sum(fq["facets"]["organization"].values()) == fq["count"]
    item = fq["search_facets"]["organization"]["items"][0]
    assert set(item) == {"name", "display_name", "count"}
    by_name = client.get(API + "package_search", {"sort": "name asc", "rows": 5}).json()["result"]
    names = [d["name"] for d in by_name["results"]]
    assert names == sorted(names)
    capped = client.get(API + "package_search", {"rows": 5000}).json()["result"]
    assert len(capped["results"]) == capped["count"]  # fewer than 1,000 here: all of them
    page2 = client.get(API + "package_search", {"sort": "name asc", "rows": 5, "start": 5})
    assert page2.json()["result"]["results"][0]["name"] not in names
    negated = client.get(API + "package_search", {"fq": "-groups:y-te"}).json()["result"]
    assert negated["count"] + fq["count"] <= plain["count"] + 1000
    posted = _post(client, "package_search", {"q": "truong hoc", "rows": 2})
    assert posted.json()["success"] is True
    everything = client.get(API + "package_search", {"q": "*:*", "fq": "+dataset_type:dataset"})
    assert everything.json()["result"]["count"] == Dataset.objects.filter(private=False).count()
    helped = client.get(API + "help_show", {"name": "datastore_search"}).json()["result"]
    assert "resource_id" in helped


def test_a_question_of_thousands_of_words_is_answered_or_refused_never_a_server_error(
    client: Client,
) -> None:
    """Every word is a condition and adds to the score: thousands of them once overflowed
    Django's expression nesting (a 500). A repeated word counts once; more than 32
    different words are a Search Query Error that says so."""
    repeated = _post(client, "package_search", {"q": " ".join(["dan so"] * 1700), "rows": 3})
    assert repeated.status_code == 200, repeated.content[:300]
    result = repeated.json()["result"]
    assert (
        result["count"]
        == _post(client, "package_search", {"q": "dan so"}).json()["result"]["count"]
    )
    assert result["results"][0]["name"] in ("dan-so-theo-xa", "dan-so-theo-nam")
    many = " ".join(f"tu{n}" for n in range(3000))
    refused = _post(client, "package_search", {"q": many})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["__type"] == "Search Query Error"
    assert "32" in error["message"]
    assert "3000" in error["message"]
    at_most = " ".join(["dan", "so"] + [f"tu{n}" for n in range(30)])
    assert _post(client, "package_search", {"q": at_most}).status_code == 200


def test_lists_and_shows(client: Client) -> None:
    orgs = client.get(
        API + "organization_list", {"all_fields": "true", "sort": "package_count desc"}
    )
    counts = [o["package_count"] for o in orgs.json()["result"]]
    assert counts == sorted(counts, reverse=True)
    org = client.get(API + "organization_show", {"id": "so-y-te", "include_datasets": "true"})
    result = org.json()["result"]
    assert result["title"] == "Sở Y tế"
    assert len(result["packages"]) == result["package_count"] >= 4
    groups = client.get(API + "group_list", {"all_fields": "true", "limit": 5, "offset": 2})
    assert len(groups.json()["result"]) == 5
    assert client.get(API + "group_list").json()["result"][0] in {
        t.name for t in Theme.objects.all()
    }
    group = client.get(API + "group_show", {"id": "y-te"}).json()["result"]
    assert group["package_count"] >= 4
    tags = client.get(API + "tag_list").json()["result"]
    assert "OCOP" in tags
    dataset = client.get(API + "package_show", {"id": "dan-so-theo-xa"}).json()["result"]
    resource = dataset["resources"][0]
    assert resource["datastore_active"] is True
    assert resource["hash"].startswith("sha256:")
    shown = client.get(API + "resource_show", {"id": resource["id"]}).json()["result"]
    assert shown["url"] == resource["url"]
    status = client.get(API + "status_show").json()["result"]
    assert "datastore" in status["extensions"]


def test_datastore_search(client: Client) -> None:
    dataset = client.get(API + "package_show", {"id": "dan-so-theo-xa"}).json()["result"]
    rid = dataset["resources"][0]["id"]
    first = client.get(API + "datastore_search", {"resource_id": rid, "limit": 3}).json()["result"]
    assert (
        first["total"] == Agency.objects.filter(level="commune", kind="peoples_committee").count()
    )
    assert len(first["records"]) == 3
    assert [f["id"] for f in first["fields"]][:3] == ["_id", "Mã đơn vị hành chính", "Xã, phường"]
    assert first["_links"]["next"].endswith("offset=3")
    nxt = client.get(API + "datastore_search", {"resource_id": rid, "limit": 3, "offset": 3})
    assert nxt.json()["result"]["records"][0]["_id"] == 4
    name = first["records"][0]["Xã, phường"]
    filtered = client.get(
        API + "datastore_search",
        {
            "resource_id": rid,
            "filters": json.dumps({"Xã, phường": name}),
            "fields": json.dumps(["Xã, phường", "Dân số (người)"]),
        },
    ).json()["result"]
    assert filtered["total"] == 1
    assert set(filtered["records"][0]) == {"Xã, phường", "Dân số (người)"}
    q = client.get(API + "datastore_search", {"resource_id": rid, "q": "hoang hoa"}).json()[
        "result"
    ]
    assert q["total"] >= 1
    assert all("Hoằng" in r["Xã, phường"] for r in q["records"])
    ordered = _post(
        client,
        "datastore_search",
        {"resource_id": rid, "sort": "Dân số (người) desc", "limit": 5, "include_total": False},
    ).json()["result"]
    people = [r["Dân số (người)"] for r in ordered["records"]]
    assert people == sorted(people, reverse=True)
    assert "total" not in ordered
    listed = _post(client, "datastore_search", {"resource_id": rid, "filters": {"_id": [1, 2]}})
    assert listed.json()["result"]["total"] == 2


# --- The Action API: errors -----------------------------------------------------------------


def _tabular_and_pdf_ids() -> tuple[str, str, str]:
    tabular = DatastoreTable.objects.filter(resource__dataset__private=False).first()
    hidden = DatastoreTable.objects.filter(resource__dataset__private=True).first()
    assert tabular is not None
    assert hidden is not None
    pdf = Resource.objects.filter(format="PDF", dataset__private=False).first()
    assert pdf is not None
    return str(tabular.resource_id), str(pdf.pk), str(hidden.resource_id)


def test_malformed_requests_get_ckan_errors_never_a_500(client: Client, token_for: Any) -> None:
    rid, pdf, private_rid = _tabular_and_pdf_ids()
    gets: list[tuple[str, dict[str, str], int, str]] = [
        ("no_such_action", {}, 400, "Bad Request"),
        ("package_search", {"rows": "abc"}, 409, "Validation Error"),
        ("package_search", {"rows": "-1"}, 409, "Validation Error"),
        ("package_search", {"start": "x"}, 409, "Validation Error"),
        ("package_search", {"sort": "tien desc"}, 400, "Search Query Error"),
        ("package_search", {"fq": "khong_co:1"}, 400, "Search Query Error"),
        ("package_search", {"q": 'title:"mo ngoac'}, 400, "Search Query Error"),
        ("package_search", {"facet.field": "[oops"}, 409, "Validation Error"),
        ("package_search", {"facet.field": '["khong_co"]'}, 400, "Search Query Error"),
        ("package_search", {"include_private": "maybe"}, 409, "Validation Error"),
        ("package_show", {}, 409, "Validation Error"),
        ("package_show", {"id": "khong-co-dau"}, 404, "Not Found Error"),
        ("organization_show", {"id": "khong-co"}, 404, "Not Found Error"),
        ("group_show", {"id": "khong-co"}, 404, "Not Found Error"),
        ("group_list", {"sort": "tuoi asc"}, 409, "Validation Error"),
        ("resource_show", {"id": "123"}, 404, "Not Found Error"),
        ("datastore_search", {}, 409, "Validation Error"),
        (
            "datastore_search",
            {"resource_id": "00000000-0000-0000-0000-000000000000"},
            404,
            "Not Found Error",
        ),
        ("datastore_search", {"resource_id": pdf}, 404, "Not Found Error"),
        ("datastore_search", {"resource_id": private_rid}, 404, "Not Found Error"),
        ("resource_show", {"id": private_rid}, 404, "Not Found Error"),
        ("datastore_search", {"resource_id": rid, "filters": "{bad json"}, 409, "Validation Error"),
        ("datastore_search", {"resource_id": rid, "filters": "[1]"}, 409, "Validation Error"),
        (
            "datastore_search",
            {"resource_id": rid, "filters": '{"khong_co": 1}'},
            409,
            "Validation Error",
        ),
        (
            "datastore_search",
            {"resource_id": rid, "filters": '{"_id": "abc"}'},
            409,
            "Validation Error",
        ),
        ("datastore_search", {"resource_id": rid, "fields": "khong_co"}, 409, "Validation Error"),
        (
            "datastore_search",
            {"resource_id": rid, "sort": "khong_co desc"},
            409,
            "Validation Error",
        ),
        ("datastore_search", {"resource_id": rid, "limit": "nhieu"}, 409, "Validation Error"),
        (
            "datastore_search",
            {"resource_id": rid, "q": '{"khong_co": "x"}'},
            409,
            "Validation Error",
        ),
        ("package_create", {}, 400, "Bad Request"),
    ]
    for action, params, status, kind in gets:
        response = client.get(API + action, params)
        assert response.status_code == status, (action, params, response.content)
        body = response.json()
        assert body["success"] is False
        assert body["error"]["__type"] == kind, (action, params)
        assert body["error"]["message"]
        assert body["help"].endswith(f"help_show?name={action}")
    headers = _publisher_token(token_for)
    for raw, status in [(b"{not json", 400), (b"[1, 2]", 400), (b'"text"', 400)]:
        response = client.post(
            API + "package_create", raw, content_type="application/json", **headers
        )
        assert response.status_code == status
        assert response.json()["error"]["__type"] == "Bad Request"
    bad_link = {"name": "lien-ket-hong", "owner_org": "so-y-te", "resources": [{"url": "ftp://x"}]}
    refused = _post(client, "package_create", bad_link, **headers)
    assert refused.status_code == 409
    assert not Dataset.objects.filter(name="lien-ket-hong").exists()  # nothing half-written
    missing = _post(client, "package_create", {"title": "Không tên"}, **headers)
    assert missing.status_code == 409
    assert missing.json()["error"]["name"]
    assert client.put(API + "package_list").status_code == 405


def test_errors_speak_vietnamese_by_default(client: Client) -> None:
    response = client.get(API + "package_show", {"id": "khong-co-dau"})
    assert "Không tìm thấy" in response.json()["error"]["message"]


# --- The platform's own datasets ------------------------------------------------------------


def test_platform_datasets_follow_the_records_and_hold_no_personal_data(
    citizen: Any, settings: Any, seeded_files: Any
) -> None:
    settings.MEDIA_ROOT = seeded_files
    from flows import act
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    stats = Dataset.objects.get(generator="dossier_statistics")
    resource = stats.resources.get()
    before_hash, before_modified = resource.sha256, stats.metadata_modified
    assert platform_datasets_refresh() == 0  # nothing changed, nothing rewritten
    dossier = dossier_submit(submission=submission(citizen))
    act(dossier, "tiepnhan.hacthanh", "accept")
    assert platform_datasets_refresh() == 1
    resource.refresh_from_db()
    stats.refresh_from_db()
    assert resource.sha256 != before_hash
    assert stats.metadata_modified > before_modified
    table = resource.datastore
    found = datastore.search(
        table.table,
        table.fields,
        table.row_count,
        datastore.SearchRequest(filters={"Mã cơ quan": dossier.receiving_agency.code}),
    )
    assert sum(r["Hồ sơ tiếp nhận"] for r in found.records) >= 1
    for generated in Dataset.objects.filter(generator__gt=""):
        content = read_bytes(generated.resources.get().stored_file).decode("utf-8")
        assert citizen.personal_id not in content
        assert citizen.full_name not in content
        assert not generated.private


# --- Portal pages ---------------------------------------------------------------------------


def test_portal_pages(client: Client, vi: None, settings: Any, seeded_files: Any) -> None:
    settings.MEDIA_ROOT = seeded_files
    home = client.get("/du-lieu-mo/")
    assert home.status_code == 200
    html = home.content.decode()
    for theme in Theme.objects.all():
        assert theme.title in html
    found = client.get("/du-lieu-mo/tim-kiem/", {"q": "truong hoc", "linh-vuc": "giao-duc"})
    assert found.status_code == 200
    assert "Trường học theo xã, phường" in found.content.decode()
    assert 'aria-current="true"' in found.content.decode()
    page = client.get("/du-lieu-mo/dan-so-theo-xa/").content.decode()
    assert "datastore_search" in page
    assert "package_show" in page
    dataset = Dataset.objects.get(name="dan-so-theo-xa")
    resource = dataset.resources.first()
    assert resource is not None
    preview = client.get(f"/du-lieu-mo/dan-so-theo-xa/tai-nguyen/{resource.pk}/").content.decode()
    assert preview.count("<tr>") == 51  # the header and 50 rows
    download = client.get(
        f"/dataset/dan-so-theo-xa/resource/{resource.pk}/download/{resource.filename}"
    )
    assert download.status_code == 200
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    import hashlib

    assert hashlib.sha256(body).hexdigest() == resource.sha256
    resource.refresh_from_db()
    assert resource.download_count == 1
    private = Dataset.objects.filter(private=True, generator="").first()
    assert private is not None
    assert client.get(f"/du-lieu-mo/{private.name}/").status_code == 404
    assert client.get(f"/dataset/{private.name}.ttl").status_code == 404
    assert client.get("/catalog.ttl", {"page": "x"}).status_code == 400
    assert client.get("/catalog.ttl", {"page": "99"}).status_code == 404


def test_publisher_for_makes_a_stable_slug() -> None:
    agency = Agency.objects.get(short_name="SYT")
    assert publisher_for(agency).name == "so-y-te"
    assert publisher_for(agency).pk == publisher_for(agency).pk


# --- The publishers' pages ------------------------------------------------------------------


def test_publisher_pages_permission_matrix(login_client: Any, citizen: Any, client: Client) -> None:
    dataset = _dataset(name="trang-quan-ly")
    syt = Agency.objects.get(short_name="SYT")
    wrong_role = official_create(
        actor=None, username="ketoan.syt", full_name="Kế Toán", password="x"
    )
    membership_grant(actor=None, user=wrong_role, agency=syt, role=ACCOUNTANT)
    manage = f"/du-lieu-mo/quan-ly/{dataset.name}/"
    assert client.get("/du-lieu-mo/quan-ly/").status_code == 302  # to the sign-in page
    assert login_client(citizen).get("/du-lieu-mo/quan-ly/").status_code == 403
    assert login_client(wrong_role).get(manage).status_code == 403
    other = login_client(user("dulieu.giaoduc"))
    assert other.get(manage).status_code == 404
    assert other.post(manage + "cong-bo/", {"publish": "1"}).status_code == 404
    dataset.refresh_from_db()
    assert dataset.private
    mine = login_client(user("dulieu.yte"))
    listing = mine.get("/du-lieu-mo/quan-ly/").content.decode()
    assert dataset.title in listing


def test_a_publisher_creates_uploads_and_publishes_from_the_pages(
    login_client: Any, vi: None
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    browser = login_client(user("dulieu.yte"))
    syt = Agency.objects.get(short_name="SYT")
    bad = browser.post(
        "/du-lieu-mo/quan-ly/tao-moi/",
        {"title": "Thiếu", "name": "Có Dấu", "owner_org": syt.code, "groups": "y-te",
         "license_id": "CC-BY-4.0"},
    )  # fmt: skip
    assert bad.status_code == 200
    assert "errorlist" in bad.content.decode()
    assert not Dataset.objects.filter(title="Thiếu").exists()
    created = browser.post(
        "/du-lieu-mo/quan-ly/tao-moi/",
        {"title": "Giường bệnh theo bệnh viện", "name": "giuong-benh", "owner_org": syt.code,
         "groups": "y-te", "license_id": "CC-BY-4.0", "tags": "giường bệnh, bệnh viện"},
    )  # fmt: skip
    assert created.status_code == 302
    dataset = Dataset.objects.get(name="giuong-benh")
    assert dataset.private
    assert sorted(dataset.tags.values_list("name", flat=True)) == ["bệnh viện", "giường bệnh"]
    page = "/du-lieu-mo/quan-ly/giuong-benh/"
    refused = browser.post(page, {"upload": SimpleUploadedFile("x.csv", b"\x00\x01binary")})
    assert refused.status_code == 400
    assert "không phải tệp CSV" in refused.content.decode()
    table = encode_cp1258(_csv(sep=";"))
    added = browser.post(page, {"name": "Bảng", "upload": SimpleUploadedFile("bang.csv", table)})
    assert added.status_code == 302
    assert dataset.resources.get().datastore.row_count == 3
    assert Client().get("/du-lieu-mo/giuong-benh/").status_code == 404
    assert browser.post(page + "cong-bo/", {"publish": "1"}).status_code == 302
    assert Client().get("/du-lieu-mo/giuong-benh/").status_code == 200
    assert browser.post(page + "cong-bo/", {"publish": "0"}).status_code == 302
    assert Client().get("/du-lieu-mo/giuong-benh/").status_code == 404
    kinds = list(dataset.activities.values_list("kind", flat=True))
    assert "published" in kinds
    assert "unpublished" in kinds


def test_dossier_statistics_from_the_rollups_match_a_scan_of_the_events(citizen: Any) -> None:
    import csv
    import io

    from django.utils import timezone

    from test_figures import _varied
    from tinhso.core.indicators import Timeliness, timeliness
    from tinhso.dossiers.models import Channel, DossierEvent, DossierStatus
    from tinhso.opendata.platform import dossier_statistics_csv

    _varied(citizen)
    expected: dict[tuple[str, str], list[int]] = {}
    for event in DossierEvent.objects.select_related("dossier__receiving_agency"):
        agency = event.dossier.receiving_agency
        if agency is None:
            continue
        month = timezone.localtime(event.at).strftime("%Y-%m")
        counts = expected.setdefault((month, agency.code), [0, 0, 0, 0])
        if event.to_status == DossierStatus.ACCEPTED and event.from_status < DossierStatus.ACCEPTED:
            counts[0] += 1
            counts[1] += event.dossier.channel == Channel.ONLINE
        if event.to_status == DossierStatus.FINISHED:
            counts[2] += 1
            counts[3] += timeliness(event.at, event.dossier.due_at) == Timeliness.LATE
    expected = {k: v for k, v in expected.items() if any(v)}
    rows = list(csv.reader(io.StringIO(dossier_statistics_csv().decode("utf-8-sig"))))[1:]
    got = {(r[2], r[0]): [int(n) for n in r[3:]] for r in rows}
    assert got == expected
    assert [r[3] for r in rows if r[2] == "2026-02"]  # February's dossiers are there
    assert sum(v[3] for v in got.values()) >= 2  # late ones counted
