"""Crash test (issue 12), PostgreSQL only, deselected from `make test`; `make crash` runs it.

CRASH_CLIENTS (8) clients submit dossiers over HTTP for CRASH_SECONDS (60 s): `POST
/api/v1/dossiers` with an Idempotency-Key, retried with the same key after any connection
error or 5xx, against gunicorn (2 workers × 4 threads) and the task worker under its
supervisor, while the test `kill -9`s a gunicorn worker CRASH_GUNICORN_KILLS times (the
master starts another) and the task worker CRASH_WORKER_KILLS times (the supervisor starts
another). After recovery:

* every acknowledged submission (201 or 200) is stored, exactly once (one dossier per key,
  the same dossier code on every answer for a key), and none is refused or given up;
* no orphan file: once the file store's sweep (`tinhso files_orphans`) has settled what
  the killed requests left, every stored file belongs to a row and every row's file is
  there;
* the outbox is fully delivered, no task is left RUNNING, the audit chain is intact and
  /healthz says "ok".

It prints its figures (submissions, retries, kills, recovery time).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from processes import database_url, free_port, wait_for

pytestmark = [pytest.mark.crash, pytest.mark.django_db(transaction=True)]

CLIENTS = int(os.environ.get("CRASH_CLIENTS", "8"))
SECONDS = float(os.environ.get("CRASH_SECONDS", "60"))
GUNICORN_KILLS = int(os.environ.get("CRASH_GUNICORN_KILLS", "6"))
WORKER_KILLS = int(os.environ.get("CRASH_WORKER_KILLS", "4"))
RECOVERY = 180.0  # bound on waiting for recovery: only a hang fails it
BIRTH = "1.001193"


def _wait(check: Callable[[], Any], what: str, seconds: float = RECOVERY) -> Any:
    return wait_for(check, what, seconds)


def _pdf() -> bytes:
    """A small, well-formed PDF (made by fpdf2) as the birth certificate paper."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Giay chung sinh (crash test)")
    return bytes(pdf.output())


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class Servers:
    base: str
    media: Path
    gunicorn: subprocess.Popen[bytes]
    supervisor: subprocess.Popen[bytes]
    logs: Path
    env: dict[str, str]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    if connection.vendor != "postgresql":
        pytest.skip("the crash test needs PostgreSQL (DATABASE_URL; `make crash`)")
    if not Path("/proc/self/task").exists():
        pytest.skip("the crash test finds the processes to kill through Linux /proc")
    port = free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "test-only-not-a-secret",
        "DEBUG": "0",
        "TINHSO_DATA_DIR": str(data),
        "TINHSO_PKI_DIR": str(django_settings.TINHSO_PKI_DIR),
        "ALLOWED_HOSTS": "127.0.0.1",
        "TINHSO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "TINHSO_WORKER_HEARTBEAT_SECONDS": "2",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    python = sys.executable
    gunicorn = subprocess.Popen(
        [python, "-m", "gunicorn", "tinhso.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread",
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=(logs / "gunicorn.log").open("wb"),
    )  # fmt: skip
    supervisor = subprocess.Popen(
        [python, "-m", "tinhso.core.supervisor", "--", python, "-m", "tinhso", "worker",
         "--queue-name", "*", "--no-startup-delay", "--interval", "0.2", "-v", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=(logs / "worker.log").open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _get(f"{base}/healthz") is not None, "gunicorn to answer", 60)
        _wait(lambda: len(_children(gunicorn.pid)) == 2, "two gunicorn workers", 60)
        yield Servers(base, data / "files", gunicorn, supervisor, logs, env)
    finally:
        for process in (gunicorn, supervisor):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in (gunicorn, supervisor):
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                for child in _children(process.pid):
                    os.kill(child, signal.SIGKILL)
                process.kill()
                process.wait()


def _get(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return dict(json.load(response))
    except urllib.error.HTTPError as exc:
        return dict(json.load(exc)) if exc.code == 503 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None


@dataclass
class Ledger:
    """What the clients saw, per Idempotency-Key."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # key → dossier code
    codes_seen: dict[str, set[str]] = field(default_factory=dict)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(index: int, base: str, token: str, body: bytes, ledger: Ledger, stop_at: float) -> None:
    give_up_at = stop_at + 60
    while time.monotonic() < stop_at:
        key = f"crash-{index}-{uuid.uuid4().hex}"
        while True:
            request = urllib.request.Request(  # noqa: S310 (loopback)
                f"{base}/api/v1/dossiers",
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": key,
                },
            )
            with ledger.lock:
                ledger.attempts += 1
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    answer = json.load(response)
                    status = response.status
            except urllib.error.HTTPError as exc:
                status, answer = exc.code, exc.read().decode(errors="replace")
            except (OSError, http.client.HTTPException):
                status, answer = 0, None  # the connection broke: the worker was killed
            if status in (200, 201):
                with ledger.lock:
                    ledger.acknowledged[key] = answer["code"]
                    ledger.codes_seen.setdefault(key, set()).add(answer["code"])
                break
            if status and status < 500:
                with ledger.lock:
                    ledger.refused.append((key, status, str(answer)[:300]))
                break
            if time.monotonic() > give_up_at:
                with ledger.lock:
                    ledger.given_up.append(key)
                break
            with ledger.lock:
                ledger.retries += 1
            time.sleep(0.2)


@dataclass
class Kills:
    gunicorn: list[int] = field(default_factory=list)
    worker: list[int] = field(default_factory=list)


def _killer(servers: Servers, start: float, kills: Kills) -> None:
    plan = ["gunicorn"] * GUNICORN_KILLS + ["worker"] * WORKER_KILLS
    random.Random(12).shuffle(plan)
    for n, target in enumerate(plan):
        at = start + SECONDS * (n + 0.5) / len(plan)
        time.sleep(max(0.0, at - time.monotonic()))
        parent = servers.gunicorn if target == "gunicorn" else servers.supervisor
        # Right after an earlier kill the replacement may still be starting: wait for it.
        expected = 2 if target == "gunicorn" else 1
        deadline = time.monotonic() + 30
        while len(_children(parent.pid)) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        victims = _children(parent.pid)
        if not victims:
            continue
        victim = random.Random(n).choice(victims)
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            continue
        (kills.gunicorn if target == "gunicorn" else kills.worker).append(victim)


def _sweep(servers: Servers, *, remove: bool) -> dict[str, Any]:
    """The file store's own sweep (`tinhso files_orphans`, core.files), run as the hourly
    task runs it, against the servers' data folder. Grace 0: every transaction of the run
    has ended (the load is over and the servers are idle)."""
    command = [sys.executable, "-m", "tinhso", "files_orphans", "--grace-minutes", "0", "--json"]
    done = subprocess.run(
        command + (["--remove"] if remove else []),
        env=servers.env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr.decode()
    report: dict[str, Any] = json.loads(done.stdout)
    # The session's seed stored its files in another folder: only this run's rows count.
    report["rows_without_file"] = [
        m for m in report["rows_without_file"] if str(m["name"]).startswith("dossiers/")
    ]
    return report


def test_kill_9_under_load_loses_nothing_and_leaves_nothing_behind(
    servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    from tinhso.accounts.models import User
    from tinhso.accounts.services import api_token_create
    from tinhso.catalog.models import Procedure
    from tinhso.core.audit import audit_verify
    from tinhso.core.models import IdempotencyKey, Notification, OutboxMessage
    from tinhso.dossiers.models import Dossier, DossierFile

    citizen = User.objects.get(username="038090000001")
    procedure = Procedure.objects.get(code=BIRTH)
    paper = procedure.papers.get(paper_type="giay-chung-sinh")
    body = json.dumps(
        {
            "procedure": BIRTH,
            "receiving_agency": "000.02.60.H56",
            "result_method": "online",
            "form": {
                "nguoi_yeu_cau": {
                    "ho_ten": citizen.full_name,
                    "so_dinh_danh": citizen.username,
                    "noi_cu_tru": "Số 12 Lê Lai",
                },
                "quan_he": "cha",
                "tre": {
                    "ho_ten": "Bé Thử",
                    "gioi_tinh": "nam",
                    "ngay_sinh": "2026-11-01",
                    "noi_sinh": "Bệnh viện Đa khoa tỉnh",
                },
                "me": {"ho_ten": "Nguyễn Thị Bình"},
            },
            "attachments": [
                {
                    "paper": paper.pk,
                    "filename": "chung-sinh.pdf",
                    "content_base64": base64.b64encode(_pdf()).decode(),
                }
            ],
        }
    ).encode()
    tokens = [api_token_create(user=citizen, name=f"crash {i}")[1] for i in range(CLIENTS)]
    dossiers_before = Dossier.objects.filter(applicant=citizen).count()

    ledger, kills = Ledger(), Kills()
    start = time.monotonic()
    stop_at = start + SECONDS
    threads = [
        threading.Thread(target=_client, args=(i, servers.base, tokens[i], body, ledger, stop_at))
        for i in range(CLIENTS)
    ]
    threads.append(threading.Thread(target=_killer, args=(servers, start, kills)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load_ended = time.monotonic()

    # Recovery: a worker is alive again, the outbox drains, no task stays RUNNING.
    from django_tasks_db.models import DBTaskResult

    _wait(lambda: _children(servers.supervisor.pid), "the supervisor to restart the worker")
    _wait(
        lambda: not OutboxMessage.objects.filter(delivered_at__isnull=True).exists(),
        "the outbox to be delivered",
    )
    _wait(
        lambda: not DBTaskResult.objects.filter(status="RUNNING").exists(),
        "no task left running",
    )
    recovered_in = time.monotonic() - load_ended
    health = _wait(
        lambda: (h := _get(f"{servers.base}/healthz")) and h["status"] == "ok" and h,
        "/healthz to say ok",
    )

    keys = set(ledger.acknowledged)
    made = dict(
        IdempotencyKey.objects.filter(
            user=citizen, operation="dossiers.create", key__startswith="crash-"
        ).values_list("key", "result_id")
    )
    codes = dict(Dossier.objects.filter(pk__in=made.values()).values_list("pk", "code"))
    records = {key: codes[pk] for key, pk in made.items()}
    created = Dossier.objects.filter(applicant=citizen).count() - dossiers_before
    # Files of requests killed mid-transaction are settled by the sweep (their markers);
    # afterwards nothing is left either way.
    swept = _sweep(servers, remove=True)
    left = _sweep(servers, remove=False)
    files_without_row, rows_without_file = left["files_without_row"], left["rows_without_file"]
    lost_tasks = DBTaskResult.objects.filter(
        exception_class_path="tinhso.core.worker.WorkerLost"
    ).count()
    with capsys.disabled():
        print(
            f"\ncrash test: {CLIENTS} clients, {SECONDS:.0f} s, killed "
            f"{len(kills.gunicorn)} gunicorn workers and {len(kills.worker)} task workers\n"
            f"  {len(keys)} submissions acknowledged ({len(keys) / SECONDS:.1f}/s), "
            f"{ledger.attempts} requests, {ledger.retries} retries after a broken "
            f"connection or 5xx, {len(ledger.refused)} refused, {len(ledger.given_up)} given up\n"
            f"  {created} dossiers stored, {len(records)} idempotency records; "
            f"the sweep removed {len(swept['files_without_row'])} files of killed requests "
            f"and cleared {len(swept['markers_cleared'])} markers; then "
            f"{len(files_without_row)} files without a row, {len(rows_without_file)} rows "
            f"without a file; {lost_tasks} tasks recovered from killed workers\n"
            f"  outbox delivered and tasks settled {recovered_in:.1f} s after the load; "
            f"healthz: {health['status']}, "
            f"{Notification.objects.filter(sent_at__isnull=True).count()} notifications unsent"
        )

    assert len(kills.gunicorn) == GUNICORN_KILLS
    assert len(kills.worker) == WORKER_KILLS
    assert ledger.refused == []
    assert ledger.given_up == []
    assert keys, "no submission was acknowledged"
    # Acknowledged = stored, once: every key has its record, with the code it was answered;
    # a retried key was answered with one code only; no dossier without a record.
    assert {k: records.get(k) for k in keys} == ledger.acknowledged
    assert all(len(codes) == 1 for codes in ledger.codes_seen.values())
    assert created == len(records)
    assert len(set(records.values())) == len(records)
    assert DossierFile.objects.filter(dossier__code__in=records.values()).count() == len(records)
    assert files_without_row == []
    assert rows_without_file == []
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    assert audit_verify().ok
    assert len(_children(servers.gunicorn.pid)) == 2
