from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.core.demo import demo_is_empty, demo_seed


class Command(BaseCommand):
    help = "Load the demo province (agencies, officials, citizens). Adds only what is missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database has data"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and not demo_is_empty():
            self.stdout.write("Database already has data: demo not loaded.")
            return
        result = demo_seed()
        self.stdout.write(
            f"Demo province ready: {result.agencies_created} agencies and "
            f"{result.accounts_created} accounts created."
        )
