from django.db import migrations


def create_standard(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.dossiers.workflow import STANDARD

    apps.get_model("dossiers", "Workflow").objects.get_or_create(
        code="standard",
        defaults={"name": "Quy trình một cửa chuẩn", "definition": STANDARD},
    )


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0002_workflow_state")]
    operations = [migrations.RunPython(create_standard, migrations.RunPython.noop)]
