"""The dossiers' workflows as data (cases.workflow reads and checks them), and the names of
their actions.

A dossier workflow maps its states to the national dossier status codes (1–10), names the
inbox a dossier waits in, and declares what each action does besides moving it: the forms
of Circular 03/2025/TT-VPCP it issues (`form:BM01` …, dossiers.effects), the result the
leader signs (`result.sign`) and the clerk seals (`result.seal`), the fee it asks for
(`payment.request`) or cancels (`payments.cancel`, payments.effects), the bank's notice
that takes it (`"trigger": "payment.paid"`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy, pgettext_lazy

from tinhso.accounts.roles import CLERK, LEADER, RECEIVER, SPECIALIST
from tinhso.agencies.models import Agency
from tinhso.dossiers.models import Dossier, DossierEvent, DossierStatus

# The roles a dossier workflow may name (dossiers.policy): the officials who handle
# dossiers. Accountants, data publishers, catalogue editors and administrators take no part.
WORKFLOW_ROLES = frozenset({RECEIVER, SPECIALIST, LEADER, CLERK})


ACTION_LABELS = {
    "accept": gettext_lazy("Accept"),
    "refuse": gettext_lazy("Refuse"),
    "ask_supplement": gettext_lazy("Ask for more papers"),
    "supplement": gettext_lazy("Papers supplemented"),
    "ask_more": gettext_lazy("Ask for more papers"),
    "supplemented": gettext_lazy("Papers supplemented"),
    "assign": gettext_lazy("Assign to a specialist"),
    "forward": gettext_lazy("Forward to the leader"),
    "send_back": gettext_lazy("Send back to the specialist"),
    "request_payment": gettext_lazy("Ask for payment"),
    "paid": gettext_lazy("Payment received"),
    "approve": gettext_lazy("Approve and sign"),
    "issue": gettext_lazy("Issue the result (agency seal)"),
    "return_result": gettext_lazy("Return the result"),
    "withdraw": gettext_lazy("Withdraw"),
    "stop": gettext_lazy("Stop processing"),
    "send_to_police": gettext_lazy("Send to the provincial police to verify"),
    "police_reply": gettext_lazy("Verified: send back"),
}


# How the history names a step once taken (the citizen's and the official's pages).
HISTORY_LABELS = {
    "submit": pgettext_lazy("history", "Submitted"),
    "accept": pgettext_lazy("history", "Received"),
    "refuse": pgettext_lazy("history", "Refused"),
    "ask_supplement": pgettext_lazy("history", "More papers asked for"),
    "ask_more": pgettext_lazy("history", "More papers asked for"),
    "supplement": pgettext_lazy("history", "Papers supplemented"),
    "supplemented": pgettext_lazy("history", "Papers supplemented"),
    "assign": pgettext_lazy("history", "Assigned"),
    "forward": pgettext_lazy("history", "Forwarded to the leader"),
    "send_back": pgettext_lazy("history", "Sent back to the specialist"),
    "request_payment": pgettext_lazy("history", "Payment asked for"),
    "paid": pgettext_lazy("history", "Payment received"),
    "approve": pgettext_lazy("history", "Approved and signed"),
    "issue": pgettext_lazy("history", "Result issued with the agency's seal"),
    "return_result": pgettext_lazy("history", "Result returned"),
    "withdraw": pgettext_lazy("history", "Withdrawn"),
    "stop": pgettext_lazy("history", "Processing stopped"),
    "send_to_police": pgettext_lazy("history", "Sent to the provincial police to verify"),
    "police_reply": pgettext_lazy("history", "Verified by the provincial police"),
}


def history_label(event: DossierEvent, *, assignee_named: bool = True) -> str:
    """What the history says of a step: its name once taken (with whom it was assigned to),
    else the status it led to."""
    label = HISTORY_LABELS.get(event.action)
    if label is None:
        return str(event.get_to_status_display())
    assignee = event.assignee if assignee_named else None
    if assignee is not None:
        return str(
            gettext_lazy("%(step)s to %(name)s")
            % {"step": label, "name": assignee.full_name or assignee.username}
        )
    return str(label)


def action_label(name: str, label: str = "") -> str:
    """An action's label: the workflow's own, else the known names', else the name."""
    return label or str(ACTION_LABELS.get(name, name))


