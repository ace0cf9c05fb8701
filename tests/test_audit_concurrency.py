"""The audit chain takes no lock on the request path (ADR 0025): on PostgreSQL, two
transactions hold audit entries at the same time without waiting for each other, an entry
committed after a later-appended one is sealed after it, and writers racing the sealer
still leave one unbroken chain."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from tinhso.core.audit import audit_record, audit_seal, audit_verify
from tinhso.core.models import AuditEntry, AuditHead

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time"),
    pytest.mark.django_db(transaction=True),
]

WAIT = 10.0  # seconds; far more than an append takes, far less than the test's patience


def test_two_transactions_hold_audit_entries_at_once_without_waiting() -> None:
    """A appends and keeps its transaction open; B appends and commits meanwhile. With a
    lock on the chain's head B would wait for A to end, and A would give up waiting."""
    a_appended, b_committed = threading.Event(), threading.Event()
    a_saw_b_commit: list[bool] = []
    errors: list[BaseException] = []
    ids: dict[str, int] = {}

    def writer_a() -> None:
        try:
            with transaction.atomic():
                ids["a"] = audit_record(actor=None, action="test.a").pk
                a_appended.set()
                a_saw_b_commit.append(b_committed.wait(WAIT))
                # Still in A's transaction: the sealer, on another connection, sees B only.
                sealing: list[int] = []
                sealer = threading.Thread(target=lambda: sealing.append(_seal_aside()))
                sealer.start()
                sealer.join(WAIT)
                assert sealing == [1], sealing
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def writer_b() -> None:
        try:
            assert a_appended.wait(WAIT)
            with connection.cursor() as cursor:
                # Waiting on any lock of A's would fail B rather than hang the test.
                cursor.execute("SET lock_timeout = '5s'")
            with transaction.atomic():
                ids["b"] = audit_record(actor=None, action="test.b").pk
            b_committed.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    start = audit_seal().head_seq
    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(3 * WAIT)
    assert errors == []
    assert a_saw_b_commit == [True]
    assert ids["a"] < ids["b"]  # A appended first …
    assert audit_seal().sealed == 1
    a, b = AuditEntry.objects.get(pk=ids["a"]), AuditEntry.objects.get(pk=ids["b"])
    assert (b.seq, a.seq) == (start + 1, start + 2)  # … but committed, so was sealed, last
    assert a.prev_hash == b.hash
    assert audit_verify().ok


def _seal_aside() -> int:
    try:
        return audit_seal().sealed
    finally:
        connections.close_all()


WRITERS, EACH = 8, 10


def test_writers_racing_the_sealer_leave_one_unbroken_chain() -> None:
    """Eight writers append (some rolling back) while a sealer runs in a loop, as the
    worker's does: every committed entry ends up sealed once, numbered without a gap."""
    stop = threading.Event()
    seal_runs: list[int] = []

    def sealer() -> None:
        try:
            while not stop.is_set():
                seal_runs.append(audit_seal(wait=False).sealed)
        finally:
            connections.close_all()

    def writer(n: int) -> int:
        kept = 0
        try:
            for i in range(EACH):
                with transaction.atomic():
                    audit_record(actor=None, action="test.write", data={"n": n, "i": i})
                    if i % 5 == 4:
                        transaction.set_rollback(True)
                    else:
                        kept += 1
            return kept
        finally:
            connections.close_all()

    start = audit_seal().head_seq
    thread = threading.Thread(target=sealer)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            kept = sum(pool.map(writer, range(WRITERS)))
    finally:
        stop.set()
        thread.join(WAIT)
    audit_seal()
    assert kept == WRITERS * (EACH - EACH // 5)
    assert sum(seal_runs) <= kept
    seqs = list(
        AuditEntry.objects.filter(seq__gt=start).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(start + 1, start + kept + 1))
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
    assert AuditHead.objects.get().seq == start + kept
    assert audit_verify().ok
