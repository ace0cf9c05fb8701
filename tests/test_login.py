"""Sign-in on the web and the API: passwords, lock-out, second factor."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tinhso.accounts import totp
from tinhso.accounts.models import SignInGuard, TotpDevice
from tinhso.accounts.services import totp_enrol_confirm, totp_enrol_start
from tinhso.core.models import AuditEntry

pytestmark = pytest.mark.django_db

LOGIN = "/dang-nhap/"


def _post_login(client: Client, username: str, password: str) -> Any:
    return client.post(
        LOGIN, {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="vi"
    )


def test_passwords_are_hashed_with_argon2_by_default() -> None:
    from django.contrib.auth.hashers import make_password

    import tinhso.settings as configured

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=configured.PASSWORD_HASHERS):
        assert make_password("demo").startswith("argon2$argon2id$")


def test_a_citizen_signs_in_with_the_personal_id(client: Client) -> None:
    response = _post_login(client, "038090000001", "demo")
    assert response.status_code == 302
    assert response["Location"] == "/tai-khoan/"
    assert "Nguyễn Văn An" in client.get("/tai-khoan/").content.decode()


def test_a_wrong_password_is_refused_with_a_clear_message(client: Client) -> None:
    response = _post_login(client, "chuyenvien", "wrong")
    assert response.status_code == 400
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_password_storm_locks_the_account_even_for_the_right_password(client: Client) -> None:
    limit = settings.TINHSO_LOGIN_MAX_FAILURES
    statuses = [_post_login(client, "lanhdao", f"guess{i}").status_code for i in range(limit)]
    assert statuses == [400] * (limit - 1) + [429]
    locked = _post_login(client, "lanhdao", "demo")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "tạm khóa" in locked.content.decode()
    # The API answers the same for the same name.
    api = client.post(
        "/api/v1/auth/token",
        {"username": "lanhdao", "password": "demo"},
        content_type="application/json",
    )
    assert api.status_code == 429
    assert api.json()["code"] == "locked"
    # Once the lock has run out, the right password works again.
    SignInGuard.objects.filter(scope="password", key="lanhdao@127.0.0.1").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert _post_login(client, "lanhdao", "demo").status_code == 302


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(client: Client) -> None:
    limit = settings.TINHSO_LOGIN_MAX_FAILURES
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [_post_login(guesser, "lanhdao", f"guess{i}").status_code for i in range(limit)]
    assert statuses[-1] == 429
    assert _post_login(guesser, "lanhdao", "demo").status_code == 429  # locked for them
    assert _post_login(client, "lanhdao", "demo").status_code == 302  # not for the owner
    assert AuditEntry.objects.filter(action="account.locked").exists()


def test_guesses_spread_over_many_addresses_lock_the_name_for_everyone(
    client: Client, settings: Any
) -> None:
    settings.TINHSO_LOGIN_MAX_FAILURES_PER_NAME = 6
    for n in range(3):  # two guesses from each of three addresses: under each one's limit
        guesser = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        for i in range(2):
            _post_login(guesser, "lanhdao", f"guess{n}{i}")
    locked = _post_login(client, "lanhdao", "demo")
    assert locked.status_code == 429
    assert "tạm khóa" in locked.content.decode()
    assert AuditEntry.objects.filter(action="account.locked_everywhere").count() == 1


def test_unknown_names_lock_the_same_way_so_they_reveal_nothing(client: Client) -> None:
    limit = settings.TINHSO_LOGIN_MAX_FAILURES
    statuses = [_post_login(client, "khong-ton-tai", "x").status_code for _ in range(limit)]
    assert statuses[-1] == 429


def test_an_empty_form_gets_field_errors(client: Client) -> None:
    response = client.post(LOGIN, {}, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "Trường này là bắt buộc" in html


def test_sign_in_only_redirects_to_this_site(client: Client) -> None:
    response = client.post(
        LOGIN + "?next=https://evil.example/", {"username": "chuyenvien", "password": "demo"}
    )
    assert response["Location"] == "/tai-khoan/"


def _enrol(user: Any) -> str:
    device = totp_enrol_start(user=user)
    totp_enrol_confirm(user=user, code=totp.code_at(device.secret, totp.current_step()))
    return device.secret


def _fresh_code(user: Any, secret: str) -> str:
    used = TotpDevice.objects.get(user=user).last_used_step
    return totp.code_at(secret, used + 1)


def test_totp_matches_the_rfc_6238_vectors() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # ASCII "12345678901234567890"
    assert totp.code_at(secret, 59 // 30) == "287082"
    assert totp.code_at(secret, 1111111109 // 30) == "081804"
    assert totp.code_at(secret, 2000000000 // 30) == "279037"


def test_once_enrolled_an_official_cannot_sign_in_without_the_code(
    client: Client, specialist: Any
) -> None:
    secret = _enrol(specialist)
    response = _post_login(client, "chuyenvien", "demo")
    assert response.status_code == 302
    assert response["Location"] == "/dang-nhap/ma-xac-thuc/"
    assert "_auth_user_id" not in client.session
    assert client.get("/tai-khoan/").status_code == 302  # still anonymous
    wrong = client.post("/dang-nhap/ma-xac-thuc/", {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert wrong.status_code == 400
    code = _fresh_code(specialist, secret)
    assert client.post("/dang-nhap/ma-xac-thuc/", {"code": code}).status_code == 302
    assert client.get("/tai-khoan/").status_code == 200
    # The same code cannot be replayed in another sign-in.
    other = Client()
    _post_login(other, "chuyenvien", "demo")
    assert other.post("/dang-nhap/ma-xac-thuc/", {"code": code}).status_code == 400


def test_the_token_endpoint_needs_the_code_too(client: Client, specialist: Any) -> None:
    secret = _enrol(specialist)
    body = {"username": "chuyenvien", "password": "demo"}
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "otp_required"
    body["otp"] = _fresh_code(specialist, secret)
    assert (
        client.post("/api/v1/auth/token", body, content_type="application/json").status_code == 201
    )


def test_enrolment_page_shows_a_qr_code_and_confirms(login_client: Any, specialist: Any) -> None:
    client = login_client(specialist)
    page = client.get("/tai-khoan/xac-thuc-hai-buoc/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TotpDevice.objects.get(user=specialist)
    bad = client.post("/tai-khoan/xac-thuc-hai-buoc/", {"code": "123456"})
    assert bad.status_code == 400
    good = client.post(
        "/tai-khoan/xac-thuc-hai-buoc/", {"code": totp.code_at(device.secret, totp.current_step())}
    )
    assert good.status_code == 302
    assert TotpDevice.objects.get(user=specialist).confirmed_at is not None


def test_citizens_do_not_enrol_here(login_client: Any, citizen: Any) -> None:
    assert login_client(citizen).get("/tai-khoan/xac-thuc-hai-buoc/").status_code == 403


def test_sign_out_is_a_post(login_client: Any, citizen: Any) -> None:
    client = login_client(citizen)
    opened = client.get("/dang-xuat/")
    assert opened.status_code == 405
    assert opened["Allow"] == "POST"
    # Opened from a bookmark: a page in the user's language with its way back, not a blank.
    page = opened.content.decode()
    assert '<html lang="vi"' in page
    assert "Địa chỉ này là một thao tác" in page
    assert 'href="/"' in page
    english = client.get("/dang-xuat/", headers={"Accept-Language": "en"})
    assert "This address is an action, not a page" in english.content.decode()
    assert "_auth_user_id" in client.session  # still signed in
    assert client.post("/dang-xuat/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_apis_405_is_an_error_in_the_apis_shape(client: Client) -> None:
    answer = client.delete("/api/v1/procedures")
    assert answer.status_code == 405
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "method_not_allowed"
    assert "DELETE" in answer.json()["detail"]
    assert "GET" in answer["Allow"]


def test_the_admin_signs_in_through_the_same_door(client: Client) -> None:
    response = client.get("/quan-tri/login/?next=/quan-tri/")
    assert response.status_code == 302
    assert response["Location"].startswith("/dang-nhap/?next=")
    limit = settings.TINHSO_LOGIN_MAX_FAILURES
    for i in range(limit):
        _post_login(client, "admin", f"guess{i}")
    assert _post_login(client, "admin", "demo").status_code == 429


def test_the_province_admin_reaches_the_admin(client: Client) -> None:
    assert _post_login(client, "admin", "demo").status_code == 302
    assert client.get("/quan-tri/").status_code == 200
    assert client.get("/quan-tri/agencies/agency/").status_code == 200


def test_a_right_password_waiting_for_its_second_factor_is_not_a_failure(
    client: Client, specialist: Any
) -> None:
    _enrol(specialist)
    for _ in range(settings.TINHSO_LOGIN_MAX_FAILURES + 1):
        response = _post_login(Client(), "chuyenvien", "demo")
        assert response.status_code == 302
        assert response["Location"] == "/dang-nhap/ma-xac-thuc/"
    assert not SignInGuard.objects.filter(
        key__startswith="chuyenvien", locked_until__isnull=False
    ).exists()


def test_the_client_address_comes_from_a_trusted_proxy_only(rf: Any, settings: Any) -> None:
    from tinhso.accounts.services import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.10", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "10.0.0.10"  # no proxy trusted: the header is ignored
    settings.TINHSO_TRUSTED_PROXIES = ["10.0.0.10"]
    # The proxy appended the address it saw; what the client wrote before it is not trusted.
    assert client_ip(request) == "203.0.113.7"
    direct = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(direct) == "198.51.100.4"
