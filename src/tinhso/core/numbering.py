"""Numbering: the next number of a register, for a scope, in a period (ADR 0021, 0025).

A register is what is numbered (dossier codes today; document numbers and traceability
stamps later); a scope is whose numbers they are (an agency's primary key, or none); a
period is when numbering starts again from 1 (each day, each year, or never). Callers
depend only on `sequence_next`; numbers are stored as one row per register, scope and
period, updated in place, and taken in one of two ways:

* gap-free (the default, and what official document numbers under Decree 30/2020 must
  be): taken inside the caller's transaction and given back if it rolls back. The row
  stays locked until the caller commits, so takers of one register, scope and period
  queue one behind another for the length of their transactions.
* `gaps=True` (dossier codes): on PostgreSQL the number is taken in a short transaction of
  its own, on a second connection of the same thread, committed before the caller goes
  on. The row is locked for that one statement only, so concurrent takers never wait for
  each other's work; numbers stay unique and increasing in the order taken, and a caller
  that rolls back leaves its number unused (a gap). The side transaction commits without
  waiting for its WAL flush (`synchronous_commit = off`): the caller's own commit, which is
  synchronous and later in the log, flushes it too, so a number used by a committed
  transaction can never be handed out again after a crash. On SQLite, which has one
  writer at a time anyway (or with TINHSO_NUMBERING_ASIDE off), it is taken in the
  caller's transaction as a gap-free one.
"""

from __future__ import annotations

import contextlib
import weakref
from datetime import date
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from tinhso.core.models import NumberSequence


class Period(StrEnum):
    """When a register starts again from 1."""

    NEVER = "never"
    YEARLY = "yearly"
    DAILY = "daily"

    def key(self, day: date | None) -> str:
        """The stored name of the period that contains `day`."""
        if self is Period.NEVER:
            return ""
        if day is None:
            raise ValueError(f"A {self.value} register needs the day the number is for.")
        return f"{day:%Y}" if self is Period.YEARLY else day.isoformat()


def _upsert(connection: BaseDatabaseWrapper, register: str, scope: str, period: str) -> int:
    quote = connection.ops.quote_name
    table = quote(NumberSequence._meta.db_table)
    register_, scope_, period_, last = (quote(c) for c in ("register", "scope", "period", "last"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({register_}, {scope_}, {period_}, {last}) "  # noqa: S608
            f"VALUES (%s, %s, %s, 1) ON CONFLICT ({register_}, {scope_}, {period_}) "
            f"DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}",
            [register, scope, period],
        )
        row = cursor.fetchone()
    return int(row[0])


# The side connection of each open database connection, closed with it: keyed by the
# driver's connection object, so that when Django closes (or a thread drops) its connection,
# the side one goes too and no session outlives it.
_side_connections: weakref.WeakKeyDictionary[Any, BaseDatabaseWrapper] = weakref.WeakKeyDictionary()


def _side_connection(connection: BaseDatabaseWrapper) -> BaseDatabaseWrapper:
    connection.ensure_connection()
    side = _side_connections.get(connection.connection)
    if side is None:
        side = connections.create_connection(connection.alias)
        side.ensure_connection()
        with side.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        _side_connections[connection.connection] = side
        weakref.finalize(connection.connection, _side_close, side)
    return side


def _side_close(side: BaseDatabaseWrapper) -> None:
    """Close the side connection's session when its main one goes: from whichever thread
    drops the main one (or at exit), hence on the driver's connection, not through Django's
    wrapper, which may only be used by the thread that made it."""
    raw = side.connection
    side.connection = None
    if raw is not None:
        with contextlib.suppress(Exception):
            raw.close()


def _take_aside(connection: BaseDatabaseWrapper, register: str, scope: str, period: str) -> int:
    """The upsert in autocommit on the side connection: its own transaction, committed
    before this returns. A side connection the server dropped is opened again once."""
    for attempt in (1, 2):
        side = _side_connection(connection)
        try:
            return _upsert(side, register, scope, period)
        except DatabaseError:
            side.close()
            _side_connections.pop(connection.connection, None)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def sequence_holds_row(*, gaps: bool = False) -> bool:
    """Whether `sequence_next(gaps=gaps)` leaves its row locked until the caller's
    transaction ends, holding up every other taker of that register, scope and period: on
    PostgreSQL, gap-free or with numbers aside switched off. A caller then takes its number
    last. (SQLite locks the whole database at the first write whatever the order.)"""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return False
    return not (gaps and settings.TINHSO_NUMBERING_ASIDE)


def sequence_next(
    *,
    register: str,
    scope: str = "",
    period: Period = Period.NEVER,
    day: date | None = None,
    gaps: bool = False,
) -> int:
    """Take the next number of `register` for `scope` in the `period` containing `day`.

    Gap-free (the default): must run inside the transaction that uses the number;
    concurrent takers on SQLite and PostgreSQL get distinct consecutive numbers (one atomic
    upsert, whose row stays locked until that transaction ends), and a transaction that
    rolls back gives its number back.

    `gaps=True`: on PostgreSQL taken and committed in a short transaction of its own, so
    no row stays locked while the caller works: numbers are unique and increasing, and one
    taken by a caller that then rolls back is not given again.
    """
    connection = transaction.get_connection()
    if gaps and connection.vendor == "postgresql" and settings.TINHSO_NUMBERING_ASIDE:
        return _take_aside(connection, register, scope, period.key(day))
    if not connection.in_atomic_block:
        # Outside a transaction the number would be committed at once and lost if the
        # caller then failed: a gap.
        raise transaction.TransactionManagementError(
            "sequence_next runs inside the transaction that uses the number."
        )
    return _upsert(connection, register, scope, period.key(day))
