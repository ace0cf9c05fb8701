from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tinhso.products.subject import (
        APPLICATION,
        APPLICATION_WORKFLOW,
        SIGNAL,
        SIGNAL_WORKFLOW,
    )

    workflows = apps.get_model("cases", "Workflow").objects
    workflows.get_or_create(
        code=APPLICATION_WORKFLOW,
        defaults={"name": "Đánh giá, phân hạng sản phẩm OCOP", "definition": APPLICATION,
                  "subject": "ocop_application"},
    )  # fmt: skip
    workflows.get_or_create(
        code=SIGNAL_WORKFLOW,
        defaults={"name": "Xử lý cảnh báo tem truy xuất", "definition": SIGNAL,
                  "subject": "stamp_signal"},
    )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial"), ("cases", "0002_declared_effects_and_boxes")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
