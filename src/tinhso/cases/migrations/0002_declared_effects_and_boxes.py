"""What the dossier workflows did by action and state names in code becomes data in their
definitions (cases.workflow): each action's effects, whether it needs a note, the role it
assigns, the trigger that takes it, whether it is exceptional; each state's inbox. Stored
workflows keep behaving exactly as before; nothing already declared is overwritten."""

from django.db import migrations

# The behaviour the code attached to these names before (dossiers/transitions.py, inbox.py).
EFFECTS = {
    "accept": ["form:BM01"],
    "ask_supplement": ["form:BM02"],
    "ask_more": ["form:BM02"],
    "refuse": ["payments.cancel", "form:BM03"],
    "withdraw": ["payments.cancel", "form:STOP"],
    "stop": ["payments.cancel", "form:STOP"],
    "approve": ["result.sign"],
    "issue": ["result.seal"],
    "request_payment": ["payment.request"],
}
BOXES = {
    "new": "tiep-nhan",
    "received": "xu-ly",
    "processing": "xu-ly",
    "approving": "phe-duyet",
    "issuing": "phat-hanh",
    "finished": "tra-ket-qua",
}
EXCEPTIONAL = {"withdraw", "stop", "request_payment"}


def declare(definition):  # type: ignore[no-untyped-def]
    for state in definition["states"]:
        box = "xu-ly" if state.get("inter_agency") else BOXES.get(state["name"])
        if box and "box" not in state:
            state["box"] = box
    for action in definition["actions"]:
        name = action["name"]
        if name in EFFECTS and "effects" not in action:
            action["effects"] = list(EFFECTS[name])
        if name == "refuse":
            action.setdefault("note_required", True)
        if name == "assign":
            action.setdefault("assigns", "specialist")
        if name == "paid":
            action.setdefault("trigger", "payment.paid")
        if name in EXCEPTIONAL:
            action.setdefault("exceptional", True)
    return definition


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Workflow = apps.get_model("cases", "Workflow")
    for workflow in Workflow.objects.all():
        workflow.definition = declare(workflow.definition)
        workflow.save(update_fields=["definition", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("dossiers", "0014_workflow_moved_to_cases")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
