"""Hourly work on the task worker: each task re-enqueues itself for the next hour; the
management commands' `--schedule` starts the chain once, however often the server
restarts, and however many app servers start at the same moment (ADR 0027).

Starting a chain is "look for a waiting or running run; enqueue one if there is none". Two
servers doing that at once would both find none and the chain would run twice every hour
from then on. So the look and the enqueue happen in one transaction that first takes a lock
named after the task: on PostgreSQL a transaction-level advisory lock (released at commit,
never left behind by a killed process), on SQLite the database's write lock, which every
write transaction takes when it begins (settings: transaction_mode IMMEDIATE). The second
server waits for the first one's commit and then finds its run.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from tinhso.core.cluster import database_now

HOURLY = timedelta(hours=1)


def schedule_lock_key(task_path: str) -> int:
    """The advisory-lock number of a chain: a signed 64-bit digest of its task path (the
    namespace prefix keeps it apart from other advisory locks)."""
    digest = hashlib.blake2b(f"tinhso.schedule:{task_path}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _chain_lock(task_path: str) -> None:
    """Serialise every start of the chain `task_path` until the current transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [schedule_lock_key(task_path)])


def _waiting(task_path: str, statuses: list[str], *, later_than: Any = None) -> bool:
    from django_tasks_db.models import DBTaskResult, get_date_max

    runs = DBTaskResult.objects.filter(task_path=task_path, status__in=statuses)
    if later_than is not None:
        # A run for later: django-tasks-db stores "as soon as possible" as the largest date.
        runs = runs.filter(run_after__gt=later_than, run_after__lt=get_date_max())
    return runs.exists()


def chain_start(task: Any) -> bool:
    """Enqueue `task` unless it is already waiting or running; True if it was enqueued.
    Safe to call from several servers at once: exactly one of them enqueues."""
    with transaction.atomic():
        _chain_lock(task.module_path)
        pending = _waiting(task.module_path, ["READY", "RUNNING"])
        if not pending:
            task.enqueue()
    return not pending


def chain_next(task: Any, every: timedelta = HOURLY) -> None:
    """From inside a run: come back after `every` (on backends that can wait), unless a
    later run is already waiting (a run recovered after its worker died may get here a
    second time: the chain must not fork)."""
    if not task.get_backend().supports_defer:
        return
    with transaction.atomic():
        _chain_lock(task.module_path)
        now = database_now()  # one clock for every server (core.cluster)
        if not _waiting(task.module_path, ["READY"], later_than=now):
            task.using(run_after=now + every).enqueue()


class HourlyChainCommand(BaseCommand):
    """A command that runs a module's hourly job once, or with `--schedule` enqueues its
    task chain on the worker (chain_start). A subclass names the `task`, the job to run
    once (`run_once`, returning how many things it did) and the two sentences it says."""

    task: Any = None
    scheduled: str = "Scheduled hourly on the task worker."
    done: str = "{n} done."

    def run_once(self) -> int:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule", action="store_true",
            help="enqueue the hourly task on the worker instead of running once",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            chain_start(self.task)
            self.stdout.write(self.scheduled)
            return
        self.stdout.write(self.done.format(n=self.run_once()))
