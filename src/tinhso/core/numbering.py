"""Numbering: the next number of a register, for a scope, in a period (ADR 0021).

A register is what is numbered (dossier codes today; document numbers and traceability
stamps later); a scope is whose numbers they are (an agency's primary key, or none); a
period is when numbering starts again from 1 (each day, each year, or never). Numbers are
gap-free: one is taken inside the caller's transaction and given back if that transaction
rolls back, so the next taker gets it. Callers depend only on `sequence_next`; how the
numbers are stored (today one row per register, scope and period, updated in place) may
change without them noticing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from django.db import transaction

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


def sequence_next(
    *, register: str, scope: str = "", period: Period = Period.NEVER, day: date | None = None
) -> int:
    """Take the next number of `register` for `scope` in the `period` containing `day`.

    Must run inside the transaction that uses the number: concurrent takers on SQLite and
    PostgreSQL get distinct consecutive numbers (one atomic upsert, whose row stays locked
    until that transaction ends), and a transaction that rolls back gives its number back.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        # Outside a transaction the number would be committed at once and lost if the
        # caller then failed: a gap.
        raise transaction.TransactionManagementError(
            "sequence_next runs inside the transaction that uses the number."
        )
    quote = connection.ops.quote_name
    table = quote(NumberSequence._meta.db_table)
    register_, scope_, period_, last = (quote(c) for c in ("register", "scope", "period", "last"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({register_}, {scope_}, {period_}, {last}) "  # noqa: S608
            f"VALUES (%s, %s, %s, 1) ON CONFLICT ({register_}, {scope_}, {period_}) "
            f"DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}",
            [register, scope, period.key(day)],
        )
        row = cursor.fetchone()
    return int(row[0])
