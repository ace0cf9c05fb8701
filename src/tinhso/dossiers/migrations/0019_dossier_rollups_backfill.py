"""Backfill: the outcome of every finished dossier and the daily rollups of the figures,
from the dossiers' history (dossiers.rollups.rollups_rebuild, which `tinhso
figures_rebuild` also runs). It reads only the columns these migrations know."""

from django.db import migrations


def rollups_backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.dossiers.rollups import rollups_rebuild

    rollups_rebuild()


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0018_dossier_outcomes_and_daily_rollups")]

    operations = [migrations.RunPython(rollups_backfill, migrations.RunPython.noop)]
