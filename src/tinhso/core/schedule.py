"""Hourly work on the task worker: each task re-enqueues itself for the next hour; the
management commands' `--schedule` starts the chain once, however often the server
restarts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

HOURLY = timedelta(hours=1)


def chain_start(task: Any) -> bool:
    """Enqueue `task` unless it is already waiting or running; True if it was enqueued."""
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(
        task_path=task.module_path, status__in=["READY", "RUNNING"]
    ).exists()
    if not pending:
        task.enqueue()
    return not pending


def chain_next(task: Any, every: timedelta = HOURLY) -> None:
    """From inside a run: come back after `every` (on backends that can wait)."""
    if task.get_backend().supports_defer:
        task.using(run_after=timezone.now() + every).enqueue()
