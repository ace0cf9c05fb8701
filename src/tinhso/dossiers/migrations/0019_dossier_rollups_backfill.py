"""Backfill of the rollups from the dossiers' history: done by payments 0005, which runs
once every table the rebuild reads is there (the payments' too, since their figures moved
into the rollups). Kept, empty, for the migrations that depend on it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0018_dossier_outcomes_and_daily_rollups")]

    operations: list[migrations.operations.base.Operation] = []
