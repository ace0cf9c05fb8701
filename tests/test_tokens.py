"""API bearer tokens: issue, list, revoke, expire; every bad token gets 401."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tinhso.accounts.models import ApiToken

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/auth/tokens"


def _issue(client: Client, username: str = "chuyenvien", **extra: Any) -> Any:
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": "demo", **extra},
        content_type="application/json",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "vi"}


def test_issue_list_and_revoke(client: Client) -> None:
    issued = _issue(client, name="tích hợp", expires_in_days=7)
    assert issued.status_code == 201
    body = issued.json()
    token = body["token"]
    assert body["token_type"] == "Bearer"
    row = ApiToken.objects.get(pk=body["id"])
    assert row.digest != token
    assert token not in row.digest
    assert timedelta(days=6, hours=23) < row.expires_at - timezone.now() <= timedelta(days=7)

    listed = client.get(TOKENS, **_bearer(token))
    assert listed.status_code == 200
    assert [(t["name"], t["status"]) for t in listed.json()] == [("tích hợp", "active")]
    assert "token" not in listed.json()[0]

    assert client.delete(f"{TOKENS}/{body['id']}", **_bearer(token)).status_code == 204
    after = client.get(TOKENS, **_bearer(token))
    assert after.status_code == 401
    assert after.json()["code"] == "token_revoked"
    assert "thu hồi" in after.json()["detail"]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "token_missing"),
        ("Bearer", "token_invalid"),
        ("Basic Y2h1eWVudmllbjpkZW1v", "token_invalid"),
        ("Bearer tsk_forged-token-that-was-never-issued", "token_invalid"),
    ],
)
def test_missing_or_forged_tokens_get_401(client: Client, header: str | None, code: str) -> None:
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(TOKENS, **extra)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_gets_401(client: Client) -> None:
    body = _issue(client).json()
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(TOKENS, **_bearer(body["token"]))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "hết hạn" in response.json()["detail"]


def test_a_token_of_a_deactivated_account_stops_working(client: Client, specialist: Any) -> None:
    body = _issue(client).json()
    specialist.is_active = False
    specialist.save()
    assert client.get(TOKENS, **_bearer(body["token"])).status_code == 401


def test_nobody_revokes_or_sees_another_users_token(client: Client) -> None:
    mine = _issue(client, "chuyenvien").json()
    theirs = _issue(client, "lanhdao").json()
    assert client.delete(f"{TOKENS}/{theirs['id']}", **_bearer(mine["token"])).status_code == 404
    assert client.get(TOKENS, **_bearer(theirs["token"])).status_code == 200
    listed = client.get(TOKENS, **_bearer(mine["token"])).json()
    assert [t["id"] for t in listed] == [mine["id"]]


def test_wrong_credentials_and_bad_bodies(client: Client) -> None:
    wrong = client.post(
        "/api/v1/auth/token",
        {"username": "chuyenvien", "password": "x"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert wrong.status_code == 401
    assert "Sai tên đăng nhập" in wrong.json()["detail"]
    assert client.post(
        "/api/v1/auth/token", "{not json", content_type="application/json"
    ).status_code in (400, 422)
    assert _issue(client, expires_in_days=1000).status_code == 422


def test_tokens_can_be_made_and_revoked_from_the_account_page(
    login_client: Any, specialist: Any
) -> None:
    client = login_client(specialist)
    page = client.post("/tai-khoan/ma-truy-cap/", {"name": "máy chủ tích hợp", "days": 30})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    row = ApiToken.objects.get(user=specialist)
    assert row.prefix in page.content.decode()
    assert client.post(f"/tai-khoan/ma-truy-cap/{row.pk}/thu-hoi/").status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_invalid_requests_get_one_error_envelope_in_vietnamese(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/token",
        {"username": "x"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "invalid_request"
    assert body["errors"]["password"] == ["Trường này là bắt buộc."]
    huge = client.get("/api/v1/agencies", {"page": 10**12})
    assert huge.status_code == 422
    last = client.get("/api/v1/agencies", {"page": 99999, "page_size": 200}).json()
    assert last["items"] == []
    assert last["count"] > 0
