import json
import sys
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.core.files import DEFAULT_GRACE_MINUTES, orphans_find
from tinhso.core.schedule import chain_start
from tinhso.core.tasks import files_sweep


class Command(BaseCommand):
    help = (
        "List stored files no row names and rows whose file is missing (exit 1 if any); "
        "--remove removes the files. --schedule sweeps hourly on the task worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--remove", action="store_true", help="remove files no row names, clear markers"
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=DEFAULT_GRACE_MINUTES,
            help="leave younger files alone: their transaction may still be running "
            f"(default {DEFAULT_GRACE_MINUTES})",
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--schedule", action="store_true", help="hourly on the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            chain_start(files_sweep)
            self.stdout.write("File store sweep scheduled on the task worker (hourly).")
            return
        if options["grace_minutes"] < 0:
            self.stderr.write("--grace-minutes cannot be negative.")
            sys.exit(2)
        report = orphans_find(grace_minutes=options["grace_minutes"], remove=options["remove"])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "files_without_row": report.files_without_row,
                        "rows_without_file": [asdict(m) for m in report.rows_without_file],
                        "markers_cleared": report.markers_cleared,
                        "in_grace": report.in_grace,
                        "removed": report.removed,
                        "grace_minutes": options["grace_minutes"],
                    },
                    default=str,
                    indent=2,
                )
            )
        else:
            self._print(report, options["grace_minutes"])
        if report.found:
            # Non-zero so that a cron job or a monitoring check can alert on it.
            sys.exit(1)

    def _print(self, report: Any, grace: int) -> None:
        done = " (removed)" if report.removed else ""
        self.stdout.write(f"Files no row names: {len(report.files_without_row)}{done}")
        for name in report.files_without_row:
            self.stdout.write(f"  {name}")
        self.stdout.write(f"Rows whose file is missing: {len(report.rows_without_file)}")
        for missing in report.rows_without_file:
            self.stdout.write(f"  {missing.model} #{missing.pk}: {missing.name}")
        if report.markers_cleared:
            verb = "cleared" if report.removed else "to clear (--remove)"
            self.stdout.write(f"Markers of settled files {verb}: {len(report.markers_cleared)}")
        if report.in_grace:
            self.stdout.write(f"Left alone, younger than {grace} minutes: {report.in_grace}")
