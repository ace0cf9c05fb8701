"""Back-office benchmarks (PostgreSQL only):

* submission + acceptance throughput through the HTTP API (gunicorn, several concurrent
  clients), next to pgbench's TPC-B rate on the same server in the same run;
* inbox and tracking latency with 1,000,000 dossiers (loaded with COPY), next to the raw
  SQL that answers the same question.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any

from bench.common import (
    INBOX_ROWS_SQL,
    Row,
    birth_submission,
    cpu_seconds,
    free_port,
    measure,
    sample_percent,
    throughput,
    vacuum_analyze,
    wsgi_get,
)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
TARGET = int(os.environ.get("BENCH_DOSSIERS", "1000000"))


def _post(url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (our own server on loopback)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return dict(json.load(response))


def _server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        # As in production: the task rows a submission and an acceptance write (the
        # outbox's delivery run, the form to issue) are part of the request path's cost.
        "TINHSO_TASKS_BACKEND": os.environ.get(
            "BENCH_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"
        ),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tinhso.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _app_server(command: str) -> bool:
    return "gunicorn" in command and "tinhso.wsgi" in command


def _database_server(command: str) -> bool:
    return command.startswith("postgres:")  # PostgreSQL's backends, as ps shows them


def _throughput() -> tuple[float, int, tuple[float, float] | None]:
    """Dossiers submitted and accepted per second through the API, and the CPU time each
    pair cost the app server and PostgreSQL (ms; None where /proc cannot say)."""
    from tinhso.accounts.models import User
    from tinhso.accounts.services import api_token_create

    citizen_token = api_token_create(user=User.objects.get(username="038090000001"))[1]
    receiver_token = api_token_create(user=User.objects.get(username="tiepnhan.hacthanh"))[1]
    body = birth_submission()
    port = free_port()
    server = _server(port)
    base = f"http://127.0.0.1:{port}/api/v1/dossiers"

    def submit_and_accept(index: int) -> None:
        created = _post(base, body, citizen_token)
        _post(
            f"{base}/{created['code']}/actions",
            {"action": "accept", "version": created["version"]},
            receiver_token,
        )

    try:
        before = (cpu_seconds(_app_server), cpu_seconds(_database_server))
        rate, count = throughput(submit_and_accept, CLIENTS, SECONDS)
        after = (cpu_seconds(_app_server), cpu_seconds(_database_server))
    finally:
        server.terminate()
        server.wait(timeout=10)
    (app_0, database_0), (app_1, database_1) = before, after
    if app_0 is None or database_0 is None or app_1 is None or database_1 is None or not count:
        return rate, count, None
    return rate, count, ((app_1 - app_0) * 1000 / count, (database_1 - database_0) * 1000 / count)


def _pgbench_tps() -> float | None:
    """TPC-B transactions per second of pgbench on the same server (its own database)."""
    from django.db import connection

    if shutil.which("pgbench") is None:
        return None
    settings = connection.settings_dict
    host, port, dbuser = (
        settings["HOST"] or "127.0.0.1",
        str(settings["PORT"] or 5432),
        settings["USER"],
    )
    database = f"{settings['NAME']}_pgbench"
    env = {**os.environ, "PGHOST": host, "PGPORT": port, "PGUSER": dbuser}
    subprocess.run(["dropdb", "--if-exists", database], env=env, check=False, capture_output=True)
    subprocess.run(["createdb", database], env=env, check=True, capture_output=True)
    try:
        subprocess.run(
            ["pgbench", "-i", "-s", "2", "-q", database], env=env, check=True, capture_output=True
        )
        out = subprocess.run(
            ["pgbench", "-c", str(CLIENTS), "-j", "2", "-T", str(SECONDS), database],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", database], env=env, check=False, capture_output=True
        )
    for line in out.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    return None


def _load_dossiers() -> None:
    """Bring the dossier table to TARGET rows with COPY (statuses, agencies and dates spread
    like a province's ten years), plus one event each."""
    from django.db import connection

    from tinhso.accounts.models import User
    from tinhso.agencies.models import Agency
    from tinhso.catalog.models import Procedure
    from tinhso.dossiers.models import Dossier

    have = Dossier.objects.count()
    if have >= TARGET:
        return
    rng = random.Random(38)  # noqa: S311 (reproducible test data)
    agencies = list(Agency.objects.filter(level="commune").values_list("id", "code"))
    procedures = list(Procedure.objects.values_list("id", flat=True))
    citizens = list(User.objects.filter(kind="citizen").values_list("id", flat=True))
    statuses = [
        (10, "returned"),
        (10, "returned"),
        (10, "returned"),
        (9, "finished"),
        (4, "processing"),
        (2, "received"),
        (1, "new"),
        (3, "refused"),
        (5, "supplement_processing"),
    ]
    now = time.time()
    columns = (
        "public_id, code, procedure_id, applicant_id, receiving_agency_id, status, channel, "
        "form_data, result_method, delivery_address, submitted_at, created_at, updated_at, "
        "version, state, accepted_at, due_at, outcome"
    )
    with connection.cursor() as cursor, cursor.connection.cursor() as raw:
        with raw.copy(f"COPY dossiers_dossier ({columns}) FROM STDIN") as copy:
            for n in range(have, TARGET):
                agency_id, agency_code = agencies[n % len(agencies)]
                status, state = statuses[n % len(statuses)]
                submitted = now - rng.random() * 3650 * 86400
                stamp = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(submitted))
                due = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(submitted + 3 * 86400))
                code = f"{agency_code}-B{n:07d}"
                copy.write_row(
                    (
                        str(uuid.uuid4()),
                        code,
                        rng.choice(procedures),
                        rng.choice(citizens),
                        agency_id,
                        status,
                        2,
                        "{}",
                        "online",
                        "",
                        stamp,
                        stamp,
                        stamp,
                        1,
                        state,
                        stamp if status != 1 else None,
                        due if status != 1 else None,
                        "",
                    )
                )
        raw.execute(
            "INSERT INTO dossiers_dossierevent "
            "(dossier_id, at, action, from_status, to_status, note) "
            "SELECT id, submitted_at, 'submit', 0, 1, '' FROM dossiers_dossier d "
            "WHERE NOT EXISTS (SELECT 1 FROM dossiers_dossierevent e WHERE e.dossier_id = d.id)"
        )
    connection.commit() if not connection.get_autocommit() else None
    vacuum_analyze("dossiers_dossier", "dossiers_dossierevent")


