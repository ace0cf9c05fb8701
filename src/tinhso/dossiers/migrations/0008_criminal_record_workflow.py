from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.dossiers.workflow import CRIMINAL_RECORD

    apps.get_model("dossiers", "Workflow").objects.get_or_create(
        code="lltp-lien-thong",
        defaults={
            "name": "Cấp Phiếu lý lịch tư pháp, liên thông Công an tỉnh",
            "definition": CRIMINAL_RECORD,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0007_extension")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
