from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.agencies.services import province_seed


class Command(BaseCommand):
    help = (
        "Load a province's agencies: its People's Committee, departments, service centre and "
        "the People's Committee of every commune and ward (official post-2025 list)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", type=int, required=True, help="province code, e.g. 38")
        parser.add_argument(
            "--eid-root",
            help="level-1 code of Decision 20/2020 (e.g. H56) when it is not built in",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = province_seed(province_code=options["code"], eid_root=options["eid_root"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"{result.province.name}: {result.communes} communes and wards; "
            f"{result.created} agencies created, {result.updated} updated."
        )
        if not result.eid_root_known and not options["eid_root"]:
            self.stderr.write(
                f"Warning: the level-1 e-ID code of this province is not built in; the "
                f"provisional root {result.eid_root} was used. Re-run with --eid-root."
            )
