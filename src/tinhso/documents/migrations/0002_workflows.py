from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.documents.subject import INCOMING, INCOMING_WORKFLOW, OUTGOING, OUTGOING_WORKFLOW

    workflows = apps.get_model("cases", "Workflow").objects
    workflows.get_or_create(
        code=OUTGOING_WORKFLOW,
        defaults={"name": "Văn bản đi", "definition": OUTGOING, "subject": "outgoing_document"},
    )
    workflows.get_or_create(
        code=INCOMING_WORKFLOW,
        defaults={"name": "Văn bản đến", "definition": INCOMING, "subject": "incoming_document"},
    )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial"), ("cases", "0002_declared_effects_and_boxes")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
