"""A real read replica on this machine (ADR 0027): a PostgreSQL hot standby made from the
bench's own server by `pg_basebackup -R`, started on another port, streaming from it.

It measures how far the standby lags behind (a WAL record written on the primary, until
the standby has replayed it), then the reads that the router (core.replica) sends to the
replica, each next to the same request read from the primary in the same run (the client
carries the cookie of a client that has just written, so the router keeps it there):
tracking, catalogue search and figures, through the API as a client calls them.

Needs DATABASE_URL on a local PostgreSQL (127.0.0.1:5432, trust auth, user postgres), its
server programs (/usr/lib/postgresql/<version>/bin) and the right to run them as the
postgres user (this process is root or postgres). When the server refuses replication
connections from 127.0.0.1, one `host replication postgres 127.0.0.1/32 trust` line is added
to its pg_hba.conf and the configuration reloaded (said on the output). Anything missing:
skipped with the reason. The standby and its folder are removed at the end.
"""

from __future__ import annotations

import copy
import os
import pwd
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import ROUNDS, Row, free_port

HBA_LINE = "host replication postgres 127.0.0.1/32 trust"
STANDBY_AT_LEAST = [
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
]


class UnavailableError(Exception):
    """The standby cannot be set up here (the reason is printed)."""


def _bin_dir(version: int) -> Path:
    for candidate in (Path(f"/usr/lib/postgresql/{version}/bin"),):
        if (candidate / "pg_basebackup").exists():
            return candidate
    found = shutil.which("pg_basebackup")
    if found:
        return Path(found).parent
    raise UnavailableError(f"no pg_basebackup for PostgreSQL {version}")


def _as_postgres() -> list[str]:
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise UnavailableError("no postgres OS user") from None
    if os.geteuid() == user.pw_uid:
        return []
    if os.geteuid() != 0:
        raise UnavailableError("the standby's server runs as postgres: run the bench as root or it")
    runuser = shutil.which("runuser")
    if runuser is None:
        raise UnavailableError("no runuser to start the standby as postgres")
    return [runuser, "-u", "postgres", "--"]