# The standard one-stop workflow: receive → process → approve (the leader signs the result)
# → issue (the clerk adds the agency's seal) → return, with a supplement request that pauses
# the clock, payment, withdrawal and stopping.
STANDARD: dict[str, Any] = {
    "start": "new",
    "states": [
        {"name": "new", "status": DossierStatus.NEW, "box": "tiep-nhan"},
        {"name": "supplement_intake", "status": DossierStatus.SUPPLEMENT_REQUESTED, "paused": True},
        {"name": "supplement_processing", "status": DossierStatus.SUPPLEMENT_REQUESTED,
         "paused": True},
        {"name": "refused", "status": DossierStatus.REFUSED, "terminal": True},
        {"name": "received", "status": DossierStatus.ACCEPTED, "share": 0.1, "box": "xu-ly"},
        {"name": "processing", "status": DossierStatus.PROCESSING, "share": 0.6, "box": "xu-ly"},
        {"name": "approving", "status": DossierStatus.PROCESSING, "share": 0.15,
         "box": "phe-duyet"},
        {"name": "issuing", "status": DossierStatus.PROCESSING, "share": 0.05,
         "box": "phat-hanh"},
        {"name": "payment", "status": DossierStatus.PAYMENT_REQUESTED, "paused": True},
        {"name": "finished", "status": DossierStatus.FINISHED, "share": 0.1,
         "box": "tra-ket-qua"},
        {"name": "returned", "status": DossierStatus.RETURNED, "terminal": True},
        {"name": "withdrawn", "status": DossierStatus.WITHDRAWN, "terminal": True},
        {"name": "stopped", "status": DossierStatus.STOPPED, "terminal": True},
    ],
    "actions": [
        {"name": "accept", "from": ["new"], "to": "received", "roles": ["receiver"],
         "effects": ["form:BM01"]},
        {"name": "refuse", "from": ["new"], "to": "refused", "roles": ["receiver"],
         "note_required": True, "effects": ["payments.cancel", "form:BM03"]},
        {"name": "ask_supplement", "from": ["new"], "to": "supplement_intake",
         "roles": ["receiver"], "effects": ["form:BM02"]},
        {"name": "supplement", "from": ["supplement_intake"], "to": "new",
         "roles": ["receiver"], "applicant": True},
        {"name": "ask_more", "from": ["processing"], "to": "supplement_processing",
         "roles": ["specialist"], "effects": ["form:BM02"]},
        {"name": "supplemented", "from": ["supplement_processing"], "to": "processing",
         "roles": ["specialist"], "applicant": True},
        {"name": "assign", "from": ["received"], "to": "processing",
         "roles": ["receiver", "leader"], "assigns": "specialist"},
        {"name": "forward", "from": ["processing"], "to": "approving", "roles": ["specialist"]},
        {"name": "send_back", "from": ["approving"], "to": "processing", "roles": ["leader"]},
        {"name": "request_payment", "from": ["processing", "approving"], "to": "payment",
         "roles": ["specialist", "leader"], "effects": ["payment.request"], "exceptional": True},
        {"name": "paid", "from": ["payment"], "to": "processing", "roles": ["specialist", "clerk"],
         "trigger": "payment.paid"},
        {"name": "approve", "from": ["approving"], "to": "issuing", "roles": ["leader"],
         "effects": ["result.sign"]},
        {"name": "issue", "from": ["issuing"], "to": "finished", "roles": ["clerk"],
         "effects": ["result.seal"]},
        {"name": "return_result", "from": ["finished"], "to": "returned", "roles": ["receiver"]},
        {"name": "withdraw", "from": ["new", "supplement_intake", "supplement_processing",
                                      "received", "processing", "approving", "payment"],
         "to": "withdrawn", "roles": ["receiver"], "applicant": True, "exceptional": True,
         "effects": ["payments.cancel", "form:STOP"]},
        {"name": "stop", "from": ["received", "processing", "approving", "issuing", "payment"],
         "to": "stopped", "roles": ["leader"], "exceptional": True,
         "effects": ["payments.cancel", "form:STOP"]},
    ],
}  # fmt: skip


def _with_police_check(base: dict[str, Any]) -> dict[str, Any]:
    """The standard workflow plus an inter-agency step: the department sends the dossier to
    the provincial police (CA) to verify criminal records, and the police send it back."""
    import copy

    definition = copy.deepcopy(base)
    shares = {"received": 0.1, "processing": 0.4, "approving": 0.15, "issuing": 0.05,
              "finished": 0.1}  # fmt: skip
    for state in definition["states"]:
        if state["name"] in shares:
            state["share"] = shares[state["name"]]
    definition["states"].append(
        {"name": "police_check", "status": DossierStatus.PROCESSING, "share": 0.2,
         "inter_agency": "CA", "box": "xu-ly"}
    )  # fmt: skip
    definition["actions"] += [
        {"name": "send_to_police", "from": ["processing"], "to": "police_check",
         "roles": ["specialist"]},
        {"name": "police_reply", "from": ["police_check"], "to": "processing",
         "roles": ["specialist"]},
    ]  # fmt: skip
    return definition


CRIMINAL_RECORD = _with_police_check(STANDARD)


def inter_agency_agency(dossier: Dossier) -> Agency | None:
    """The agency that holds the dossier while it is in an inter-agency step, if it is."""
    from tinhso.cases.transitions import graph_of

    graph = graph_of(dossier)
    state = graph.states.get(dossier.state or graph.start)
    if state is None or not state.inter_agency or dossier.receiving_agency is None:
        return None
    province = dossier.receiving_agency.path.split("/")[1]
    return (
        Agency.objects.filter(short_name=state.inter_agency, path__startswith=f"/{province}/")
        .exclude(level="commune")
        .first()
    )
