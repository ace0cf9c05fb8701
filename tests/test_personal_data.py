"""Who may read a citizen's record, and the citizen seeing who did (Decree 13/2023)."""

from typing import Any

import pytest
from django.test import Client

from tinhso.core.models import AuditEntry, PersonalDataAccess

pytestmark = pytest.mark.django_db

LOOKUP_API = "/api/v1/citizens/lookup"
LOOKUP_PAGE = "/can-bo/tra-cuu-cong-dan/"
BODY = {"personal_id": "038090000001", "purpose": "Kiểm tra thông tin hồ sơ khai sinh"}


def _api_lookup(client: Client, headers: dict[str, str], body: dict[str, str] = BODY) -> Any:
    return client.post(LOOKUP_API, body, content_type="application/json", headers=headers)


def test_permission_matrix_on_the_api(
    client: Client, token_for: Any, citizen: Any, clerk: Any, receiver: Any, commune_receiver: Any
) -> None:
    assert _api_lookup(client, {}).status_code == 401  # anonymous
    refused = _api_lookup(client, token_for(citizen))  # a citizen
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"  # every error says its code
    assert _api_lookup(client, token_for(clerk)).status_code == 403  # official, wrong role
    # An official of another agency acting for an agency they do not belong to.
    foreign = _api_lookup(client, token_for(commune_receiver), {**BODY, "agency": "000.00.04.H56"})
    assert foreign.status_code == 403
    assert PersonalDataAccess.objects.count() == 0
    ok = _api_lookup(client, token_for(receiver))  # right role
    assert ok.status_code == 200
    assert ok.json()["full_name"] == "Nguyễn Văn An"
    access = PersonalDataAccess.objects.get()
    assert (access.official, access.citizen, access.channel) == (receiver, citizen, "api")
    assert access.agency is not None
    assert access.agency.kind == "service_centre"


def test_the_role_is_checked_before_the_body(
    client: Client, token_for: Any, citizen: Any, clerk: Any, receiver: Any
) -> None:
    # Someone without the role learns nothing from how a body is validated: the same 403
    # whether the body is empty, malformed or well-formed.
    for user in (citizen, clerk):
        for body in ({}, {"personal_id": 12, "purpose": ""}, BODY):
            answer = _api_lookup(client, token_for(user), body)
            assert answer.status_code == 403, (user, body)
            assert answer.json()["code"] == "forbidden"
    # With the role, the body is validated as before.
    invalid = _api_lookup(client, token_for(receiver), {"purpose": "x"})
    assert invalid.status_code == 422
    assert set(invalid.json()["errors"]) == {"personal_id", "purpose"}
    assert PersonalDataAccess.objects.count() == 0


def test_permission_matrix_on_the_page(
    client: Client, login_client: Any, citizen: Any, clerk: Any, receiver: Any
) -> None:
    anonymous = client.get(LOOKUP_PAGE)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/dang-nhap/")
    assert login_client(citizen).get(LOOKUP_PAGE).status_code == 403
    assert login_client(clerk).get(LOOKUP_PAGE).status_code == 403
    official = login_client(receiver)
    form = official.get(LOOKUP_PAGE)
    assert form.status_code == 200
    agency = form.context["form"].fields["agency"].choices[0][0]
    shown = official.post(LOOKUP_PAGE, {**BODY, "agency": agency})
    assert shown.status_code == 200
    assert "Số 12 Lê Lai" in shown.content.decode()
    assert PersonalDataAccess.objects.filter(citizen=citizen, official=receiver).count() == 1


def test_bad_numbers_and_unknown_citizens(client: Client, token_for: Any, receiver: Any) -> None:
    headers = {**token_for(receiver), "Accept-Language": "vi"}
    bad = _api_lookup(client, headers, {**BODY, "personal_id": "12345"})
    assert bad.status_code == 422
    assert "12 chữ số" in bad.json()["detail"]
    unknown = _api_lookup(client, headers, {**BODY, "personal_id": "038090999999"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"
    assert PersonalDataAccess.objects.count() == 0


def test_the_citizen_sees_who_looked_and_others_do_not(
    client: Client,
    token_for: Any,
    login_client: Any,
    citizen: Any,
    other_citizen: Any,
    receiver: Any,
) -> None:
    _api_lookup(client, token_for(receiver))
    mine = client.get("/api/v1/me/data-access", headers=token_for(citizen)).json()
    assert mine["count"] == 1
    assert mine["items"][0]["official"] == "Lê Thị Hoa"
    assert mine["items"][0]["purpose"] == BODY["purpose"]
    assert (
        client.get("/api/v1/me/data-access", headers=token_for(other_citizen)).json()["count"] == 0
    )
    page = login_client(citizen).get("/tai-khoan/").content.decode()
    assert "Lê Thị Hoa" in page
    assert BODY["purpose"] in page


def test_the_audit_row_of_a_look_holds_no_personal_id(
    client: Client, token_for: Any, receiver: Any
) -> None:
    _api_lookup(client, token_for(receiver))
    entry = AuditEntry.objects.filter(action="personal_data.viewed").get()
    assert "038090000001" not in str(entry.data)


def test_my_profile_over_the_api(client: Client, token_for: Any, receiver: Any) -> None:
    body = client.get("/api/v1/me", headers=token_for(receiver)).json()
    assert body["kind"] == "official"
    assert [(m["agency_name"], m["role"]) for m in body["memberships"]] == [
        ("Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa", "receiver")
    ]
