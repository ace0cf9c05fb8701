from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.feedback.subject import STANDARD, WORKFLOW_CODE

    apps.get_model("cases", "Workflow").objects.get_or_create(
        code=WORKFLOW_CODE,
        defaults={
            "name": "Xử lý phản ánh, kiến nghị",
            "definition": STANDARD,
            "subject": "report",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("cases", "0002_declared_effects_and_boxes")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
