"""No global serialisation point (ADR 0025): audited writes and dossier numbers per second
with N concurrent clients, each next to a baseline measured in the same run on the same
database: plain INSERTs of a row of the same shape, each in its own transaction.

* audit, before: the chain's head row locked in every audited transaction (the append of
  ADR 0003, reproduced here as it was);
* audit, after: `core.audit.audit_record` (one INSERT, no lock) while a sealer thread
  chains the entries every TINHSO_AUDIT_SEAL_SECONDS, as the worker does; the time the
  sealer then needs to catch up is printed too;
* numbers, before/after: one agency's daily dossier number taken in a transaction that
  then inserts a row and does BENCH_WORK_MS of other work (a submission's files, events,
  notifications): gap-free in the caller's transaction (the row held until commit)
  against taken aside (`gaps=True`), next to the same transaction without a number.

PostgreSQL only (SQLite has one writer at a time: nothing to compare). BENCH_AUDIT_CLIENTS
(default "1,8,32") and BENCH_AUDIT_SECONDS (default 5) size the runs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.common import Row

CLIENTS = [int(n) for n in os.environ.get("BENCH_AUDIT_CLIENTS", "1,8,32").split(",")]
SECONDS = float(os.environ.get("BENCH_AUDIT_SECONDS", "5"))
WORK_MS = float(os.environ.get("BENCH_WORK_MS", "5"))
PLAIN = "bench_audit_plain"


def _old_audit_record(action: str, data: dict[str, Any]) -> None:
    """The append of ADR 0003 before ADR 0025, as it was: lock the head, chain the entry,
    move the head, all in the caller's transaction (so the lock is held until it commits)."""
    from django.utils import timezone

    from tinhso.core.audit import _stored_entry_hash, change_digest
    from tinhso.core.models import AuditEntry, AuditHead

    head = AuditHead.objects.select_for_update().get(pk=1)
    now = timezone.now()
    entry = AuditEntry(
        seq=head.seq + 1, at=now.replace(microsecond=now.microsecond // 1000 * 1000),
        actor_id=None, actor_label="system", action=action, object_type="bench",
        object_id="1", data=data, digest=change_digest(data), prev_hash=head.hash,
    )  # fmt: skip
    entry.hash = _stored_entry_hash(entry)
    entry.save(force_insert=True)
    head.seq, head.hash = entry.seq or 0, entry.hash
    head.save(update_fields=["seq", "hash"])


def _per_client(fn: Callable[[int], None]) -> Callable[[int], None]:
    """`fn` in a transaction of its own, on the client thread's own connection."""
    from django.db import transaction

    def unit(index: int) -> None:
        with transaction.atomic():
            fn(index)

    return unit


class _SealerThread:
    """The worker's sealer, in this process: `audit_seal(wait=False)` every interval."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from django.db import connections

        from tinhso.core.audit import audit_seal

        try:
            while not self._stop.wait(self.interval):
                audit_seal(wait=False)
        finally:
            connections.close_all()

    def __enter__(self) -> _SealerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _plain_insert(index: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PLAIN} (at, action, data) VALUES (now(), %s, %s)",
            ["bench.write", f'{{"client": {index}}}'],
        )


def _audit_before(index: int) -> None:
    _old_audit_record("bench.write", {"client": index})


def _audit_after(index: int) -> None:
    from tinhso.core.audit import audit_record

    audit_record(actor=None, action="bench.write", data={"client": index})


def _work() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [WORK_MS / 1000])


def _numbered(gaps: bool) -> Callable[[int], None]:
    from tinhso.core.numbering import Period, sequence_next

    day = date(2000, 1, 1)  # a day of its own: the bench's numbers touch no real register

    def unit(_index: int) -> None:
        sequence_next(register="bench", scope="agency", period=Period.DAILY, day=day, gaps=gaps)
        _plain_insert(_index)  # the dossier's row
        _work()

    return unit


def _unnumbered(_index: int) -> None:
    _plain_insert(_index)
    _work()


def _measure(fn: Callable[[int], None], clients: int) -> float:
    from django.db import connections

    unit = _per_client(fn)
    done = [0] * clients
    stop = time.monotonic() + SECONDS

    def client(index: int) -> None:
        try:
            while time.monotonic() < stop:
                unit(index)
                done[index] += 1
        finally:
            connections.close_all()  # and with it the thread's side connection, if any

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


SEAL_SAMPLE = 5000


def _seal_rate() -> float:
    """Entries per second the sealer chains: SEAL_SAMPLE appended, then one seal."""
    from django.db import transaction

    from tinhso.core.audit import audit_record, audit_seal

    with transaction.atomic():
        for n in range(SEAL_SAMPLE):
            audit_record(actor=None, action="bench.seal", data={"n": n})
    started = time.perf_counter()
    sealed = audit_seal().sealed
    return sealed / (time.perf_counter() - started)


def run() -> list[Row]:
    from django.conf import settings
    from django.db import connection, connections

    from tinhso.core.audit import audit_seal, audit_verify
    from tinhso.core.models import AuditEntry, NumberSequence

    if connection.vendor != "postgresql":
        print("\naudit and numbering throughput: skipped (needs PostgreSQL)")
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PLAIN} (id bigserial PRIMARY KEY, "
            "at timestamptz NOT NULL, action varchar(64) NOT NULL, data jsonb NOT NULL)"
        )
    settings.TINHSO_NUMBERING_ASIDE = True
    audit_seal()
    first_id = (AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()) or 0
    lines: list[tuple[str, int, float, float]] = []
    lag: list[tuple[int, float, int]] = []
    sealing: list[float] = []
    try:
        for clients in CLIENTS:
            base = _measure(_plain_insert, clients)
            before = _measure(_audit_before, clients)
            lines.append(("audited write, head row locked (before)", clients, before, base))
            with _SealerThread(settings.TINHSO_AUDIT_SEAL_SECONDS):
                after = _measure(_audit_after, clients)
            started = time.perf_counter()
            caught_up = audit_seal().sealed
            lag.append((clients, (time.perf_counter() - started) * 1000, caught_up))
            sealing.append(_seal_rate())
            lines.append(("audited write, appended unsealed (after)", clients, after, base))
        for clients in CLIENTS:
            base = _measure(_unnumbered, clients)
            before = _measure(_numbered(gaps=False), clients)
            after = _measure(_numbered(gaps=True), clients)
            label = f"numbered + {WORK_MS:g} ms work, "
            lines.append((label + "row held (before)", clients, before, base))
            lines.append((label + "taken aside (after)", clients, after, base))
        report = audit_verify()
    finally:
        connections.close_all()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        NumberSequence.objects.filter(register="bench").delete()
    written = AuditEntry.objects.filter(id__gt=first_id).count()
    print(
        f"\nAudited writes and dossier numbers per second, {SECONDS:g} s per run "
        "(baseline: plain INSERTs, one per transaction, same run)\n"
    )
    print(f"{'case':52} {'clients':>7} {'per s':>9} | {'baseline per s':>14} | {'ratio':>6}")
    print("-" * 98)
    for label, clients, rate, base in lines:
        print(f"{label:52} {clients:7d} {rate:9.0f} | {base:14.0f} | {rate / base:6.2f}")
    print("\nratio = platform rate ÷ baseline rate (higher is better; 1.00 = as fast as plain SQL)")
    for clients, ms, count in lag:
        print(
            f"sealer catching up after the {clients}-client run: {count} entries left, "
            f"sealed in {ms:.0f} ms"
        )
    print(
        f"sealer alone: {max(sealing):.0f} entries per second (best of {len(sealing)} "
        f"runs of {SEAL_SAMPLE} entries appended, then sealed in one go)"
    )
    print(
        f"{written} audit entries written; chain {'intact' if report.ok else 'BROKEN'} "
        f"({report.checked} entries checked)"
    )
    return []
