"""Workflows move from dossiers to the platform layer: the model's state moves here, its
table (dossiers_workflow) and rows stay where they are."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("dossiers", "0011_issuing_step")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Workflow",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("code", models.SlugField(max_length=64, unique=True, verbose_name="code")),
                        ("name", models.CharField(max_length=255, verbose_name="name")),
                        ("definition", models.JSONField(verbose_name="definition")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "verbose_name": "workflow",
                        "verbose_name_plural": "workflows",
                        "db_table": "dossiers_workflow",
                    },
                )
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="workflow",
            name="subject",
            field=models.CharField(default="dossier", max_length=32, verbose_name="kind of case"),
        ),
    ]
