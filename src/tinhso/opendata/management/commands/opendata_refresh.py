from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.core.schedule import chain_start
from tinhso.opendata.platform import platform_datasets_refresh
from tinhso.opendata.tasks import opendata_refresh


class Command(BaseCommand):
    help = "Regenerate the platform's own open datasets (once, or hourly on the task worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedule", action="store_true", help="hourly on the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            chain_start(opendata_refresh)
            self.stdout.write("Open-data refresh scheduled on the task worker (hourly).")
            return
        self.stdout.write(f"{platform_datasets_refresh()} platform resources refreshed.")
