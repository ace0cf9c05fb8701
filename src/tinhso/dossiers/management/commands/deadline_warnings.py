from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.core.schedule import chain_start
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
            chain_start(deadline_warnings)
            self.stdout.write("Deadline warnings scheduled on the task worker (hourly).")
            return
        self.stdout.write(f"{deadline_warnings_send()} dossiers warned.")
