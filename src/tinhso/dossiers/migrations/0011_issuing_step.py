"""The clerk's step: a result the leader approved (and signed) is issued with the agency's
seal before it is finished. Rewrites the stored workflows whose `approve` led straight to the
finished state; the time share of the new step comes out of the approval step's."""

from django.db import migrations


def add_issuing(definition):  # type: ignore[no-untyped-def]
    states = {s["name"]: s for s in definition["states"]}
    approve = next((a for a in definition["actions"] if a["name"] == "approve"), None)
    if approve is None or "issuing" in states or approve["to"] not in states:
        return None
    finished = approve["to"]
    source = states.get(approve["from"][0], {})
    share = source.get("share", 0)
    if share:
        source["share"] = round(share - 0.05, 6)
    definition["states"].append(
        {"name": "issuing", "status": 4, **({"share": 0.05} if share else {})}
    )
    approve["to"] = "issuing"
    definition["actions"].append(
        {"name": "issue", "from": ["issuing"], "to": finished, "roles": ["clerk"]}
    )
    for action in definition["actions"]:
        if action["name"] == "stop" and "approving" in action["from"]:
            action["from"].append("issuing")
    return definition


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Workflow = apps.get_model("dossiers", "Workflow")
    for workflow in Workflow.objects.all():
        changed = add_issuing(workflow.definition)
        if changed is not None:
            workflow.definition = changed
            workflow.save(update_fields=["definition", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0010_signed_documents")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
