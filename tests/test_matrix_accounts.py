"""The permission matrix of the accounts module (tests/permissions.py): the sign-in pages
(the demo e-ID only while TINHSO_DEMO is on; OpenID Connect only when a provider is
configured), the account page, API tokens, TOTP enrolment, and /api/v1/auth and /me.
Everyone gets their own account, nobody anyone else's. (Looking citizens up is in
test_permissions.py.)"""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import (
    EVERYONE,
    OFFICIALS,
    PERSONAL_MARKERS,
    SIGNED_IN,
    Route,
    Scene,
    check_route,
    hac_thanh,
    route_id,
)
from tinhso.accounts.access import personal_data_access_record
from tinhso.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


OTHERS = SIGNED_IN - {"applicant"}
LOOK = "Ma trận: kiểm tra giấy tờ của người nộp"


def _looked_at(scene: Scene) -> None:
    """A look at the applicant's data by Hạc Thành's receiver, in the applicant's log."""
    receiver = scene.matrix.people["receiver"]
    assert receiver is not None
    personal_data_access_record(
        official=receiver, citizen=scene.applicant, purpose=LOOK, agency=hac_thanh()
    )


def _token(scene: Scene) -> dict[str, object]:
    return {"token_id": scene.applicant_token.pk}


def _revoked_by_the_owner_only(scene: Scene, answers: object) -> None:
    revocations = AuditEntry.objects.filter(action="api_token.revoked")
    assert [(e.actor_id, e.object_id) for e in revocations] == [
        (scene.applicant.pk, str(scene.applicant_token.pk))
    ]


ROUTES = [
    Route("GET", "dang-nhap/", name="sign-in", limited=EVERYONE),
    Route("POST", "dang-nhap/", name="a wrong password", limited=EVERYONE, ok=(400,),
          data=lambda s, a: {"username": f"khong-co.{a}", "password": "sai"}),
    # No sign-in waiting for its second factor: back to the first step.
    Route("GET", "dang-nhap/ma-xac-thuc/", limited=EVERYONE, ok=(302,)),
    Route("GET", "dang-nhap/dinh-danh-dien-tu/", name="the demo e-ID, in the demo",
          limited=EVERYONE, settings={"TINHSO_DEMO": True}),
    Route("GET", "dang-nhap/dinh-danh-dien-tu/", name="no demo e-ID outside the demo",
          settings={"TINHSO_DEMO": False}),
    # Without an identity provider configured, its addresses do not exist (test_eid.py
    # signs in through one).
    Route("GET", "dang-nhap/oidc/", name="no provider configured"),
    Route("GET", "dang-nhap/oidc/callback/", name="no provider configured"),
    Route("POST", "dang-xuat/", name="sign out", limited=EVERYONE, ok=(302,)),
    Route("GET", "tai-khoan/", name="my account", full={"applicant"}, limited=OTHERS),
    # Officials enrol a second factor for themselves; citizens sign in with the e-ID.
    Route("GET", "tai-khoan/xac-thuc-hai-buoc/", name="TOTP enrolment", limited=OFFICIALS),
    Route("POST", "tai-khoan/ma-truy-cap/", name="a new API token", limited=SIGNED_IN,
          data={"name": "Kịch bản", "days": 30}),
    # Anyone may ask; only the owner's request revokes it (the others are told they have
    # no such token).
    Route("POST", "tai-khoan/ma-truy-cap/<int:token_id>/thu-hoi/", name="revoking a token",
          args=_token, full={"applicant"}, limited=OTHERS, ok=(302,),
          check=_revoked_by_the_owner_only),
    Route("POST", "/api/v1/auth/token", limited=EVERYONE, ok=(201,), body="json",
          data={"username": "tiepnhan", "password": "demo", "name": "ma trận"}),
    Route("GET", "/api/v1/auth/tokens", limited=SIGNED_IN),
    Route("DELETE", "/api/v1/auth/tokens/{token_id}", args=_token, full={"applicant"},
          ok=(204,), check=_revoked_by_the_owner_only),
    Route("GET", "/api/v1/me", full={"applicant"}, limited=OTHERS),
    Route("GET", "/api/v1/me/data-access", full={"applicant"}, limited=OTHERS,
          before=_looked_at, markers=lambda s: [*PERSONAL_MARKERS, LOOK]),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
