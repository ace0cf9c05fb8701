from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.catalog.services import CatalogError, catalog_import, catalog_load_file


class Command(BaseCommand):
    help = "Import the procedure catalogue from a YAML or JSON file (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = catalog_import(data=catalog_load_file(path))
        except CatalogError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was imported.") from exc
        self.stdout.write(
            f"Imported: {result.created} procedures created, {result.updated} updated, "
            f"{result.fields} fields."
        )
