from django.db import migrations


def create_calendar(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Every installation starts with the national calendar, editable in the admin; agencies
    # refer to it by code ("VN") unless they are given one of their own.
    apps.get_model("core", "WorkingCalendar").objects.get_or_create(
        code="VN", defaults={"name": "Lịch làm việc của cơ quan hành chính nhà nước"}
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0004_working_calendar")]
    operations = [migrations.RunPython(create_calendar, migrations.RunPython.noop)]
