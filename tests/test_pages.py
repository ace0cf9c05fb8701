"""Pages a visitor meets: Vietnamese by default, English on request (the health check is in
test_worker.py)."""

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_is_vietnamese_and_accessible(client: Client) -> None:
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="vi">' in html
    assert 'class="skip-link" href="#main"' in html
    assert 'id="main"' in html
    assert "Dịch vụ công của tỉnh" in html
    assert "166" in html


def test_language_switch_to_english_works_without_javascript(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/co-quan/"})
    assert response.status_code == 302
    assert response["Location"] == "/co-quan/"
    html = client.get("/co-quan/").content.decode()
    assert '<html lang="en">' in html
    assert "Agency directory" in html


def test_every_core_page_answers(client: Client, login_client: Any, citizen: Any) -> None:
    for url in ["/", "/co-quan/", "/co-quan/000.00.00.H56/", "/dang-nhap/", "/api/v1/docs"]:
        assert client.get(url).status_code == 200, url
    assert login_client(citizen).get("/tai-khoan/").status_code == 200


def test_settings_refuse_to_start_without_a_secret_key(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG"}
    }
    env["TINHSO_DATA_DIR"] = str(tmp_path)  # no key kept there either
    result = subprocess.run(
        [sys.executable, "-c", "import tinhso.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
