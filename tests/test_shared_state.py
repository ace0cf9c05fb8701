"""What several app servers share (ADR 0027): the settings that make the replica alias and
the cache, a cached value seen by another process (the database cache, Redis), and /healthz
telling when another server signs with another SECRET_KEY."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client

import tinhso
from tinhso.core.replica import REPLICA

SETTINGS_FILE = Path(tinhso.__file__).with_name("settings.py")


# --- settings ---------------------------------------------------------------------------------


def _settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URL", "TINHSO_CACHE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECRET_KEY", "x")
    return runpy.run_path(str(SETTINGS_FILE))


def test_the_replica_alias_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _settings_with(
        monkeypatch,
        DATABASE_URL="postgres://tinhso@db1:5432/tinhso",
        DATABASE_REPLICA_URL="postgres://tinhso@db2:5433/tinhso",
    )
    replica = loaded["DATABASES"][REPLICA]
    assert (replica["HOST"], replica["PORT"]) == ("db2", 5433)
    assert replica["TEST"] == {"MIRROR": "default"}
    assert loaded["DATABASE_ROUTERS"] == ["tinhso.core.replica.ReplicaRouter"]
    assert REPLICA not in _settings_with(monkeypatch)["DATABASES"]


def test_a_replica_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL"):
        _settings_with(monkeypatch, DATABASE_REPLICA_URL="postgres://tinhso@db2/tinhso")


def test_the_cache_is_shared_by_every_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    default = _settings_with(monkeypatch)["CACHES"]["default"]
    assert default["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    redis = _settings_with(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/3")["CACHES"]["default"]
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["LOCATION"] == "redis://127.0.0.1:6379/3"
    chosen = _settings_with(
        monkeypatch, REDIS_URL="redis://a:6379/0", TINHSO_CACHE_URL="redis://b:6379/1"
    )
    assert chosen["CACHES"]["default"]["LOCATION"] == "redis://b:6379/1"
    with pytest.raises(ImproperlyConfigured, match="TINHSO_CACHE_URL"):
        _settings_with(monkeypatch, TINHSO_CACHE_URL="memcached://x")


@pytest.mark.django_db(transaction=True)
def test_a_value_cached_by_one_process_is_read_by_another() -> None:
    """The default cache (the database table) as two servers see it: this process writes,
    another process, started apart, reads."""
    from django.core.cache import cache

    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        url = (
            f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    cache.set("several-servers", "seen elsewhere", 60)
    other = subprocess.run(
        [sys.executable, "-m", "tinhso", "shell", "-c",
         "from django.core.cache import cache; print(cache.get('several-servers'))"],
        env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x", "DEBUG": "0"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().splitlines()[-1] == "seen elsewhere"


# --- one secret key -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_says_when_another_server_has_another_secret_key(
    client: Client, settings: Any
) -> None:
    from django.core.cache import cache

    from tinhso.core.cluster import FINGERPRINT_KEY, secret_key_fingerprint

    assert "secret_key_differs" not in client.get("/healthz").json()["problems"]
    assert cache.get(FINGERPRINT_KEY) == secret_key_fingerprint()
    # A server started with a key of its own (no SECRET_KEY_FILE shared) answers next.
    settings.SECRET_KEY = "another-server-made-its-own"
    body = client.get("/healthz").json()
    assert "secret_key_differs" in body["problems"]
    assert body["status"] == "degraded"
    # The fingerprint tells nothing of the key and expires (a rotation on every server).
    assert settings.SECRET_KEY not in str(body)
    cache.delete(FINGERPRINT_KEY)
    assert "secret_key_differs" not in client.get("/healthz").json()["problems"]


def test_a_value_cached_in_redis_is_read_by_another_process() -> None:
    """With TINHSO_CACHE_URL=redis://…, every server's cache is that Redis (when one answers
    on this machine)."""
    import socket
    import uuid

    from django.core.cache.backends.redis import RedisCache

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    url, prefix = "redis://127.0.0.1:6379/15", f"tinhso-test-{uuid.uuid4().hex[:8]}"
    mine = RedisCache(url, {"KEY_PREFIX": prefix})
    mine.set("several-servers", "seen in redis", 60)
    try:
        other = subprocess.run(
            [sys.executable, "-m", "tinhso", "shell", "-c",
             "from django.core.cache import cache; print(cache.get('several-servers'))"],
            env={**os.environ, "TINHSO_CACHE_URL": url, "TINHSO_CACHE_PREFIX": prefix,
                 "SECRET_KEY": "x", "DEBUG": "0"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        mine.delete("several-servers")
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().splitlines()[-1] == "seen in redis"
