"""`tinhso boundaries_load FILE [--province]`: load the units' boundaries (GeoJSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.agencies.boundaries import boundaries_load


class Command(BaseCommand):
    help = "Load commune and ward boundaries (or, with --province, the province's outline)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="GeoJSON (.geojson or .geojson.gz)")
        parser.add_argument("--province", action="store_true", help="the file is the outline")
        parser.add_argument("--source", default="", help="where the boundaries come from")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = boundaries_load(
                options["file"], source=options["source"], province=options["province"]
            )
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{result.loaded} boundaries loaded")
        for name in result.unmatched:
            self.stderr.write(f"no commune named {name}")