def _run(command: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _allow_replication(cursor: object) -> None:
    """Let 127.0.0.1 open a replication connection as postgres (trust, like the rest of
    this local server), then reload the server's configuration."""
    cursor.execute("SHOW hba_file")  # type: ignore[attr-defined]
    hba = Path(cursor.fetchone()[0])  # type: ignore[attr-defined]
    text = hba.read_text()
    if HBA_LINE not in text:
        hba.write_text(text.rstrip("\n") + "\n" + HBA_LINE + "\n")
        print(f"  replica: added '{HBA_LINE}' to {hba}")
    cursor.execute("SELECT pg_reload_conf()")  # type: ignore[attr-defined]
    time.sleep(1)


@contextmanager
def standby() -> Iterator[dict[str, object]]:
    """A hot standby of the default database's server; yields its connection settings."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise UnavailableError("needs PostgreSQL (DATABASE_URL)")
    host, port = db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)
    if host not in ("127.0.0.1", "localhost"):
        raise UnavailableError(f"the primary is on {host}, not on this machine")
    version = connection.pg_version // 10000
    binaries = _bin_dir(version)
    prefix = _as_postgres()
    folder = Path(tempfile.mkdtemp(prefix="tinhso-standby-"))
    owner = pwd.getpwnam("postgres")
    os.chown(folder, owner.pw_uid, owner.pw_gid)
    folder.chmod(0o700)
    data = folder / "data"
    standby_port = free_port()
    started = False
    try:
        backup = [
            *prefix, str(binaries / "pg_basebackup"), "-h", host, "-p", str(port),
            "-U", str(db["USER"] or "postgres"), "-D", str(data), "-R", "-X", "stream",
            "-c", "fast", "--no-password",
        ]  # fmt: skip
        made = _run(backup)
        if made.returncode != 0 and "pg_hba.conf" in made.stderr:
            with connection.cursor() as cursor:
                _allow_replication(cursor)
            shutil.rmtree(data, ignore_errors=True)
            made = _run(backup)
        if made.returncode != 0:
            raise UnavailableError(f"pg_basebackup failed: {made.stderr.strip()[-300:]}")
        # Debian keeps the configuration in /etc: the copy gets a minimal one of its own,
        # with the settings a standby may not have lower than its primary.
        with connection.cursor() as cursor:
            shown = []
            for name in STANDBY_AT_LEAST:
                cursor.execute(f"SHOW {name}")
                shown.append(f"{name} = {cursor.fetchone()[0]}")
        for name, text in {
            "postgresql.conf": "hot_standby = on\n" + "\n".join(shown) + "\n",
            "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            "pg_ident.conf": "",
        }.items():
            path = data / name
            if not path.exists() or name != "postgresql.conf":
                path.write_text(text)
                os.chown(path, owner.pw_uid, owner.pw_gid)
        options = f"-p {standby_port} -k {folder} -c listen_addresses=127.0.0.1"
        start = _run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
             "-o", options, "-w", "-t", "120", "start"],
        )  # fmt: skip
        if start.returncode != 0:
            log = (
                (folder / "log").read_text(errors="replace")[-500:]
                if (folder / "log").exists()
                else ""
            )
            raise UnavailableError(f"the standby did not start: {start.stderr.strip()} {log}")
        started = True
        settings = copy.deepcopy(db)
        settings.update(HOST="127.0.0.1", PORT=standby_port, CONN_MAX_AGE=60)
        yield settings
    finally:
        if started:
            _run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def _lag_ms(rounds: int = 30) -> tuple[float, float]:
    """Median and worst time (ms) from a commit on the primary until the standby has
    replayed it."""
    from django.db import connections

    samples = []
    with connections["default"].cursor() as primary, connections["replica"].cursor() as copy_:
        for n in range(rounds + 1):
            # A committed write (autocommit), as the platform's writes are.
            primary.execute("SELECT pg_logical_emit_message(true, 'tinhso-bench', 'lag')")
            primary.execute("SELECT pg_current_wal_insert_lsn()")
            lsn = primary.fetchone()[0]
            start = time.perf_counter()
            while True:
                copy_.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
                if copy_.fetchone()[0]:
                    break
                if time.perf_counter() - start > 120:
                    raise UnavailableError("the standby did not catch up within 120 s")
                time.sleep(0.0005)
            if n:  # the first round waits for the standby to catch up after its start
                samples.append((time.perf_counter() - start) * 1000)
            time.sleep(0.01)
    return statistics.median(samples), max(samples)


def run() -> list[Row]:
    from django.db import connections

    try:
        with standby() as replica_settings:
            connections.settings["replica"] = replica_settings
            try:
                return _measure()
            finally:
                connections["replica"].close()
                del connections["replica"]
                del connections.settings["replica"]
    except UnavailableError as reason:
        print(f"\nreplica: skipped ({reason})")
        return []


def _measure() -> list[Row]:
    from django.conf import settings
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tinhso.agencies.models import Agency
    from tinhso.core.replica import PIN_COOKIE
    from tinhso.dossiers.models import Dossier, DossierStatus

    # Every figures answer computed (no server cache, no anonymous limit): the same work on
    # the standby and on the primary, whichever module ran before.
    settings.FIGURES_CACHE_SECONDS = 0
    settings.TINHSO_FIGURES_RATE = 0
    lag_median, lag_worst = _lag_ms()
    print(
        f"\nreplica: a hot standby from pg_basebackup -R; replay lag after a commit: "
        f"median {lag_median:.1f} ms, worst {lag_worst:.1f} ms of 30; in the table, each "
        f"'replica:' row's baseline is the same request read from the primary"
    )
    codes = list(
        Dossier.objects.exclude(status=DossierStatus.DRAFT)
        .order_by("-pk")
        .values_list("code", flat=True)[:200]
    )
    agency = Agency.objects.filter(level="province").order_by("pk").first()
    on_replica = Client()
    on_primary = Client()
    # The cookie of a client that has just written: the router keeps its reads on the primary.
    on_primary.cookies[PIN_COOKIE] = f"{time.time() + 10 * 24 * 3600:.0f}"
    end = timezone.localdate()
    cases: list[tuple[str, str, int]] = [
        ("replica: GET /api/v1/procedures?q=…", "/api/v1/procedures?q=khai%20sinh", ROUNDS),
    ]
    if codes:
        cases.insert(0, ("replica: GET /api/v1/track/{code}", f"/api/v1/track/{codes[0]}", ROUNDS))
    if agency is not None:
        start = end - timedelta(days=365)
        cases.append(
            ("replica: GET /api/v1/figures, 1 year",
             f"/api/v1/figures?agency={agency.code}&start={start}&end={end}", min(ROUNDS, 30))
        )  # fmt: skip
    rows = []
    for label, url, rounds in cases:
        # Where each client's reads went: all on the standby, or none.
        for client, expected in ((on_replica, True), (on_primary, False)):
            with CaptureQueriesContext(connections["replica"]) as seen:
                answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
            assert bool(seen.captured_queries) is expected, (url, expected)
        rows.append(Row(label, *_interleaved(url, on_replica, on_primary, rounds)))
    return rows


def _interleaved(url: str, first: Any, second: Any, rounds: int) -> tuple[float, ...]:
    """Median and p95 (ms) of `url` through each client, their requests alternating, so
    that the machine's other load weighs on both alike."""
    for _ in range(min(20, rounds)):
        first.get(url)
        second.get(url)
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for client, times in ((first, samples[0]), (second, samples[1])):
            start = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
    figures: list[float] = []
    for times in samples:
        times.sort()
        figures += [statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]]
    return tuple(figures)
