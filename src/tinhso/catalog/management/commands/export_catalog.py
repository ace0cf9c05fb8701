from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.catalog.services import catalog_dump, catalog_export


class Command(BaseCommand):
    help = "Export the procedure catalogue (YAML by default, or JSON) to standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(catalog_dump(catalog_export(), options["format"]))
