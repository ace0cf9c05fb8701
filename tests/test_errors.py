"""One domain-error base (core.errors): every module's refusal keeps its HTTP status and
code in the API, in the caller's language, and is shown as a message on pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from flows import user
from test_deadlines import accepted
from test_submission import api_body, submission
from tinhso.dossiers.services import dossier_submit

pytestmark = pytest.mark.django_db


def answer(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_every_refusal_keeps_its_status_and_code(
    client: Client, token_for: Any, citizen: Any
) -> None:
    applicant = token_for(citizen)

    def post(url: str, body: dict[str, Any], auth: dict[str, str] = applicant) -> Any:
        return client.post(url, body, content_type="application/json", headers=auth)

    dossier = dossier_submit(submission=submission(citizen))
    actions = f"/api/v1/dossiers/{dossier.code}/actions"
    receiver = token_for(user("tiepnhan.hacthanh"))
    specialist = token_for(user("chuyenvien.hacthanh"))
    version = dossier.version
    assert answer(post(actions, {"action": "fly", "version": version}, receiver)) == (
        422, "invalid_action",
    )  # fmt: skip
    assert answer(post(actions, {"action": "accept", "version": version}, specialist)) == (
        403, "forbidden",
    )  # fmt: skip
    assert post(actions, {"action": "accept", "version": version}, receiver).status_code == 200
    assert answer(post(actions, {"action": "accept", "version": version}, receiver)) == (
        409, "conflict",
    )  # fmt: skip

    processing = accepted(citizen)
    extension = f"/api/v1/dossiers/{processing.code}/extension"
    assert processing.due_at is not None
    earlier = (processing.due_at - timedelta(hours=1)).isoformat()
    body = {"reason": "Chờ xác minh", "new_due": earlier, "version": processing.version}
    assert answer(post(extension, body, specialist)) == (422, "invalid_extension")
    later = {**body, "new_due": (processing.due_at + timedelta(days=2)).isoformat()}
    assert answer(post(extension, {**later, "version": 1}, specialist)) == (409, "conflict")
    assert answer(post(extension, later, receiver)) == (403, "forbidden")

    assert answer(post("/api/v1/payments", {"dossier": dossier.code})) == (422, "payment_refused")
    assert answer(post(f"/api/v1/dossiers/{dossier.code}/rating", {"score": 3})) == (409, "rating")

    invalid = post("/api/v1/dossiers", api_body(receiving_agency="000.00.00.H56"))
    assert answer(invalid) == (422, "invalid")
    assert "receiving_agency" in invalid.json()["errors"]

    token = client.get("/api/v1/me", headers={"Authorization": "Bearer tsk_nope"})
    assert answer(token) == (401, "token_invalid")
    assert token["WWW-Authenticate"] == 'Bearer realm="tinhso", error="invalid_token"'
    missing = client.get("/api/v1/me")
    assert answer(missing) == (401, "token_missing")
    assert missing["WWW-Authenticate"] == 'Bearer realm="tinhso"'


def test_a_refusal_is_said_in_the_callers_language(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    url = "/api/v1/payments"
    headers = token_for(citizen)
    vi = client.post(url, {"dossier": dossier.code}, content_type="application/json",
                     headers=headers)  # fmt: skip
    en = client.post(url, {"dossier": dossier.code}, content_type="application/json",
                     headers={**headers, "Accept-Language": "en"})  # fmt: skip
    assert en.json()["detail"] == "This dossier has no fee to pay."
    assert vi.json()["detail"] not in ("", en.json()["detail"])
    assert "errors" not in en.json()


def test_pages_show_a_refusal_where_the_user_can_try_again(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    mine = login_client(citizen)
    detail = f"/ho-so-cua-toi/{dossier.public_id}/"
    rated = mine.post(f"{detail}danh-gia/", {"score": "3"}, HTTP_ACCEPT_LANGUAGE="en")
    # Not returned yet is a conflict with the dossier's state: 303, as every 409 on a page.
    assert (rated.status_code, rated["Location"]) == (303, detail)
    assert [str(m) for m in rated.wsgi_request._messages] == [
        "A dossier is rated once its result has been returned."
    ]
    paid = mine.post(f"{detail}thanh-toan/", HTTP_ACCEPT_LANGUAGE="en")
    assert (paid.status_code, paid["Location"]) == (302, detail)
    assert [str(m) for m in paid.wsgi_request._messages][-1] == "This dossier has no fee to pay."

    processing = accepted(citizen)
    specialist = login_client(user("chuyenvien.hacthanh"))
    page = f"/can-bo/ho-so/{processing.code}/"
    assert processing.due_at is not None
    later = (processing.due_at + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = {"reason": "Chờ xác minh", "version": processing.version - 1, "new_due": later}
    stale = specialist.post(f"{page}gia-han/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert (stale.status_code, stale["Location"]) == (303, page)
    assert [str(m) for m in stale.wsgi_request._messages] == [
        "Someone else changed this dossier a moment ago. Reload it and try again."
    ]
