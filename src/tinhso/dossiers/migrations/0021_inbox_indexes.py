"""The department inboxes' indexes (cases.inbox), built without blocking writes on
PostgreSQL (CONCURRENTLY: hence not atomic)."""

from django.conf import settings
from django.db import migrations, models

from tinhso.core.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("agencies", "0001_initial"),
        ("catalog", "0004_result_template"),
        ("dossiers", "0020_result_number"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name="dossier",
            index=models.Index(
                fields=["procedure", "state", "due_at"],
                include=("submitted_at", "assignee", "status", "id"),
                name="dossier_procedure_state",
            ),
        ),
        AddIndexOnline(
            model_name="dossier",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", 0), _negated=True),
                    models.Q(("status__in", [3, 7, 8, 9, 10]), _negated=True),
                    ("paused_at__isnull", True),
                ),
                fields=["receiving_agency", "due_at"],
                include=("submitted_at", "id"),
                name="dossier_open_agency",
            ),
        ),
        AddIndexOnline(
            model_name="dossier",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", 0), _negated=True),
                    models.Q(("status__in", [3, 7, 8, 9, 10]), _negated=True),
                    ("paused_at__isnull", True),
                ),
                fields=["procedure", "due_at"],
                include=("submitted_at", "id"),
                name="dossier_open_proc",
            ),
        ),
        AddIndexOnline(
            model_name="dossier",
            index=models.Index(
                condition=models.Q(("paused_at__isnull", False)),
                fields=["receiving_agency"],
                name="dossier_paused_agency",
            ),
        ),
        AddIndexOnline(
            model_name="dossier",
            index=models.Index(
                condition=models.Q(("paused_at__isnull", False)),
                fields=["procedure"],
                name="dossier_paused_proc",
            ),
        ),
    ]
