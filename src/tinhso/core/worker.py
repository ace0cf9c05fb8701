"""The background-task worker's heartbeat, and the recovery of tasks a dead worker left
running.

django-tasks-db marks a task RUNNING when a worker claims it (`DBTaskResult.claim` appends
the worker's id to `worker_ids`) and SUCCESSFUL or FAILED when the worker finishes it. A
worker killed in between (`kill -9`, out of memory, a lost machine) leaves the row RUNNING
for ever, and the hourly chains (core.schedule) then stop: `chain_start` sees a run
"pending" and never enqueues again. django-tasks-db has no heartbeat of its own, so
`tinhso worker` (management/commands/worker.py) runs its worker with one:

* every TINHSO_WORKER_HEARTBEAT_SECONDS a thread updates the worker's `WorkerHeartbeat`
  row (and the task it is running);
* a worker is dead when it said it stopped, when it ran on this machine and its process is
  gone, or when it ran elsewhere and its heartbeat is older than
  TINHSO_WORKER_STALE_SECONDS;
* every live worker, at start and on each heartbeat, looks for RUNNING tasks whose worker
  is dead: each is marked FAILED with `WorkerLost` (visible in the admin's task results)
  and enqueued again unless an identical run is already waiting (so a chain that had
  already enqueued its next run is not doubled). Every recovery is audited;
* on each heartbeat it also asks for an outbox delivery run when messages are due and
  none is queued (core.outbox.outbox_nudge: a web request killed between its commit and
  its on-commit hook never asked for one);
* every TINHSO_AUDIT_SEAL_SECONDS its sealer thread chains the audit entries committed
  since (core.audit.audit_seal, ADR 0025); when another worker's sealer holds the chain's
  head, this one skips the run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.utils import timezone

from tinhso.core.documents import documents_nudge
from tinhso.core.models import WorkerHeartbeat
from tinhso.core.outbox import outbox_nudge

log = logging.getLogger(__name__)

RUNNING, READY, FAILED = "RUNNING", "READY", "FAILED"
# Heartbeat rows of workers gone for longer than this are removed when a worker starts.
KEEP_GONE_WORKERS = timedelta(days=1)


class WorkerLost(Exception):  # noqa: N818 (the name is what an operator reads in a task row)
    """The worker running a task died before finishing it (recorded as the task's error)."""


WORKER_LOST = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


def host_key() -> str:
    """Where a process id means something: the host name and, on Linux, the PID namespace
    (two containers may share a host name but never a PID namespace)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}|{namespace}"[:320]


def _process_gone(pid: int) -> bool:
    """Whether no worker process has this id on this host any more."""
    if pid == os.getpid():
        return True  # our own id now: the worker that had it has ended
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # no /proc (not Linux): alive as far as we can tell
    # Empty for a zombie not yet reaped; another program when the id was reused.
    return b"worker" not in command


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.TINHSO_WORKER_STALE_SECONDS)


def worker_is_dead(beat: WorkerHeartbeat, *, now: datetime, here: str | None = None) -> bool:
    """Whether the worker of this heartbeat can no longer be running anything: it said it
    stopped; or it ran on this host and its process is gone (known at once, whatever its
    heartbeat: a live process whose heartbeat lags behind a long database lock is not
    dead); or, on another host, its heartbeat is older than TINHSO_WORKER_STALE_SECONDS."""
    if beat.stopped_at is not None:
        return True
    if beat.host_key == (here or host_key()):
        return _process_gone(beat.pid)
    return beat.beat_at < now - _stale_after()


@dataclass(frozen=True)
class Recovered:
    """A task a dead worker left running: marked failed, and enqueued again (its new id)
    unless the same run was already waiting."""

    task_id: str
    task_path: str
    worker_id: str
    requeued_as: str | None


def _waiting_copy(row: Any) -> bool:
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=row.task_path, backend_name=row.backend_name, status=READY
    ).values_list("args_kwargs", flat=True)
    return any(args == row.args_kwargs for args in waiting)


def _requeue(row: Any) -> str | None:
    from django.core.exceptions import SuspiciousOperation

    try:
        task = row.task
    except (ImportError, SuspiciousOperation):
        return None  # the task's code is gone: it stays failed
    result = task.enqueue(*row.args_kwargs.get("args", []), **row.args_kwargs.get("kwargs", {}))
    return str(result.id)


def tasks_recover_stale(*, by: str = "", now: datetime | None = None) -> list[Recovered]:
    """Mark the RUNNING tasks of dead workers FAILED (`WorkerLost`) and enqueue each again
    unless an identical run is waiting. Safe to run in several workers at once: a task is
    taken over by one conditional UPDATE, so only one of them recovers it."""
    from django_tasks_db.models import DBTaskResult

    from tinhso.core.audit import audit_record

    now = now or timezone.now()
    running = list(DBTaskResult.objects.filter(status=RUNNING).values_list("id", "worker_ids"))
    if not running:
        return []
    last_worker = {task_id: (workers[-1] if workers else "") for task_id, workers in running}
    beats = {
        beat.worker_id: beat
        for beat in WorkerHeartbeat.objects.filter(worker_id__in=set(last_worker.values()))
    }
    here = host_key()
    recovered = []
    for task_id, worker in last_worker.items():
        beat = beats.get(worker)
        if beat is not None and not worker_is_dead(beat, now=now, here=here):
            continue
        if (
            beat is None
            and DBTaskResult.objects.filter(
                pk=task_id, started_at__gt=now - _stale_after()
            ).exists()
        ):
            # A worker without a heartbeat row (a plain `db_worker`): give it the same grace.
            continue
        reason = (
            f"Worker {worker or '?'} stopped while running this task "
            + (f"(last heartbeat {beat.beat_at.isoformat()})" if beat else "(no heartbeat)")
            + f"; recovered by {by or 'tinhso'} at {now.isoformat()}."
        )
        with transaction.atomic():
            taken = DBTaskResult.objects.filter(pk=task_id, status=RUNNING).update(
                status=FAILED,
                finished_at=now,
                return_value=None,
                exception_class_path=WORKER_LOST,
                traceback=f"{WORKER_LOST}: {reason}\n",
            )
            if not taken:
                continue  # finished meanwhile, or another worker recovered it
            row = DBTaskResult.objects.get(pk=task_id)
            requeued = None if _waiting_copy(row) else _requeue(row)
            audit_record(
                actor=None,
                action="task.recovered",
                object_type="django_tasks_db.dbtaskresult",
                object_id=str(task_id),
                data={"task": row.task_path, "worker": worker, "requeued_as": requeued},
            )
        log.warning(
            "task %s (%s) of dead worker %s marked failed; %s",
            task_id,
            row.task_path,
            worker or "?",
            f"enqueued again as {requeued}" if requeued else "an identical run was waiting",
        )
        recovered.append(Recovered(str(task_id), row.task_path, worker, requeued))
    return recovered


class Heartbeat:
    """The heartbeat of one worker process: its row, a thread that refreshes it (and
    recovers other workers' lost tasks), and the task the worker is running."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.task_id = ""
        self.task_path = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)

    def start(self) -> None:
        """Register (before claiming any task, so nobody takes this worker's tasks for
        lost), recover what dead workers left and undelivered messages, then beat in the
        background."""
        now = timezone.now()
        WorkerHeartbeat.objects.filter(beat_at__lt=now - KEEP_GONE_WORKERS).delete()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "host": socket.gethostname()[:255],
                "host_key": host_key(),
                "pid": os.getpid(),
                "started_at": now,
                "beat_at": now,
                "stopped_at": None,
            },
        )
        tasks_recover_stale(by=self.worker_id)
        outbox_nudge()
        documents_nudge()
        self._thread.start()

    def beat(self) -> None:
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
            beat_at=timezone.now(), task_id=self.task_id, task_path=self.task_path[:255]
        )

    def _loop(self) -> None:
        interval = max(1, settings.TINHSO_WORKER_HEARTBEAT_SECONDS)
        try:
            while not self._stop.wait(interval):
                close_old_connections()
                try:
                    self.beat()
                    tasks_recover_stale(by=self.worker_id)
                    outbox_nudge()
                    documents_nudge()
                except DatabaseError as exc:
                    # The database is away: the next beat tries again.
                    log.warning("worker %s: heartbeat not written: %s", self.worker_id, exc)
        finally:
            connections.close_all()

    def stop(self) -> None:
        """Stop beating and record that this worker ended (its tasks are finished: the
        worker waits for the running one before it exits)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(5, settings.TINHSO_WORKER_HEARTBEAT_SECONDS))
        with contextlib.suppress(DatabaseError):
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
                stopped_at=timezone.now(), task_id="", task_path=""
            )


class Sealer:
    """The thread that seals the audit chain every TINHSO_AUDIT_SEAL_SECONDS, off the
    request path (ADR 0025)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="audit-sealer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        from tinhso.core.audit import audit_seal

        interval = max(0.05, settings.TINHSO_AUDIT_SEAL_SECONDS)
        refused = None
        try:
            while not self._stop.wait(interval):
                close_old_connections()
                try:
                    result = audit_seal(wait=False)
                except DatabaseError as exc:
                    log.warning("audit sealer: %s", exc)
                    continue
                if result.refused != refused and result.refused is not None:
                    log.error("audit entries not sealed: %s", result.refused)
                refused = result.refused
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


@dataclass(frozen=True)
class WorkerStatus:
    """What /healthz says of the workers: how many are alive, and the age of the newest
    heartbeat (None when no worker has ever beaten)."""

    alive: int
    heartbeat_age: float | None

    @property
    def ok(self) -> bool:
        return self.alive > 0


def worker_status(*, now: datetime | None = None) -> WorkerStatus:
    now = now or timezone.now()
    newest = (
        WorkerHeartbeat.objects.filter(stopped_at__isnull=True)
        .order_by("-beat_at")
        .values_list("beat_at", flat=True)
        .first()
    )
    alive = WorkerHeartbeat.objects.filter(
        stopped_at__isnull=True, beat_at__gte=now - _stale_after()
    ).count()
    age = None if newest is None else max(0.0, (now - newest).total_seconds())
    return WorkerStatus(alive=alive, heartbeat_age=age)
