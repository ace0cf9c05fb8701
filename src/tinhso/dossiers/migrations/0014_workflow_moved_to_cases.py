"""Workflows now belong to the platform layer (cases.Workflow, same table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0013_idempotency_records_to_core"), ("cases", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Workflow")], database_operations=[]
        )
    ]
