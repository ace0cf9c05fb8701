"""Backfill: the rollups of the figures (dossiers 0018) from the dossiers' history, with
the payment figures that moved into them (dossiers 0022). Where the rollups were already
kept (dossiers 0019 ran before), only the bank payments and the payments officials
recorded so far are added; otherwise everything is rebuilt from the history."""

from django.db import migrations


def payment_rollups_backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.dossiers.models import DossierRollup
    from tinhso.dossiers.rollups import paid_otherwise_replay, rollups_apply, rollups_rebuild
    from tinhso.payments.figures import payments_rebuild

    if not DossierRollup.objects.exists():
        rollups_rebuild()
        return
    # From zero, so that migrating back and forth again does not count them twice.
    payment_rollups_reset(apps, schema_editor)
    changes = {}  # type: ignore[var-annotated]
    payments_rebuild(changes)
    paid_otherwise_replay(changes)
    rollups_apply(changes)


def payment_rollups_reset(apps, schema_editor):  # type: ignore[no-untyped-def]
    rollup = apps.get_model("dossiers", "DossierRollup")
    rollup.objects.update(paid_online=0, amount_collected=0, paid_otherwise=0)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_receipt_number"),
        ("dossiers", "0022_payment_rollups"),
    ]

    operations = [migrations.RunPython(payment_rollups_backfill, payment_rollups_reset)]
