"""A server's kept PostgreSQL connection is checked before each request without a round
trip (tinhso.core.postgresql): a sound idle one is used as it is, one the server has ended
(a restart, a failover, an administrator) is replaced, and the request still answers.

Requests go through Django's WSGI handler as gunicorn calls it: the test client leaves out
the request's start, where the check is armed."""

from __future__ import annotations

import io
import select
import sys
import time
from typing import Any

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections

from tinhso.core.postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL backend"),
    pytest.mark.django_db(transaction=True),
]


def _get(path: str) -> int:
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip
    response = WSGIHandler()(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        b"".join(response)
    finally:
        response.close()
    return int(status[0][:3])


def _backend_pid() -> int:
    default = connections["default"]
    default.ensure_connection()
    return int(default.connection.info.backend_pid)


def _round_trips(monkeypatch: Any) -> list[str]:
    """The SELECT 1 checks Django's own health check sends from now on."""
    sent: list[str] = []
    default = connections["default"]
    original = default.is_usable

    def is_usable() -> bool:
        sent.append("SELECT 1")
        return bool(original())

    monkeypatch.setattr(default, "is_usable", is_usable)
    return sent


def test_the_backend_is_the_platforms_with_health_checks_on() -> None:
    default = connections["default"]
    assert isinstance(default, DatabaseWrapper)
    assert default.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert default.settings_dict["CONN_MAX_AGE"] > 0


def test_a_sound_kept_connection_serves_requests_without_a_check_round_trip(
    monkeypatch: Any,
) -> None:
    assert _get("/api/v1/track/khong-co-ho-so") == 404  # opens the kept connection
    pid = _backend_pid()
    sent = _round_trips(monkeypatch)
    for _ in range(3):
        assert _get("/api/v1/track/khong-co-ho-so") == 404
    assert sent == []
    assert _backend_pid() == pid  # the same connection, kept


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(
    monkeypatch: Any,
) -> None:
    assert _get("/api/v1/track/khong-co-ho-so") == 404
    pid = _backend_pid()
    sent = _round_trips(monkeypatch)
    settings = connections["default"].get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in settings.items() if k not in {"cursor_factory", "context"}},
        autocommit=True,
    ) as administrator:
        administrator.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server says it ended the session on the socket, then closes it.
    socket = connections["default"].connection.pgconn.socket
    poller = select.poll()
    poller.register(socket, select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100) and time.monotonic() < deadline:
        pass
    assert _get("/api/v1/track/khong-co-ho-so") == 404  # not a 500
    assert sent == ["SELECT 1"]  # Django's check confirmed it, and it was replaced
    assert _backend_pid() != pid


def test_a_connection_left_inside_a_transaction_gets_djangos_full_check() -> None:
    default = connections["default"]
    default.ensure_connection()
    assert default.quietly_sound()
    default.connection.execute("BEGIN")
    try:
        assert not default.quietly_sound()
    finally:
        default.connection.execute("ROLLBACK")
    assert default.quietly_sound()
