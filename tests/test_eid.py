"""Electronic identity: the demo registry with one-time codes, and the OpenID Connect
relying party (authorization code + PKCE) against a provider simulated in the test with
real RSA keys and signed ID tokens."""

import base64
import hashlib
import re
import time
import urllib.parse
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client, RequestFactory
from django.utils import timezone

from tinhso.accounts.eid import IdentityError, OidcProvider, OidcSettings
from tinhso.accounts.models import SignInCode, User

pytestmark = pytest.mark.django_db

EID = "/dang-nhap/dinh-danh-dien-tu/"


def _request_code(client: Client, personal_id: str) -> Any:
    return client.post(EID, {"personal_id": personal_id, "step": "id"}, HTTP_ACCEPT_LANGUAGE="vi")


def _shown_code(response: Any) -> str:
    match = re.search(r'id="demo-code">(\d{6})<', response.content.decode())
    assert match, "the demo shows the one-time code"
    return match.group(1)


def test_a_citizen_signs_in_with_the_demo_eid_and_the_profile_comes_from_the_registry(
    client: Client,
) -> None:
    code = _shown_code(_request_code(client, "038190000006"))  # in the registry, no account yet
    assert not User.objects.filter(username="038190000006").exists()
    response = client.post(EID, {"personal_id": "038190000006", "step": "code", "code": code})
    assert response.status_code == 302
    user = User.objects.get(username="038190000006")
    assert (user.full_name, user.sex, str(user.date_of_birth)) == (
        "Nguyễn Thị Bình",
        "female",
        "1990-05-12",
    )
    assert user.kind == "citizen"
    assert not user.has_usable_password()
    # The code works once only.
    again = Client().post(EID, {"personal_id": "038190000006", "step": "code", "code": code})
    assert again.status_code == 400


def test_wrong_codes_expired_codes_and_unknown_people(client: Client) -> None:
    code = _shown_code(_request_code(client, "038090000002"))
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(
        EID,
        {"personal_id": "038090000002", "step": "code", "code": wrong},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert bad.status_code == 400
    assert "Mã không đúng" in bad.content.decode()
    SignInCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.post(
        EID,
        {"personal_id": "038090000002", "step": "code", "code": code},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert expired.status_code == 400
    assert "hết hạn" in expired.content.decode()
    unknown = _request_code(client, "038090999999")
    assert unknown.status_code == 400
    assert "không có trong cơ sở dữ liệu" in unknown.content.decode()
    malformed = _request_code(client, "12345")
    assert malformed.status_code == 400
    assert "12 chữ số" in malformed.content.decode()


def test_five_wrong_codes_burn_the_code(client: Client) -> None:
    code = _shown_code(_request_code(client, "038090000003"))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(EID, {"personal_id": "038090000003", "step": "code", "code": wrong})
    final = client.post(EID, {"personal_id": "038090000003", "step": "code", "code": code})
    assert final.status_code == 400


# --- OpenID Connect ------------------------------------------------------------------------------

ISSUER = "https://id.example.vn"
CLIENT_ID = "tinhso-thanhhoa"


class FakeProvider:
    """An OpenID provider: discovery, JWKS, token endpoint that checks PKCE."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, str]] = {}
        self.claims: dict[str, Any] = {}

    def get_json(self, url: str) -> dict[str, Any]:
        if url == ISSUER + "/.well-known/openid-configuration":
            return {
                "issuer": ISSUER,
                "authorization_endpoint": ISSUER + "/authorize",
                "token_endpoint": ISSUER + "/token",
                "jwks_uri": ISSUER + "/jwks",
            }
        if url == ISSUER + "/jwks":
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        raise AssertionError(url)

    def authorize(self, url: str) -> str:
        """What the provider's login page does: remember the challenge, hand back a code."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert query["code_challenge_method"] == "S256"
        code = "code-" + query["state"][:8]
        self.codes[code] = query
        return f"?code={code}&state={query['state']}"

    def post_form(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        assert url == ISSUER + "/token"
        asked = self.codes.pop(form["code"])
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        assert challenge == asked["code_challenge"], "PKCE verifier does not match"
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "abc",
            "iat": now,
            "exp": now + 300,
            "nonce": asked["nonce"],
            **self.claims,
        }
        return {"id_token": jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})}


@pytest.fixture
def provider() -> FakeProvider:
    fake = FakeProvider()
    fake.claims = {
        "personal_id": "038185000007",
        "name": "Lê Thị Cúc",
        "birthdate": "1985-08-08",
        "gender": "female",
        "address": {"formatted": "Thôn Đông, xã Hoằng Hóa, tỉnh Thanh Hóa"},
    }
    return fake


def _rp(fake: FakeProvider) -> OidcProvider:
    config = OidcSettings(ISSUER, CLIENT_ID, "secret", "openid profile", "personal_id", "VNeID")
    return OidcProvider(config, http_get_json=fake.get_json, http_post_form=fake.post_form)


def _callback(fake: FakeProvider, rp: OidcProvider, *, tamper: str = "") -> Any:
    factory = RequestFactory()
    start = factory.get("/dang-nhap/oidc/")
    start.session = {}  # type: ignore[attr-defined]
    url = rp.authorization_url(start, redirect_uri="https://portal/cb", next_url="/tai-khoan/")
    answer = fake.authorize(url)
    if tamper == "state":
        answer = answer.replace("state=", "state=x")
    callback = factory.get("/dang-nhap/oidc/callback/" + answer)
    callback.session = start.session  # type: ignore[attr-defined]
    return rp.complete(callback)


def test_oidc_code_flow_with_pkce_gives_the_profile(provider: FakeProvider) -> None:
    profile, next_url = _callback(provider, _rp(provider))
    assert profile.personal_id == "038185000007"
    assert (profile.full_name, profile.sex, str(profile.date_of_birth)) == (
        "Lê Thị Cúc",
        "female",
        "1985-08-08",
    )
    assert profile.permanent_address.startswith("Thôn Đông")
    assert next_url == "/tai-khoan/"


def test_oidc_refuses_a_forged_state_a_foreign_key_and_a_wrong_audience(
    provider: FakeProvider,
) -> None:
    with pytest.raises(IdentityError):
        _callback(provider, _rp(provider), tamper="state")
    other = FakeProvider()
    other.claims = provider.claims
    forged = _rp(provider)
    forged._post = other.post_form  # tokens signed by a key the provider never published
    other.codes = provider.codes
    with pytest.raises(IdentityError):
        _callback(provider, forged)
    provider.claims = {**provider.claims, "aud": "someone-else"}
    with pytest.raises(IdentityError):
        _callback(provider, _rp(provider))


def test_oidc_sign_in_through_the_views(
    client: Client, provider: FakeProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TINHSO_OIDC_ISSUER, settings.TINHSO_OIDC_CLIENT_ID = ISSUER, CLIENT_ID
    import tinhso.accounts.eid as eid

    monkeypatch.setattr(eid, "_http_get_json", provider.get_json)
    monkeypatch.setattr(eid, "_http_post_form", provider.post_form)
    assert "VNeID" in client.get("/dang-nhap/").content.decode()
    start = client.get("/dang-nhap/oidc/")
    assert start.status_code == 302
    assert start["Location"].startswith(ISSUER + "/authorize?")
    back = client.get("/dang-nhap/oidc/callback/" + provider.authorize(start["Location"]))
    assert back.status_code == 302
    assert User.objects.get(username="038185000007").full_name == "Lê Thị Cúc"
