from django.db import migrations

FORWARD = {
    "name": "forward", "label": "Chuyển cơ quan khác", "from": ["new", "accepted"],
    "to": "new", "roles": ["feedback_receiver"], "note_required": True, "exceptional": True,
}  # fmt: skip


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    """The stored report workflow gains the action that forwards a report to another body
    (kept as it is if an administrator already defined one of that name)."""
    for workflow in apps.get_model("cases", "Workflow").objects.filter(subject="report"):
        actions = workflow.definition.get("actions", [])
        if any(a.get("name") == "forward" for a in actions):
            continue
        states = {s.get("name") for s in workflow.definition.get("states", [])}
        if not {"new", "accepted"} <= states:
            continue
        actions.append(FORWARD)
        workflow.save(update_fields=["definition"])


class Migration(migrations.Migration):
    dependencies = [("feedback", "0003_rollups")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
