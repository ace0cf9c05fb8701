from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.dossiers.deadlines import deadline_warnings, deadline_warnings_send


class Command(BaseCommand):
    help = "Warn the responsible officials of dossiers due within one working day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule", action="store_true",
            help="enqueue the hourly task on the worker instead of running once",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            from django_tasks_db.models import DBTaskResult

            pending = DBTaskResult.objects.filter(
                task_path=deadline_warnings.module_path, status__in=["READY", "RUNNING"]
            ).exists()
            if not pending:  # one hourly chain, however often the server restarts
                deadline_warnings.enqueue()
            self.stdout.write("Deadline warnings scheduled on the task worker (hourly).")
            return
        self.stdout.write(f"{deadline_warnings_send()} dossiers warned.")
