"""Production settings: DEPLOY.md's environment passes `check --deploy` with no warning,
the demo is refused next to HTTPS or a real identity provider, the `tinhso` command finds
the key `make run` keeps, and every response carries a strict Content-Security-Policy."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
TINHSO = Path(sys.executable).parent / "tinhso"
TEMPLATES = ROOT / "src" / "tinhso" / "templates"


def _clean_environment(data_dir: Path) -> dict[str, str]:
    """A bare environment: none of the project's settings nor of this test process's
    (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which `check --deploy` rejects)."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env["TINHSO_DATA_DIR"] = str(data_dir)
    return env


def _documented_environment(tmp_path: Path) -> dict[str, str]:
    """The production environment as DEPLOY.md gives it, with its secret files made."""
    text = (ROOT / "DEPLOY.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- production-environment.*?-->\n```sh\n(.*?)```", text, re.S)
    assert block, "DEPLOY.md documents the production environment"
    documented = dict(
        line.split("=", 1)
        for line in block.group(1).splitlines()
        if line.strip() and not line.startswith("#")
    )
    env = _clean_environment(tmp_path / "data")
    env.update(documented)
    env["TINHSO_DATA_DIR"] = str(tmp_path / "data")  # the shared folder, here a temporary one
    for name in [k for k in documented if k.endswith("_FILE")]:
        secret = tmp_path / name.lower()
        secret.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        env[name] = str(secret)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, capture_output=True, text=True, check=False, cwd=ROOT, timeout=300
    )


def test_the_documented_production_environment_passes_check_deploy(tmp_path: Path) -> None:
    env = _documented_environment(tmp_path)
    assert env["TINHSO_HTTPS"] == "1"
    assert env["TINHSO_DEMO"] == "0"
    result = _run([str(TINHSO), "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_https_redirects_sets_hsts_and_secure_cookies(tmp_path: Path) -> None:
    """Behind the proxy: plain HTTP is sent to https://, answers carry HSTS, cookies are
    Secure, and health probes are not redirected."""
    env = _documented_environment(tmp_path)
    env.pop("DATABASE_URL")  # an empty SQLite database is enough here
    env["DJANGO_SETTINGS_MODULE"] = "tinhso.settings"
    script = """
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(SERVER_NAME="dichvucong.example.vn")
plain = client.get("/api/v1/openapi.json")
print("plain", plain.status_code, plain["Location"])
tls = client.get("/api/v1/openapi.json", HTTP_X_FORWARDED_PROTO="https")
print("tls", tls.status_code, tls["Strict-Transport-Security"])
print("cookies", settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)
print("healthz", client.get("/healthz").status_code)
"""
    result = _run([sys.executable, "-c", script], env)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["plain"] == "301 https://dichvucong.example.vn/api/v1/openapi.json"
    assert lines["tls"] == "200 max-age=31536000; includeSubDomains; preload"
    assert lines["cookies"] == "True True"
    # Probes talk plain HTTP to each app server: /healthz answers them, never redirects
    # (503 here: the empty database has no tables for the worker's heartbeat).
    assert lines["healthz"] in ("200", "503")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {
                "TINHSO_HTTPS": "1",
                "TINHSO_PUBLIC_URL": "https://x.example.vn",
                "TINHSO_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
            },
            "TINHSO_HTTPS",
        ),
        ({"TINHSO_OIDC_ISSUER": "https://id.example.vn"}, "TINHSO_OIDC_ISSUER"),
    ],
)
def test_the_demo_is_refused_in_production_and_next_to_a_real_provider(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    env = _clean_environment(tmp_path)
    env.update({"SECRET_KEY": secrets.token_urlsafe(50), "TINHSO_DEMO": "1", **extra})
    refused = _run([str(TINHSO), "check"], env)
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "TINHSO_DEMO is on" in refused.stderr
    assert message in refused.stderr
    env["TINHSO_DEMO"] = "0"
    assert _run([str(TINHSO), "check"], env).returncode == 0


def test_production_refuses_to_start_without_the_key_encryption_key(tmp_path: Path) -> None:
    """The signing keys in the database are sealed with TINHSO_KEY_ENCRYPTION_KEY: in
    production it must come from the environment, never from SECRET_KEY."""
    env = _documented_environment(tmp_path)
    env.pop("TINHSO_KEY_ENCRYPTION_KEY_FILE")
    refused = _run([str(TINHSO), "check"], env)
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "TINHSO_KEY_ENCRYPTION_KEY" in refused.stderr
    env["TINHSO_KEY_ENCRYPTION_KEY"] = "too-short"
    assert "shorter than 32" in _run([str(TINHSO), "check"], env).stderr


def test_replaced_variables_are_named_rather_than_ignored(tmp_path: Path) -> None:
    env = _clean_environment(tmp_path)
    env.update({"SECRET_KEY": secrets.token_urlsafe(50), "TINHSO_SIMULATED_BANK": "1"})
    result = _run([str(TINHSO), "check"], env)
    assert result.returncode != 0
    assert "TINHSO_SIMULATED_BANK was replaced by TINHSO_DEMO=1" in result.stderr
    env.pop("TINHSO_SIMULATED_BANK")
    env["SECURE_COOKIES"] = "1"
    assert "replaced by TINHSO_HTTPS=1" in _run([str(TINHSO), "check"], env).stderr


def test_the_tinhso_command_finds_the_key_make_run_keeps(tmp_path: Path) -> None:
    """After `make run`, `tinhso <command>` works in a new shell with no SECRET_KEY set:
    it reads <TINHSO_DATA_DIR>/secret_key."""
    env = _clean_environment(tmp_path)
    without = _run([str(TINHSO), "check"], env)
    assert without.returncode != 0
    assert "SECRET_KEY must be set" in without.stderr
    key = secrets.token_urlsafe(50)
    (tmp_path / "secret_key").write_text(key + "\n", encoding="utf-8")
    result = _run([str(TINHSO), "check"], env)
    assert result.returncode == 0, result.stderr
    show_key = [str(TINHSO), "shell", "--no-imports", "-c",
                "from django.conf import settings; print(settings.SECRET_KEY)"]  # fmt: skip
    assert _run(show_key, env).stdout.strip() == key
    # An explicit SECRET_KEY still wins over the file.
    env["SECRET_KEY"] = "from-the-environment-" + key
    assert _run(show_key, env).stdout.strip() == env["SECRET_KEY"]


# --- Content-Security-Policy -----------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_the_strict_policy(client: Client, settings: Any) -> None:
    settings.TINHSO_DEMO = True
    for url in ["/", "/dang-nhap/dinh-danh-dien-tu/", "/api/v1/agencies", "/api/v1/docs",
                "/api/v1/openapi.json", "/khong-co-trang-nay/", "/healthz"]:  # fmt: skip
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["object-src"] == "'none'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert "unsafe" not in policy, url


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    """What the policy would block: a <script> without src, a <style> element, a style=
    attribute, an on…= handler or a javascript: URL."""
    problems = []
    patterns = {
        "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
        "style element": re.compile(r"<style\b", re.I),
        "style attribute": re.compile(r"\sstyle\s*=", re.I),
        "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
        "javascript: URL": re.compile(r"javascript:", re.I),
    }
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for what, pattern in patterns.items():
            if pattern.search(text):
                problems.append(f"{template.relative_to(TEMPLATES)}: {what}")
    assert problems == []


def test_the_data_folder_it_makes_is_its_owners_only(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    env = _clean_environment(data) | {"DEBUG": "1"}
    result = _run([str(TINHSO), "check"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert data.stat().st_mode & 0o777 == 0o700  # the database, files and keys inside
