"""`tinhso worker`: django-tasks-db's `db_worker` (same options) with a heartbeat, the
recovery of tasks that dead workers left running and the audit chain's sealer
(core.worker). `make run` runs it under
the supervisor (core.supervisor), which starts it again when it exits."""

from typing import Any

from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tinhso.core.worker import Heartbeat, Sealer


class HeartbeatWorker(Worker):
    """The django-tasks-db worker, telling its heartbeat which task it is running."""

    def __init__(self, *, heartbeat: Heartbeat, **options: Any) -> None:
        super().__init__(**options)
        self.heartbeat = heartbeat

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        self.heartbeat.task_id = str(db_task_result.id)
        self.heartbeat.task_path = db_task_result.task_path
        try:
            super().run_task(db_task_result)
        finally:
            self.heartbeat.task_id = self.heartbeat.task_path = ""


class Command(DbWorkerCommand):
    help = (
        "Run the background-task worker with a heartbeat; tasks left running by a dead "
        "worker are marked failed and enqueued again."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        # No auto-reload (the `--reload` option is accepted and ignored): a reloading parent
        # process would beat for a child it cannot see; the supervisor restarts instead.
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        heartbeat = Heartbeat(worker_id)
        worker = HeartbeatWorker(
            heartbeat=heartbeat,
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        sealer = Sealer()
        heartbeat.start()
        sealer.start()
        worker.configure_signals()
        try:
            worker.run()
        finally:
            sealer.stop()
            heartbeat.stop()
