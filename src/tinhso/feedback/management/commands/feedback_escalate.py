from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.core.schedule import chain_start
from tinhso.feedback.escalation import escalate_overdue, feedback_escalate


class Command(BaseCommand):
    help = "Tell the leaders of each body about its overdue citizens' reports (once each)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule", action="store_true",
            help="enqueue the hourly task on the worker instead of running once",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            chain_start(feedback_escalate)
            self.stdout.write("Overdue reports escalated hourly on the task worker.")
            return
        self.stdout.write(f"{escalate_overdue()} reports escalated.")
