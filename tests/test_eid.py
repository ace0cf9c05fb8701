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
KNOWN, UNKNOWN = "038090000002", "038090999999"  # both well-formed; only one in the registry


@pytest.fixture(autouse=True)
def _demo(settings: Any) -> None:
    settings.TINHSO_DEMO = True


def _request_code(client: Client, personal_id: str, address: str = "127.0.0.1") -> Any:
    return client.post(
        EID,
        {"personal_id": personal_id, "step": "id"},
        HTTP_ACCEPT_LANGUAGE="vi",
        REMOTE_ADDR=address,
    )


def _send_code(client: Client, personal_id: str, code: str) -> Any:
    return client.post(
        EID, {"personal_id": personal_id, "step": "code", "code": code}, HTTP_ACCEPT_LANGUAGE="vi"
    )


def _shown_code(response: Any) -> str:
    match = re.search(r'id="demo-code">(\d{6})<', response.content.decode())
    assert match, "the demo shows the one-time code"
    return match.group(1)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _page_without(response: Any, *variable: str) -> str:
    """The page with what may differ between two answers (the ID, the code, the CSRF
    token) blanked out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    for text in variable:
        html = html.replace(text, "…")
    return html


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


def test_wrong_codes_expired_codes_and_malformed_numbers(client: Client) -> None:
    code = _shown_code(_request_code(client, KNOWN))
    bad = _send_code(client, KNOWN, _wrong(code))
    assert bad.status_code == 400
    assert "Mã không đúng" in bad.content.decode()
    SignInCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _send_code(client, KNOWN, code)
    assert expired.status_code == 400
    assert "hết hạn" in expired.content.decode()
    malformed = _request_code(client, "12345")
    assert malformed.status_code == 400
    assert "12 chữ số" in malformed.content.decode()


def test_an_unknown_number_gets_the_same_answer_but_never_signs_in(client: Client) -> None:
    """Nobody learns from the answers whether a number is in the registry: the same page,
    status and message, a code shown for both; the unknown one's code is simply wrong."""
    known, unknown = _request_code(client, KNOWN), _request_code(client, UNKNOWN)
    assert known.status_code == unknown.status_code == 200
    known_code, unknown_code = _shown_code(known), _shown_code(unknown)
    assert _page_without(known, KNOWN, known_code) == _page_without(unknown, UNKNOWN, unknown_code)
    wrong_known = _send_code(client, KNOWN, _wrong(known_code))
    shown_unknown = _send_code(client, UNKNOWN, unknown_code)
    assert wrong_known.status_code == shown_unknown.status_code == 400
    assert "Mã không đúng" in shown_unknown.content.decode()
    assert _page_without(wrong_known, KNOWN) == _page_without(shown_unknown, UNKNOWN)
    assert not User.objects.filter(personal_id=UNKNOWN).exists()
    assert "_auth_user_id" not in client.session


def test_wrong_codes_lock_the_number_even_for_the_right_code(client: Client, settings: Any) -> None:
    """New codes do not reset the count: the limit of wrong codes per number and hour
    locks it, with 429, Retry-After and a clear message, known number or not."""
    limit = settings.TINHSO_EID_MAX_WRONG_CODES
    for personal_id in (KNOWN, UNKNOWN):
        statuses = []
        for _ in range(limit):
            code = _shown_code(_request_code(client, personal_id))  # a fresh code each time
            statuses.append(_send_code(client, personal_id, _wrong(code)).status_code)
        assert statuses == [400] * (limit - 1) + [429]
        locked = _send_code(client, personal_id, code)
        assert locked.status_code == 429
        assert 0 < int(locked["Retry-After"]) <= 15 * 60
        assert "Nhập sai mã quá nhiều lần" in locked.content.decode()
        again = _request_code(client, personal_id)
        assert again.status_code == 429
        assert "demo-code" not in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_runs_out_and_then_the_right_code_works(client: Client, settings: Any) -> None:
    from tinhso.accounts.models import SignInGuard

    code = _shown_code(_request_code(client, KNOWN))
    for _ in range(settings.TINHSO_EID_MAX_WRONG_CODES):
        _send_code(client, KNOWN, _wrong(code))
    assert _request_code(client, KNOWN).status_code == 429
    SignInGuard.objects.filter(scope="eid_wrong_code", key=KNOWN).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    code = _shown_code(_request_code(client, KNOWN))
    assert _send_code(client, KNOWN, code).status_code == 302


def test_codes_are_limited_per_number_and_hour(client: Client, settings: Any) -> None:
    limit = settings.TINHSO_EID_CODES_PER_ID_HOUR
    for personal_id in (KNOWN, UNKNOWN):
        answers = [_request_code(client, personal_id) for _ in range(limit + 1)]
        assert [a.status_code for a in answers] == [200] * limit + [429]
        refused = answers[-1]
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert "Đã yêu cầu quá nhiều mã cho số định danh này" in refused.content.decode()
    # Another number from the same address is not affected.
    assert _request_code(client, "038185000007").status_code == 200


def test_codes_are_limited_per_client_address_and_hour(client: Client, settings: Any) -> None:
    settings.TINHSO_EID_CODES_PER_ADDRESS_HOUR = 3
    numbers = ["038190000006", "038185000007", "038075000008", "038198000009"]
    statuses = [_request_code(client, n, "203.0.113.9").status_code for n in numbers]
    assert statuses == [200, 200, 200, 429]
    refused = _request_code(client, numbers[0], "203.0.113.9")
    assert "Đã yêu cầu quá nhiều mã từ mạng của bạn" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert _request_code(client, numbers[3], "198.51.100.20").status_code == 200


def test_five_wrong_codes_burn_the_code(client: Client) -> None:
    code = _shown_code(_request_code(client, "038090000003"))
    for _ in range(5):
        _send_code(client, "038090000003", _wrong(code))
    final = _send_code(client, "038090000003", code)
    assert final.status_code in {400, 429}
    assert "_auth_user_id" not in client.session


def test_without_the_demo_setting_the_demo_eid_does_not_exist(
    client: Client, settings: Any
) -> None:
    from tinhso.accounts.eid import identity_providers

    settings.TINHSO_DEMO = False
    assert client.get(EID).status_code == 404
    assert _request_code(client, KNOWN).status_code == 404
    login = client.get("/dang-nhap/").content.decode()
    assert EID not in login
    assert 'id="demo-banner"' not in login
    assert [p.slug for p in identity_providers()] == []
    settings.TINHSO_DEMO = True
    login = client.get("/dang-nhap/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert EID in login
    assert 'id="demo-banner"' in login
    assert "Bản trình diễn" in login
    assert [p.slug for p in identity_providers()] == ["demo"]


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
    settings.TINHSO_DEMO = False  # never next to a real provider
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
