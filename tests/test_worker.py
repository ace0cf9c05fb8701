"""The background-task worker: its heartbeat, the recovery of tasks a dead worker left
running, the supervisor that starts it again, and what /healthz says about them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import processes
from tinhso.core.audit import audit_verify
from tinhso.core.models import AuditEntry, OutboxMessage, WorkerHeartbeat
from tinhso.core.schedule import chain_start
from tinhso.core.worker import WORKER_LOST, host_key, tasks_recover_stale
from tinhso.dossiers.deadlines import deadline_warnings

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def db_tasks(settings: Any) -> None:
    settings.TASKS = DB_TASKS


def beat(worker_id: str, *, ago: float = 0, key: str = "elsewhere|", pid: int = 1) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, host="h", host_key=key, pid=pid,
        started_at=now - timedelta(seconds=ago + 5), beat_at=now - timedelta(seconds=ago),
    )  # fmt: skip


def claimed(task: Any, worker_id: str, *, ago: float = 120) -> DBTaskResult:
    """A run of `task` that worker `worker_id` claimed `ago` seconds ago."""
    row = DBTaskResult.objects.get(pk=task.enqueue().id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(seconds=ago)
    )
    return row


def waiting(task: Any) -> int:
    return DBTaskResult.objects.filter(task_path=task.module_path, status="READY").count()


# --- recovering tasks a dead worker left running -------------------------------------------


@pytest.mark.django_db
def test_a_task_of_a_silent_worker_is_failed_visibly_and_the_hourly_chain_goes_on(
    db_tasks: None,
) -> None:
    beat("dead", ago=600)
    lost = claimed(deadline_warnings, "dead")
    # The stuck row is why chains stopped: chain_start sees a run "pending" and does nothing.
    assert chain_start(deadline_warnings) is False
    assert waiting(deadline_warnings) == 0

    [recovered] = tasks_recover_stale(by="test")

    lost.refresh_from_db()
    assert lost.status == "FAILED"
    assert lost.exception_class_path == WORKER_LOST
    assert "Worker dead stopped while running this task" in lost.traceback
    assert recovered.requeued_as is not None
    again = DBTaskResult.objects.get(pk=recovered.requeued_as)
    assert (again.status, again.task_path) == ("READY", deadline_warnings.module_path)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert entry.action == "task.recovered"
    assert entry.data["requeued_as"] == recovered.requeued_as
    assert audit_verify().ok
    assert tasks_recover_stale(by="test") == []  # once only


@pytest.mark.django_db
def test_a_chain_whose_next_run_is_already_waiting_is_not_doubled(db_tasks: None) -> None:
    beat("dead", ago=600)
    lost = claimed(deadline_warnings, "dead")
    deadline_warnings.enqueue()  # the run had enqueued the next hour before it died
    [recovered] = tasks_recover_stale(by="test")
    assert recovered.requeued_as is None
    assert DBTaskResult.objects.get(pk=lost.pk).status == "FAILED"
    assert waiting(deadline_warnings) == 1


@pytest.mark.django_db
def test_a_live_workers_long_task_is_left_alone(db_tasks: None) -> None:
    beat("alive", ago=2)
    busy = claimed(deadline_warnings, "alive", ago=3600)
    assert tasks_recover_stale(by="test") == []
    assert DBTaskResult.objects.get(pk=busy.pk).status == "RUNNING"


@pytest.mark.django_db
def test_a_task_of_a_worker_whose_process_is_gone_here_is_recovered_at_once(
    db_tasks: None,
) -> None:
    gone = subprocess.Popen(["true"])  # noqa: S607
    gone.wait()
    beat("killed", ago=0, key=host_key(), pid=gone.pid)
    lost = claimed(deadline_warnings, "killed", ago=1)
    [recovered] = tasks_recover_stale(by="test")
    assert recovered.task_id == str(lost.pk)
    assert DBTaskResult.objects.get(pk=lost.pk).status == "FAILED"


@pytest.mark.django_db
def test_on_this_host_the_process_decides_not_the_heartbeats_age(db_tasks: None) -> None:
    # A worker process alive here whose heartbeat lags (a long database lock): not dead.
    busy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "tinhso-worker"])
    # A dead worker's id now used by another program: dead.
    other = subprocess.Popen(["sleep", "120"])  # noqa: S607
    try:
        beat("lagging", ago=600, key=host_key(), pid=busy.pid)
        beat("reused", ago=1, key=host_key(), pid=other.pid)
        kept = claimed(deadline_warnings, "lagging")
        lost = claimed(deadline_warnings, "reused", ago=1)
        assert [r.task_id for r in tasks_recover_stale(by="test")] == [str(lost.pk)]
        assert DBTaskResult.objects.get(pk=kept.pk).status == "RUNNING"
    finally:
        busy.kill()
        other.kill()
        busy.wait()
        other.wait()


@pytest.mark.django_db
def test_a_task_claimed_by_a_worker_without_heartbeat_gets_the_same_grace(
    db_tasks: None,
) -> None:
    fresh = claimed(deadline_warnings, "plain-db-worker", ago=1)
    assert tasks_recover_stale(by="test") == []
    DBTaskResult.objects.filter(pk=fresh.pk).update(
        started_at=timezone.now() - timedelta(minutes=5)
    )
    assert [r.task_id for r in tasks_recover_stale(by="test")] == [str(fresh.pk)]


@pytest.mark.django_db
def test_messages_of_a_request_that_died_before_asking_for_delivery_are_sent(
    db_tasks: None,
) -> None:
    from tinhso.core.outbox import outbox_dispatch, outbox_nudge

    # Committed, but the process died before its on-commit hook enqueued a delivery run.
    OutboxMessage.objects.create(topic="t", available_at=timezone.now())
    assert waiting(outbox_dispatch) == 0
    assert outbox_nudge() is True
    assert waiting(outbox_dispatch) == 1
    assert outbox_nudge() is False  # one run is enough


# --- /healthz ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_says_degraded_while_no_worker_beats(client: Client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["problems"] == ["worker_silent"]
    assert body["worker"] == {"status": "silent", "alive": 0, "heartbeat_age_seconds": None}
    beat("gone", ago=3600)
    body = client.get("/healthz").json()
    assert body["worker"]["status"] == "silent"
    assert body["worker"]["heartbeat_age_seconds"] >= 3600


@pytest.mark.django_db
def test_healthz_reports_the_heartbeat_and_the_outbox_backlog(
    client: Client, settings: Any
) -> None:
    beat("w1", ago=3)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert body["worker"]["alive"] == 1
    assert 3 <= body["worker"]["heartbeat_age_seconds"] < settings.TINHSO_WORKER_STALE_SECONDS
    assert body["outbox"] == {
        "status": "ok", "undelivered": 0, "oldest_age_seconds": None, "gave_up": 0,
    }  # fmt: skip

    now = timezone.now()
    for minutes, attempts in [(40, 8), (1, 0)]:
        message = OutboxMessage.objects.create(topic="t", available_at=now, attempts=attempts)
        OutboxMessage.objects.filter(pk=message.pk).update(
            created_at=now - timedelta(minutes=minutes)
        )
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["problems"] == ["outbox_backlog"]
    assert body["outbox"]["undelivered"] == 2
    assert body["outbox"]["gave_up"] == 1
    assert body["outbox"]["oldest_age_seconds"] >= 40 * 60


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client: Client) -> None:
    with mock.patch("tinhso.core.views.connection.cursor", side_effect=OperationalError("down")):
        failing = client.get("/healthz")
    assert failing.status_code == 503
    assert failing.json()["database"] == "unavailable"


# --- the real processes: supervisor, worker, kill -9 --------------------------------------


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("needs Linux /proc to find the supervised process")
    return [int(child) for child in path.read_text().split()]


def wait_for(check: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll until `check()` is truthy (a generous bound: only a hang fails)."""
    return processes.wait_for(check, what, seconds, every=0.1)