def run() -> list[Row]:
    from django.db import connection

    from tinhso.accounts.models import User
    from tinhso.dossiers.inbox import inbox

    if connection.vendor != "postgresql":
        print("dossier benchmarks skipped: they need PostgreSQL (set DATABASE_URL)")
        return []
    rate, count, cpu = _throughput()
    tps = _pgbench_tps()
    print(
        f"\nsubmission + acceptance through the HTTP API, {CLIENTS} clients, {SECONDS} s: "
        f"{rate:.1f} dossiers/s ({count} done)"
    )
    if cpu is not None:
        app, database = cpu
        cores = os.cpu_count() or 1
        print(
            f"CPU per submitted-and-accepted dossier: app server {app:.1f} ms, PostgreSQL "
            f"{database:.1f} ms; with {cores} cores, PostgreSQL's part alone allows at most "
            f"{cores * 1000 / database:.0f} dossiers/s"
            + (f" = {cores * 1000 / database / tps:.3f} × pgbench" if tps else "")
        )
    if tps:
        print(
            f"pgbench TPC-B on the same server, {CLIENTS} clients: {tps:.0f} tps; "
            f"ratio {tps / rate:.0f} TPC-B transactions per submitted-and-accepted dossier"
        )
    started = time.monotonic()
    _load_dossiers()
    print(f"dossiers in the database: {TARGET:,} (loaded in {time.monotonic() - started:.0f} s)\n")
    rng = random.Random(7)  # noqa: S311
    codes = [
        c
        for (c,) in connection.cursor()
        .execute(
            f"SELECT code FROM dossiers_dossier TABLESAMPLE SYSTEM ({sample_percent(500, TARGET)}) "
            "WHERE status <> 0 LIMIT 500"
        )
        .fetchall()
    ]
    receiver = User.objects.get(username="tiepnhan.hacthanh")

    def track() -> None:
        # Through the WSGI handler, as the server runs a request (its connection check
        # included), not the test client, which skips the request's start and end.
        assert wsgi_get(f"/api/v1/track/{rng.choice(codes)}")[0] == 200

    def track_sql() -> None:
        # The same two statements on the same rows: the dossier with its procedure and
        # agency by its code, then that dossier's history (until this stop the history read
        # was dossier 1's, always in the cache, while tracking read a random dossier's).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.id, d.code, d.status, d.submitted_at, p.code, p.name, a.code, a.name "
                "FROM dossiers_dossier d JOIN catalog_procedure p ON p.id = d.procedure_id "
                "LEFT JOIN agencies_agency a ON a.id = d.receiving_agency_id "
                "WHERE d.code = %s AND d.status <> 0",
                [rng.choice(codes)],
            )
            row = cursor.fetchone()
            cursor.execute(
                "SELECT at, to_status FROM dossiers_dossierevent WHERE dossier_id = %s "
                "ORDER BY at, id",
                [row[0]],
            )
            cursor.fetchall()

    agency = receiver.memberships.first().agency  # type: ignore[union-attr]

    def inbox_sql() -> None:
        with connection.cursor() as cursor:
            # The same rows: the box's dossiers received at the receiver's commune.
            cursor.execute(
                INBOX_ROWS_SQL.format(
                    where="d.receiving_agency_id = %s AND d.state = 'new' AND d.status <> 0"
                )
                + "ORDER BY d.due_at NULLS LAST, d.submitted_at NULLS LAST, d.id LIMIT 200",
                [agency.pk],
            )
            cursor.fetchall()

    return [
        Row(
            f"tracking: GET /api/v1/track/{{code}}, {TARGET / 1e6:g}M dossiers",
            *measure(track, 200),
            *measure(track_sql, 200),
        ),
        Row(
            f"inbox: 'to receive' of a commune receiver, {TARGET / 1e6:g}M",
            *measure(lambda: inbox(receiver, "tiep-nhan"), 50),
            *measure(inbox_sql, 50),
        ),
    ]
