"""Workflows stored as data (in the spirit of DIGIT's BusinessService).

A workflow names its states, each mapped to a national dossier status (1–10), and its
actions: from which states, to which state, which role may take it, the share of the
statutory time the step gets, and whether the step belongs to another agency. It is
validated as a whole before it is saved: every state reachable from the start, a terminal
state reachable from every state, roles that exist, shares that add up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.accounts.models import Role
from tinhso.agencies.models import Agency
from tinhso.dossiers.models import Dossier, DossierStatus, Workflow

# The roles a workflow may name (dossiers.policy): the officials who handle dossiers.
# Accountants, data publishers, catalogue editors and administrators take no part in them.
WORKFLOW_ROLES = frozenset({Role.RECEIVER, Role.SPECIALIST, Role.LEADER, Role.CLERK})

WORKFLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["start", "states", "actions"],
    "additionalProperties": False,
    "properties": {
        "start": {"type": "string"},
        "states": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["name", "status"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z_]{2,32}$"},
                    "status": {"type": "integer", "minimum": 1, "maximum": 10},
                    "terminal": {"type": "boolean"},
                    "paused": {"type": "boolean", "description": "the clock stops here"},
                    "share": {"type": "number", "minimum": 0, "maximum": 1},
                    "inter_agency": {"type": "string", "description": "short name of the agency"},
                },
            },
        },
        "actions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "from", "to", "roles"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z_]{2,32}$"},
                    "from": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "to": {"type": "string"},
                    "roles": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "applicant": {"type": "boolean", "description": "the citizen may take it"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class State:
    name: str
    status: int
    terminal: bool = False
    paused: bool = False
    share: float = 0.0
    inter_agency: str = ""


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    applicant: bool = False


@dataclass(frozen=True)
class Graph:
    start: str
    states: dict[str, State]
    actions: dict[str, Action]

    def actions_from(self, state: str) -> list[Action]:
        return [a for a in self.actions.values() if state in a.sources]


def workflow_parse(definition: dict[str, Any]) -> Graph:
    """Validate a definition and return its graph; ValidationError lists every problem."""
    from jsonschema import Draft202012Validator

    problems = [
        f"{'.'.join(str(p) for p in e.absolute_path) or 'workflow'}: {e.message}"
        for e in Draft202012Validator(WORKFLOW_SCHEMA).iter_errors(definition)
    ]
    if problems:
        raise ValidationError(problems)
    states = {s["name"]: State(**s) for s in definition["states"]}
    actions: dict[str, Action] = {}
    for item in definition["actions"]:
        action = Action(
            name=item["name"], sources=tuple(item["from"]), target=item["to"],
            roles=tuple(item["roles"]), applicant=item.get("applicant", False),
        )  # fmt: skip
        if action.name in actions:
            problems.append(_("Action %(a)s is defined twice.") % {"a": action.name})
        actions[action.name] = action
        for name in (*action.sources, action.target):
            if name not in states:
                problems.append(
                    _("Action %(a)s refers to unknown state %(s)s.") % {"a": action.name, "s": name}
                )
        for role in action.roles:
            if role not in WORKFLOW_ROLES:
                problems.append(
                    _("Action %(a)s names role %(r)s, which cannot act on dossiers.")
                    % {"a": action.name, "r": role}
                )
    if definition["start"] not in states:
        problems.append(_("The start state %(s)s is not defined.") % {"s": definition["start"]})
    if len(states) != len(definition["states"]):
        problems.append(_("A state is defined twice."))
    if problems:
        raise ValidationError(problems)
    graph = Graph(start=definition["start"], states=states, actions=actions)
    problems += _reachability(graph)
    shares = sum(s.share for s in states.values())
    if shares and abs(shares - 1) > 1e-6:
        problems.append(
            _("The shares of the statutory time add up to %(total)s, not 1.")
            % {"total": round(shares, 3)}
        )
    if problems:
        raise ValidationError(problems)
    return graph


def _reachability(graph: Graph) -> list[str]:
    problems = []
    forward: dict[str, set[str]] = {name: set() for name in graph.states}
    for action in graph.actions.values():
        for source in action.sources:
            forward[source].add(action.target)
    seen, queue = {graph.start}, deque([graph.start])
    while queue:
        for nxt in forward[queue.popleft()] - seen:
            seen.add(nxt)
            queue.append(nxt)
    for name in graph.states:
        if name not in seen:
            problems.append(_("State %(s)s cannot be reached from the start.") % {"s": name})
    terminals = {n for n, s in graph.states.items() if s.terminal}
    if not terminals:
        problems.append(_("The workflow has no terminal state."))
    for name, state in graph.states.items():
        if state.terminal:
            if forward[name]:
                problems.append(_("Terminal state %(s)s has actions leaving it.") % {"s": name})
            continue
        reach, queue = {name}, deque([name])
        while queue:
            for nxt in forward[queue.popleft()] - reach:
                reach.add(nxt)
                queue.append(nxt)
        if not reach & terminals:
            problems.append(_("No terminal state can be reached from %(s)s.") % {"s": name})
    return problems


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


def action_label(name: str) -> str:
    return str(ACTION_LABELS.get(name, name))


# The standard one-stop workflow: receive → process → approve (the leader signs the result)
# → issue (the clerk adds the agency's seal) → return, with a supplement request that pauses
# the clock, payment, withdrawal and stopping.
STANDARD: dict[str, Any] = {
    "start": "new",
    "states": [
        {"name": "new", "status": DossierStatus.NEW},
        {"name": "supplement_intake", "status": DossierStatus.SUPPLEMENT_REQUESTED, "paused": True},
        {"name": "supplement_processing", "status": DossierStatus.SUPPLEMENT_REQUESTED,
         "paused": True},
        {"name": "refused", "status": DossierStatus.REFUSED, "terminal": True},
        {"name": "received", "status": DossierStatus.ACCEPTED, "share": 0.1},
        {"name": "processing", "status": DossierStatus.PROCESSING, "share": 0.6},
        {"name": "approving", "status": DossierStatus.PROCESSING, "share": 0.15},
        {"name": "issuing", "status": DossierStatus.PROCESSING, "share": 0.05},
        {"name": "payment", "status": DossierStatus.PAYMENT_REQUESTED, "paused": True},
        {"name": "finished", "status": DossierStatus.FINISHED, "share": 0.1},
        {"name": "returned", "status": DossierStatus.RETURNED, "terminal": True},
        {"name": "withdrawn", "status": DossierStatus.WITHDRAWN, "terminal": True},
        {"name": "stopped", "status": DossierStatus.STOPPED, "terminal": True},
    ],
    "actions": [
        {"name": "accept", "from": ["new"], "to": "received", "roles": ["receiver"]},
        {"name": "refuse", "from": ["new"], "to": "refused", "roles": ["receiver"]},
        {"name": "ask_supplement", "from": ["new"], "to": "supplement_intake",
         "roles": ["receiver"]},
        {"name": "supplement", "from": ["supplement_intake"], "to": "new",
         "roles": ["receiver"], "applicant": True},
        {"name": "ask_more", "from": ["processing"], "to": "supplement_processing",
         "roles": ["specialist"]},
        {"name": "supplemented", "from": ["supplement_processing"], "to": "processing",
         "roles": ["specialist"], "applicant": True},
        {"name": "assign", "from": ["received"], "to": "processing",
         "roles": ["receiver", "leader"]},
        {"name": "forward", "from": ["processing"], "to": "approving", "roles": ["specialist"]},
        {"name": "send_back", "from": ["approving"], "to": "processing", "roles": ["leader"]},
        {"name": "request_payment", "from": ["processing", "approving"], "to": "payment",
         "roles": ["specialist", "leader"]},
        {"name": "paid", "from": ["payment"], "to": "processing", "roles": ["specialist", "clerk"]},
        {"name": "approve", "from": ["approving"], "to": "issuing", "roles": ["leader"]},
        {"name": "issue", "from": ["issuing"], "to": "finished", "roles": ["clerk"]},
        {"name": "return_result", "from": ["finished"], "to": "returned", "roles": ["receiver"]},
        {"name": "withdraw", "from": ["new", "supplement_intake", "supplement_processing",
                                      "received", "processing", "approving", "payment"],
         "to": "withdrawn", "roles": ["receiver"], "applicant": True},
        {"name": "stop", "from": ["received", "processing", "approving", "issuing", "payment"],
         "to": "stopped", "roles": ["leader"]},
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
         "inter_agency": "CA"}
    )  # fmt: skip
    definition["actions"] += [
        {"name": "send_to_police", "from": ["processing"], "to": "police_check",
         "roles": ["specialist"]},
        {"name": "police_reply", "from": ["police_check"], "to": "processing",
         "roles": ["specialist"]},
    ]  # fmt: skip
    return definition


CRIMINAL_RECORD = _with_police_check(STANDARD)


_GRAPHS: dict[tuple[str, str], Graph] = {}


def inter_agency_agency(dossier: Dossier) -> Agency | None:
    """The agency that holds the dossier while it is in an inter-agency step, if it is."""
    graph = workflow_graph(dossier.procedure.workflow)
    state = graph.states.get(dossier.state or graph.start)
    if state is None or not state.inter_agency or dossier.receiving_agency is None:
        return None
    province = dossier.receiving_agency.path.split("/")[1]
    return (
        Agency.objects.filter(short_name=state.inter_agency, path__startswith=f"/{province}/")
        .exclude(level="commune")
        .first()
    )


def workflow_graph(code: str) -> Graph:
    """The parsed workflow of `code` (cached until the workflow is edited)."""
    row = Workflow.objects.filter(code=code).values_list("definition", "updated_at").first()
    if row is None:
        return workflow_parse(STANDARD)
    definition, updated = row
    key = (code, str(updated))
    if key not in _GRAPHS:
        _GRAPHS[key] = workflow_parse(definition)
    return _GRAPHS[key]
