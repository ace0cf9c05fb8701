"""Input that used to end in a server error: NUL characters anywhere (refused once, by
core.input's middleware), integers past the database's range, JSON nested deeper than
Python's parser goes, and time zone offsets no place uses. Each is a clear 4xx in the shape
of the part of the site that was asked, and nothing is stored."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from flows import user
from test_deadlines import accepted
from tinhso.accounts.models import SignInAttempt
from tinhso.dossiers.models import Dossier
from tinhso.opendata.models import Dataset, Resource
from tinhso.payments.models import BankNotification, BankTransaction, Outcome
from tinhso.payments.services import webhook_secret

pytestmark = pytest.mark.django_db

NUL_VI = "Yêu cầu có chứa ký tự NUL"
NUL_EN = "The request contains a NUL character"


def _api_refused(response: Any, language: str = "vi") -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "nul_character"
    assert (NUL_VI if language == "vi" else NUL_EN) in body["detail"]


def _ckan_refused(response: Any) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["success"] is False
    assert body["error"]["__type"] == "Bad Request"
    assert NUL_VI in body["error"]["message"]


def _page_refused(response: Any) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert NUL_VI in response.content.decode()


# --- NUL characters: the endpoints that answered 500 -----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/track/%00",
        "/api/v1/track/000.02.60.H56-261007-0001%00",
        "/api/v1/procedures?q=%00",
        "/api/v1/procedures/%00",
        "/api/v1/agencies?q=a%00",
        "/api/v1/agencies/%00",
        "/api/v1/calendar/due?agency=%00&start=2026-01-05T08:00:00%2B07:00&days=5",
        "/api/v1/figures?agency=%00&start=2026-01-01&end=2026-02-01",
        "/api/v1/verify/%00",
    ],
)
def test_a_nul_in_the_api_path_or_query_is_a_400_in_the_apis_shape(
    client: Client, url: str
) -> None:
    _api_refused(client.get(url))


def test_the_apis_refusal_follows_accept_language(client: Client) -> None:
    _api_refused(client.get("/api/v1/track/%00", headers={"Accept-Language": "en"}), "en")


@pytest.mark.parametrize(
    "url",
    [
        "/thu-tuc/?q=%00",
        "/thu-tuc/%00/",
        "/co-quan/?q=%00",
        "/co-quan/a%00/",
        "/tra-cuu-ho-so/?ma=%00",
        "/du-lieu-mo/tim-kiem/?q=%00",
        "/xac-thuc/%00/",
    ],
)
def test_a_nul_in_a_pages_path_or_query_is_a_400_page_in_vietnamese(
    client: Client, url: str
) -> None:
    _page_refused(client.get(url))


def test_a_nul_in_the_ckan_api_is_ckans_bad_request(client: Client) -> None:
    _ckan_refused(client.get("/api/3/action/package_search?q=%00"))
    _ckan_refused(client.get("/api/action/package_show?id=a%00"))
    _ckan_refused(
        client.post(
            "/api/3/action/package_search", '{"q": "a\\u0000"}', content_type="application/json"
        )
    )


def test_a_nul_in_a_json_body_is_refused_before_the_endpoint_runs(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/token",
        '{"username": "a\\u0000b", "password": "x"}',
        content_type="application/json",
    )
    _api_refused(response)
    assert not SignInAttempt.objects.exists()  # the sign-in was never attempted


def test_an_escaped_backslash_before_u0000_is_not_a_nul(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/token",
        '{"username": "a\\\\u0000b", "password": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 401


def test_a_nul_in_the_fields_officials_and_citizens_send_is_refused(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = accepted(citizen)
    official = token_for(user("chuyenvien.hacthanh"))
    cases = [
        ("/api/v1/dossiers/" + dossier.code + "/actions",
         {"action": "forward", "version": dossier.version, "assignee": "a\x00"}, official),
        ("/api/v1/dossiers/" + dossier.code + "/extension",
         {"reason": "Chờ\x00", "new_due": (dossier.due_at + timedelta(days=2)).isoformat(),
          "version": dossier.version}, official),
        ("/api/v1/payments", {"dossier": dossier.code + "\x00", "exemption": ""},
         token_for(citizen)),
        ("/api/v1/dossiers", {"procedure": "1.001193\x00", "receiving_agency": "x",
                              "result_method": "online"}, token_for(citizen)),
        ("/api/v1/citizens/lookup", {"personal_id": "0380900000\x0001", "purpose": "xem"},
         official),
    ]  # fmt: skip
    for url, body, headers in cases:
        _api_refused(
            client.post(url, json.dumps(body), content_type="application/json", headers=headers)
        )
    assert Dossier.objects.get(pk=dossier.pk).version == dossier.version


def test_a_nul_in_a_form_field_is_refused_multipart_too(client: Client, token_for: Any) -> None:
    _page_refused(client.post("/dang-nhap/", {"username": "a\x00b", "password": "x"}))
    assert not SignInAttempt.objects.exists()
    before = Resource.objects.count()
    upload = io.BytesIO(b"a,b\n1,2\n")
    upload.name = "bang.csv"
    _ckan_refused(
        client.post(
            "/api/3/action/resource_create",
            {"package_id": "x", "name": "Bảng\x00", "upload": upload},
            headers=token_for(user("dulieu.yte")),
        )
    )
    assert Resource.objects.count() == before
    # The content of an uploaded file is not text: a NUL there is the file's business.
    binary = io.BytesIO(b"%PDF-1.4\n\x00\x00\n")
    binary.name = "scan.pdf"
    answer = client.post("/api/v1/verify", {"file": binary})
    assert answer.status_code != 400 or answer.json()["code"] != "nul_character"


def test_a_form_sent_to_a_json_endpoint_is_still_the_endpoints_to_refuse(client: Client) -> None:
    # The middleware reads the form; the endpoint must still be able to read the raw body.
    multipart = client.post("/api/v1/auth/token", {"username": "a", "password": "b"})
    assert multipart.status_code == 400
    assert multipart.json()["code"] == "invalid_json"
    broken = client.generic(
        "POST", "/api/v1/auth/token", b"--x\r\n", content_type="multipart/form-data"
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "invalid_json"


# --- NUL characters: every URL pattern ---------------------------------------------------------

_SAMPLES = {
    "int": "1",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "slug": "x",
    "str": "x",
    "path": "x",
}


def _route_path(route: str, nul: bool) -> str | None:
    """A concrete path for a route; with `nul`, one whose first text segment holds a NUL
    (None if the route has no text segment)."""
    placed = False

    def sample(match: re.Match[str]) -> str:
        nonlocal placed
        converter = match.group(1) or "str"
        if nul and not placed and converter in ("str", "path"):
            placed = True
            return "x\x00"
        return _SAMPLES[converter]

    path = re.sub(r"<(?:(\w+):)?\w+>", sample, route)
    return path if placed or not nul else None


def _regex_path(regex: str) -> str:
    def group(match: re.Match[str]) -> str:
        first = match.group(1).split("|")[0]
        return first if re.fullmatch(r"[\w-]+", first) else "x"

    path = re.sub(r"\(\?P<\w+>([^)]*)\)", group, regex.lstrip("^").rstrip("$"))
    return path.replace("\\.", ".").replace(".*", "x")


def _every_path(
    patterns: list[Any], prefix: str = "", nul_prefix: str | None = None
) -> list[tuple[str, str | None, str]]:
    """(sample path, the same with a NUL in a text segment or None, pattern) of every
    URL pattern, included ones too."""
    found: list[tuple[str, str | None, str]] = []
    for pattern in patterns:
        raw = str(pattern.pattern)
        if hasattr(pattern.pattern, "_route"):
            part, nul_part = _route_path(raw, False) or "", _route_path(raw, True)
        else:
            part, nul_part = _regex_path(raw), None
        # A NUL goes in this part, or in an earlier one (then this part stays plain).
        nul = nul_prefix + part if nul_prefix is not None else None
        if nul is None and nul_part is not None:
            nul = prefix + nul_part
        if isinstance(pattern, URLResolver):
            found += _every_path(pattern.url_patterns, prefix + part, nul)
        elif isinstance(pattern, URLPattern):
            found.append((prefix + part, nul, raw))
    return found


def test_every_url_pattern_refuses_a_nul_in_its_query_form_and_text_segments(
    client: Client,
) -> None:
    paths = _every_path(get_resolver().url_patterns)
    assert len(paths) > 100  # the site's pages, the API, CKAN, the admin
    callback = "/api/v1/payments/callback"
    for path, nul_path, raw in paths:
        url = "/" + path
        match = resolve(url)  # every sample path reaches its own view
        if url == callback:
            continue  # it records every notification itself (see the tests below)
        checks = [client.get(url + "?x=%00"), client.post(url, {"x": "a\x00"})]
        checks.append(client.post(url, '{"x": "\\u0000"}', content_type="application/json"))
        if nul_path is not None:
            assert resolve("/" + nul_path).func == match.func
            checks.append(client.get("/" + quote(nul_path)))
        for response in checks:
            assert response.status_code == 400, (raw, response.status_code)
            if "api-v1" in match.namespaces:
                assert response.json()["code"] == "nul_character"
            elif match.url_name in ("ckan_action", "ckan_action_unversioned"):
                assert response.json()["error"]["__type"] == "Bad Request"
            else:
                assert NUL_VI in response.content.decode()


# --- The bank: every notification is kept, malformed ones too -----------------------------------


def _signed(client: Client, body: bytes) -> Any:
    signature = "sha256=" + hmac.new(webhook_secret(), body, hashlib.sha256).hexdigest()
    return client.generic(
        "POST", "/api/v1/payments/callback", body, content_type="application/json",
        headers={"X-Signature": signature},
    )  # fmt: skip


def _notice(**changes: Any) -> bytes:
    notice = {
        "transaction_id": "FT-INPUT-1",
        "reference": "TSABCDEFGHJK",
        "amount": 15000,
        "status": "succeeded",
        "occurred_at": "2026-01-05T09:00:00+07:00",
        **changes,
    }
    return json.dumps(notice).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 10**30},
        {"amount": 2**63},
        {"occurred_at": "2026-01-05T09:00:00-17:42"},
        {"occurred_at": "0001-01-01T00:00:00+14:00"},
        {"transaction_id": "FT\u0000"},
        {"reference": {"nested": True}},
    ],
)
def test_a_signed_notification_that_cannot_be_stored_is_kept_as_malformed(
    client: Client, changes: dict[str, Any]
) -> None:
    body = _notice(**changes)
    response = _signed(client, body)
    assert (response.status_code, response.json()["result"]) == (400, "malformed")
    kept = BankNotification.objects.get()
    assert (kept.outcome, kept.signature_valid, kept.body) == (
        Outcome.MALFORMED,
        True,
        body.decode(),
    )
    assert not BankTransaction.objects.exists()


def test_a_nul_byte_in_a_notification_is_kept_readable(client: Client) -> None:
    body = _notice()[:-1] + b', "x": "\x00"}'
    assert _signed(client, body).status_code == 400
    assert BankNotification.objects.get().body.endswith('"x": "\ufffd"}')


def test_a_signature_header_with_any_characters_is_a_401(client: Client) -> None:
    answer = client.generic(
        "POST", "/api/v1/payments/callback", _notice(), content_type="application/json",
        headers={"X-Signature": "sha256=é"},
    )  # fmt: skip
    assert answer.status_code == 401
    assert BankNotification.objects.get().outcome == Outcome.REJECTED


# --- Integers past the database's range ------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "package_search?start=100000000000000000000",
        "package_search?rows=10&start=9223372036854775808",
        "package_search?facet.limit=99999999999999999999",
        "package_list?limit=100000000000000000000",
        "package_list?offset=100000000000000000000",
        "organization_list?offset=9223372036854775808",
        "group_list?limit=1" + "0" * 5000,
    ],
)
def test_ckan_numbers_past_the_databases_range_are_a_validation_error(
    client: Client, query: str
) -> None:
    response = client.get("/api/3/action/" + query)
    assert response.status_code == 409
    assert response.json()["error"]["__type"] == "Validation Error"


def test_a_portal_page_number_past_the_range_is_the_last_page_not_an_error(
    client: Client,
) -> None:
    page = client.get("/du-lieu-mo/tim-kiem/?q=dan&trang=99999999999999999999")
    assert page.status_code == 200


def test_a_datastore_offset_past_the_range_is_a_validation_error(client: Client) -> None:
    resource = Resource.objects.filter(datastore__isnull=False, dataset__private=False).first()
    assert resource is not None
    response = client.get(
        f"/api/3/action/datastore_search?resource_id={resource.pk}&offset=9223372036854775808"
    )
    assert response.status_code == 409


def _upload(client: Client, token_for: Any, content: bytes) -> Resource:
    dataset = Dataset.objects.filter(publisher__agency__short_name="SYT").first()
    assert dataset is not None
    upload = io.BytesIO(content)
    upload.name = "so-lieu.csv"
    created = client.post(
        "/api/3/action/resource_create",
        {"package_id": dataset.name, "name": "Số liệu", "upload": upload},
        headers=token_for(user("dulieu.yte")),
    )
    assert created.status_code == 200, created.content[:300]
    Dataset.objects.filter(pk=dataset.pk).update(private=False)
    return Resource.objects.get(pk=created.json()["result"]["id"])


def test_numbers_no_double_holds_stay_text_and_a_filter_of_one_is_refused(
    client: Client, token_for: Any
) -> None:
    huge = _upload(client, token_for, "Xã,Giá trị\r\nA,1e1000000\r\nB,2\r\n".encode())
    assert [f["type"] for f in huge.datastore.fields] == ["text", "text"]
    found = client.get(f"/api/3/action/datastore_search?resource_id={huge.pk}")
    assert [r["Giá trị"] for r in found.json()["result"]["records"]] == ["1e1000000", "2"]
    numbers = _upload(client, token_for, "Xã,Giá trị\r\nA,1.5\r\nB,2\r\n".encode())
    assert numbers.datastore.fields[1]["type"] == "numeric"
    for value in ("1e1000000", "1e-400"):
        refused = client.get(
            f"/api/3/action/datastore_search?resource_id={numbers.pk}"
            f'&filters={{"Giá trị": "{value}"}}'
        )
        assert refused.status_code == 409, value


def test_api_integers_past_the_databases_range_are_a_422(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = accepted(citizen)
    official = token_for(user("chuyenvien.hacthanh"))
    cases = [
        (f"/api/v1/dossiers/{dossier.code}/actions", {"action": "forward", "version": 2**31},
         official, "version"),
        (f"/api/v1/dossiers/{dossier.code}/extension",
         {"reason": "Chờ xác minh", "new_due": (dossier.due_at + timedelta(days=2)).isoformat(),
          "version": 10**30}, official, "version"),
        ("/api/v1/dossiers", {"procedure": "1.001193", "receiving_agency": "000.02.60.H56",
                              "result_method": "online",
                              "attachments": [{"paper": 2**63, "stored_paper": 2**64}]},
         token_for(citizen), "attachments.0.paper"),
    ]  # fmt: skip
    for url, body, headers, field in cases:
        response = client.post(
            url, json.dumps(body), content_type="application/json", headers=headers
        )
        assert response.status_code == 422, response.content[:300]
        assert field in response.json()["errors"]
    revoke = client.delete(f"/api/v1/auth/tokens/{2**63}", headers=official)
    assert revoke.status_code == 422
    assert client.get("/api/v1/agencies?page=99999999999999999999").status_code == 422
    assert Dossier.objects.get(pk=dossier.pk).version == dossier.version


# --- Deep JSON ---------------------------------------------------------------------------------

DEEP = b"[" * 50_000 + b"]" * 50_000


def test_json_nested_50000_deep_in_an_open_data_upload_is_refused_and_nothing_stored(
    client: Client, token_for: Any, settings: Any
) -> None:
    dataset = Dataset.objects.filter(publisher__agency__short_name="SYT").first()
    assert dataset is not None
    before = Resource.objects.count()
    upload = io.BytesIO(DEEP)
    upload.name = "sau.json"
    response = client.post(
        "/api/3/action/resource_create",
        {"package_id": dataset.name, "name": "Sâu", "upload": upload},
        headers=token_for(user("dulieu.yte")),
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["__type"] == "Validation Error"
    assert "nested too deeply" in " ".join(error["upload"]) or "lồng" in " ".join(error["upload"])
    assert Resource.objects.count() == before
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


def test_json_bodies_nested_too_deep_are_a_400(client: Client) -> None:
    ckan = client.post("/api/3/action/package_search", DEEP, content_type="application/json")
    assert ckan.status_code == 400
    assert ckan.json()["error"]["__type"] == "Bad Request"
    api = client.post("/api/v1/auth/token", DEEP, content_type="application/json")
    assert api.status_code == 400
    assert api.json()["code"] == "invalid_json"


# --- Time zone offsets no place uses -------------------------------------------------------------


def test_an_extension_with_a_utc_offset_of_minus_17_42_is_a_422_and_changes_nothing(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = accepted(citizen)
    new_due = (dossier.due_at + timedelta(days=3)).isoformat(timespec="seconds")[:19] + "-17:42"
    response = client.post(
        f"/api/v1/dossiers/{dossier.code}/extension",
        {"reason": "Chờ xác minh", "new_due": new_due, "version": dossier.version},
        content_type="application/json",
        headers=token_for(user("chuyenvien.hacthanh")),
    )
    assert response.status_code == 422
    assert "-17:42" in response.json()["errors"]["new_due"][0]
    unchanged = Dossier.objects.get(pk=dossier.pk)
    assert (unchanged.due_at, unchanged.version) == (dossier.due_at, dossier.version)
    assert not unchanged.documents.filter(kind="BM04").exists()


def test_the_extension_form_refuses_the_offset_with_a_message(
    login_client: Any, citizen: Any
) -> None:
    dossier = accepted(citizen)
    official = login_client(user("chuyenvien.hacthanh"))
    new_due = (dossier.due_at + timedelta(days=3)).isoformat(timespec="seconds")[:19] + "-17:42"
    page = official.post(
        f"/can-bo/ho-so/{dossier.code}/gia-han/",
        {"reason": "Chờ xác minh", "new_due": new_due, "version": dossier.version},
        follow=True,
    )
    assert "-17:42" in page.content.decode()
    unchanged = Dossier.objects.get(pk=dossier.pk)
    assert (unchanged.due_at, unchanged.version) == (dossier.due_at, dossier.version)


@pytest.mark.parametrize(
    "query",
    [
        "agency=000.02.60.H56&start=0001-01-01T00:00:00%2B14:00&days=5",
        "agency=000.02.60.H56&start=9999-12-31T23:00:00-12:00&days=365",
        "agency=000.02.60.H56&start=2026-01-05T08:00:00-17:42&days=5",
        # Hanoi's mean time (+07:06:30) cannot be written in RFC 3339: no 200 may carry it.
        "agency=000.02.60.H56&start=1905-03-04T08:00:00%2B07:00&days=5",
    ],
)
def test_calendar_times_outside_the_range_are_a_422(client: Client, query: str) -> None:
    assert client.get("/api/v1/calendar/due?" + query).status_code == 422


def test_figures_for_dates_outside_the_range_are_a_422(client: Client) -> None:
    response = client.get("/api/v1/figures?agency=000.02.60.H56&start=0001-01-01&end=0001-01-02")
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("url", "field", "vi", "en"),
    [
        ("/api/v1/figures?agency=000.02.60.H56&start=2026-13-01&end=2026-01-01", "start",
         "Phải là ngày (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)"),
        ("/api/v1/figures?agency=000.02.60.H56&start=2026-01-01T25:00&end=2026-02-01", "start",
         "Phải là ngày (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)"),
        ("/api/v1/calendar/due?agency=000.02.60.H56&start=abc&days=5", "start",
         "Phải là ngày và giờ", "Must be a date and time"),
        ("/api/v1/calendar/due?agency=000.02.60.H56&start=2026-01-05T08:00:00&days=x", "days",
         "Phải là số", "Must be a number"),
    ],
)  # fmt: skip
def test_dates_times_and_numbers_refused_in_the_users_language(
    client: Client, url: str, field: str, vi: str, en: str
) -> None:
    for language, expected in (("vi", vi), ("en", en)):
        answer = client.get(url, headers={"Accept-Language": language})
        assert answer.status_code == 422
        assert answer.json()["errors"][field][0].startswith(expected), answer.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"form": "một chuỗi"}, "form"),  # a field named like ninja's "form" location
        ({"form": {}, "result_method": 7}, "result_method"),
    ],
)
def test_a_body_field_is_reported_under_its_own_name(
    client: Client, token_for: Any, citizen: Any, body: dict[str, Any], field: str
) -> None:
    whole = {"procedure": "1.001193", "receiving_agency": "000.02.60.H56",
             "result_method": "online", **body}  # fmt: skip
    answer = client.post(
        "/api/v1/dossiers", json.dumps(whole), content_type="application/json",
        headers=token_for(citizen),
    )  # fmt: skip
    assert answer.status_code == 422
    assert list(answer.json()["errors"]) == [field], answer.json()