@pytest.fixture
def supervised_worker(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": processes.database_url(),
        "SECRET_KEY": "test-only-not-a-secret",
        "TINHSO_DATA_DIR": str(tmp_path),
        "TINHSO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "TINHSO_WORKER_HEARTBEAT_SECONDS": "1",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "tinhso", "worker", "--queue-name", "*",
               "--no-startup-delay", "--interval", "0.2", "-v", "0"]  # fmt: skip
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "tinhso.core.supervisor", "--grace", "20", "--", *command],
        env=env,
        stderr=subprocess.PIPE,
    )
    yield supervisor
    if supervisor.poll() is None:
        supervisor.kill()
        for child in _children(supervisor.pid):
            os.kill(child, signal.SIGKILL)
        supervisor.wait()


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_restarted_and_its_task_runs_again(
    supervised_worker: subprocess.Popen[bytes], settings: Any, tmp_path: Path
) -> None:
    from worker_tasks import hold

    settings.TASKS = DB_TASKS
    supervisor = supervised_worker
    marker = tmp_path / f"held-{uuid.uuid4().hex}"
    first = hold.enqueue(str(marker))
    worker_pid = int(wait_for(marker.exists, "the task to start") and marker.read_text())
    assert _children(supervisor.pid) == [worker_pid]
    row = DBTaskResult.objects.get(pk=first.id)
    assert row.status == "RUNNING"
    # Its next heartbeat names the task it is running.
    beat_row = wait_for(
        lambda: WorkerHeartbeat.objects.filter(
            worker_id=row.worker_ids[-1], task_id=str(first.id)
        ).first(),
        "a heartbeat naming the task",
    )
    assert beat_row.pid == worker_pid

    os.kill(worker_pid, signal.SIGKILL)

    # The supervisor starts a new worker; it finds the dead one's task, fails it visibly
    # and runs it again.
    def recovered() -> bool:
        return DBTaskResult.objects.get(pk=first.id).status == "FAILED"

    wait_for(recovered, "the lost task to be recovered")
    lost = DBTaskResult.objects.get(pk=first.id)
    assert lost.exception_class_path == WORKER_LOST
    # Its audit entry was appended unsealed; the worker's sealer chains it (ADR 0025).
    recorded = AuditEntry.objects.get(action="task.recovered", object_id=str(first.id))
    sealed = wait_for(
        lambda: AuditEntry.objects.filter(pk=recorded.pk, seq__isnull=False).first(),
        "the worker's sealer to chain the audit entry",
    )
    assert sealed.hash is not None
    assert audit_verify().ok
    again = wait_for(
        lambda: (
            DBTaskResult.objects.filter(task_path=hold.module_path, status="SUCCESSFUL")
            .exclude(pk=first.id)
            .first()
        ),
        "the task to run again",
    )
    assert again.return_value == "finished on a later run"
    [new_pid] = _children(supervisor.pid)
    assert new_pid != worker_pid
    alive = WorkerHeartbeat.objects.get(pid=new_pid, stopped_at__isnull=True)
    assert alive.worker_id in again.worker_ids

    # Ctrl-C (SIGINT) stops the worker cleanly, then the supervisor.
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=60) == 0
    alive.refresh_from_db()
    assert alive.stopped_at is not None
    assert not Path(f"/proc/{new_pid}").exists()
    assert supervisor.stderr is not None
    log = supervisor.stderr.read().decode()
    assert f"pid {worker_pid} exited with -9" in log
    assert "restarting in" in log


def test_the_supervised_command_stops_when_the_supervisor_is_killed() -> None:
    """Even a SIGKILLed supervisor leaves no worker running unsupervised (Linux)."""
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "tinhso.core.supervisor", "--",
         sys.executable, "-c", "import time; time.sleep(600)"],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        [child] = wait_for(lambda: _children(supervisor.pid), "the command to start")
        supervisor.kill()
        supervisor.wait()
        wait_for(lambda: not _alive(child), "the command to stop")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_a_child_whose_supervisor_died_before_exec_stops_despite_the_inherited_handler() -> None:
    """The forked child still has the supervisor's SIGTERM handler, which only sets a flag;
    if the supervisor is already gone when the child looks, the child's SIGTERM to itself
    must end it, not be swallowed by that handler (the race CI once lost)."""
    child = subprocess.run(
        [sys.executable, "-c",
         "import os, signal, sys\n"
         "from tinhso.core.supervisor import _die_with\n"
         "signal.signal(signal.SIGTERM, lambda signum, frame: None)\n"
         "_die_with(os.getppid() + 1)\n"  # not the parent: it died and the child was adopted
         "sys.exit(0)\n"],
        timeout=60,
    )  # fmt: skip
    assert child.returncode == -signal.SIGTERM


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"
