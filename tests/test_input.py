"""Input that used to end in a server error: NUL characters anywhere (refused once, by
core.input's middleware). Each is a clear 4xx in the shape of the part of the site that was
asked, and nothing is stored."""

from __future__ import annotations

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
from tinhso.accounts.models import LoginFailure
from tinhso.dossiers.models import Dossier
from tinhso.opendata.models import Resource

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
    assert not LoginFailure.objects.exists()  # the sign-in was never attempted


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
    assert not LoginFailure.objects.exists()
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
