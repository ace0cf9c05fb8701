from typing import Any

from django.core.management.base import BaseCommand

from tinhso.dossiers.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the dossier figures' daily rollups and the finished dossiers' outcomes "
        "from the dossiers' history (the events keep them; this repairs or backfills them)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = rollups_rebuild()
        self.stdout.write(f"{rows} rollup rows rebuilt.")
