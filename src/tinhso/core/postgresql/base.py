"""Django's PostgreSQL backend, with one change: how a kept connection is checked before a
request uses it (CONN_HEALTH_CHECKS).

Django checks it with `SELECT 1`, one round trip to the server on every request: a third
of public tracking's database time, which reads the dossier and its history in two
statements (issue 15). This backend first looks at the idle connection's socket without
waiting: an idle connection that the server has not written to is sound, and is used as
it is. When the server ends a session (a restart, a failover, pg_terminate_backend, an
idle timeout) it says so on the socket (an error message, then the end of the stream), so
the socket is readable: then, as whenever psycopg already knows the connection is broken
or not idle, Django's own check runs, and the connection is replaced if it fails. A peer
that vanished without a word is left to TCP keepalives, as `SELECT 1` would have hung on
it too.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper
from psycopg.pq import ConnStatus, TransactionStatus


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # Called before every cursor; the look at the socket only when Django would check
        # (health checks on, no pool, not yet in this request). Attributes of Django 5.2
        # that django-stubs does not declare are read with getattr.
        due = (
            self.connection is not None
            and getattr(self, "health_check_enabled", False)
            and not getattr(self, "health_check_done", True)
            and getattr(self, "pool", None) is None
        )
        if due and self.quietly_sound():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()  # Django's SELECT 1 when it is due

    def quietly_sound(self) -> bool:
        """Whether the connection is idle, open, and has nothing from the server waiting
        on its socket (no round trip)."""
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != ConnStatus.OK:
            return False
        if pgconn.transaction_status != TransactionStatus.IDLE:
            return False
        try:
            poller = select.poll()  # any descriptor number, unlike select()
            poller.register(pgconn.socket, select.POLLIN)
            return not poller.poll(0)
        except (AttributeError, OSError, ValueError, psycopg.Error):  # no poll(): Windows
            return False
