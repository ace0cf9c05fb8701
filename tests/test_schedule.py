"""The hourly chains (core.schedule) are scheduled once, however many app servers start at
the same moment (ADR 0027)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tinhso.core.schedule import chain_next, chain_start, schedule_lock_key
from tinhso.core.tasks import files_sweep
from tinhso.dossiers.deadlines import deadline_warnings
from tinhso.opendata.tasks import opendata_refresh
from tinhso.payments.tasks import payments_expire
from tinhso.signing.checkpoints import audit_checkpoint_hourly

CHAINS = [
    deadline_warnings,
    payments_expire,
    opendata_refresh,
    audit_checkpoint_hourly,
    files_sweep,
]
SERVERS = 6


@pytest.fixture
def db_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def runs(task: Any, status: str = "READY") -> int:
    return DBTaskResult.objects.filter(task_path=task.module_path, status=status).count()


@pytest.mark.django_db
@pytest.mark.usefixtures("db_tasks")
def test_starting_a_chain_again_does_not_double_it() -> None:
    assert chain_start(deadline_warnings) is True
    assert chain_start(deadline_warnings) is False
    assert runs(deadline_warnings) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("db_tasks")
def test_a_run_that_comes_back_twice_leaves_one_next_run() -> None:
    """A run recovered after its worker died may reach chain_next a second time."""
    chain_next(deadline_warnings)
    chain_next(deadline_warnings)
    later = DBTaskResult.objects.filter(
        task_path=deadline_warnings.module_path, status="READY",
        run_after__gt=timezone.now() + timedelta(minutes=59),
    )  # fmt: skip
    assert later.count() == 1


def test_every_chain_has_its_own_lock() -> None:
    keys = {schedule_lock_key(task.module_path) for task in CHAINS}
    assert len(keys) == len(CHAINS)
    assert all(-(2**63) <= key < 2**63 for key in keys)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrency")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("db_tasks")
def test_servers_starting_together_schedule_each_chain_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SERVERS app servers run every `--schedule` at the same moment. Between looking for
    a waiting run and enqueuing one, each waits 0.2 s: without the lock every one of them
    would find none and enqueue its own."""
    from tinhso.core import schedule

    looked = schedule._waiting

    def slow_look(*args: Any, **kwargs: Any) -> bool:
        found = looked(*args, **kwargs)
        time.sleep(0.2)
        return found

    monkeypatch.setattr(schedule, "_waiting", slow_look)
    barrier = threading.Barrier(SERVERS)

    def server_starts(_n: int) -> list[bool]:
        try:
            barrier.wait(timeout=30)
            return [chain_start(task) for task in CHAINS]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=SERVERS) as pool:
        started = list(pool.map(server_starts, range(SERVERS)))

    for index, task in enumerate(CHAINS):
        assert [s[index] for s in started].count(True) == 1, task.module_path
        assert runs(task) == 1, task.module_path
