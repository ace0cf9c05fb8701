"""Workflows stored as data (in the spirit of DIGIT's BusinessService), for any subject type.

A workflow names its states and its actions:

* a state maps to one of the subject's status codes; it may be `terminal`, `paused` (the
  clock stops there), own a `share` of the statutory time, belong to another agency
  (`inter_agency`: that agency's short name), and name the `box` (inbox) a case waiting
  there shows in;
* an action leaves some states (`from`) for one (`to`); the `roles` that may take it (in an
  agency handling the case), whether the `applicant` may; the `effects` it has (issued
  forms, a payment asked, a result signed: cases.effects); whether it needs a `note`;
  which role it `assigns` the case to; the `trigger` that takes it when something happens
  outside (`payment.paid`); and whether it is `exceptional` (withdraw, stop: it does not
  put the case in the box of the roles that may take it).

Inboxes are derived from it (cases.inbox): a case waiting in a state is in that state's box
for the officials holding a role of one of its non-exceptional actions.

A definition is validated as a whole before it is saved: every state reachable from the
start, a terminal state reachable from every state, statuses and roles the subject type
knows, effects some module provides, shares that add up.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tinhso.cases.graph import Action, Graph, State

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
                    "status": {"type": "integer", "minimum": 0, "maximum": 99},
                    "terminal": {"type": "boolean"},
                    "paused": {"type": "boolean", "description": "the clock stops here"},
                    "share": {"type": "number", "minimum": 0, "maximum": 1},
                    "inter_agency": {"type": "string", "description": "short name of the agency"},
                    "box": {"type": "string", "description": "the inbox a case waits in here"},
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
                    "label": {"type": "string", "maxLength": 64},
                    "from": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "to": {"type": "string"},
                    "roles": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "applicant": {"type": "boolean", "description": "the applicant may take it"},
                    "effects": {"type": "array", "items": {"type": "string", "minLength": 2}},
                    "note_required": {"type": "boolean"},
                    "assigns": {"type": "string", "description": "the role it assigns to"},
                    "trigger": {"type": "string", "description": "taken when this happens"},
                    "exceptional": {"type": "boolean"},
                },
            },
        },
    },
}


def workflow_parse(definition: dict[str, Any], subject: str | None = None) -> Graph:
    """Validate a definition (against its subject type when named) and return its graph;
    ValidationError lists every problem."""
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
            effects=tuple(item.get("effects", ())),
            note_required=item.get("note_required", False), assigns=item.get("assigns", ""),
            trigger=item.get("trigger", ""), exceptional=item.get("exceptional", False),
            label=item.get("label", ""),
        )  # fmt: skip
        if action.name in actions:
            problems.append(_("Action %(a)s is defined twice.") % {"a": action.name})
        actions[action.name] = action
        for name in (*action.sources, action.target):
            if name not in states:
                problems.append(
                    _("Action %(a)s refers to unknown state %(s)s.") % {"a": action.name, "s": name}
                )
    if definition["start"] not in states:
        problems.append(_("The start state %(s)s is not defined.") % {"s": definition["start"]})
    if len(states) != len(definition["states"]):
        problems.append(_("A state is defined twice."))
    if subject is not None:
        problems += _subject_problems(subject, states, actions)
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
    for state in states.values():
        triggers = [a.trigger for a in graph.actions_from(state.name) if a.trigger]
        if len(triggers) != len(set(triggers)):
            problems.append(
                _("Two actions leaving %(s)s answer the same trigger.") % {"s": state.name}
            )
    if problems:
        raise ValidationError(problems)
    return graph


def _subject_problems(code: str, states: dict[str, State], actions: dict[str, Action]) -> list[str]:
    """What the subject type does not know: statuses, roles, boxes; and effects no module
    provides."""
    from tinhso.cases.effects import effect_problem
    from tinhso.cases.subjects import subject_get

    subject = subject_get(code)
    boxes = {b.slug for b in subject.boxes}
    problems = []
    for state in states.values():
        if state.status not in subject.statuses:
            problems.append(
                _("State %(s)s maps to status %(n)s, which %(subject)s does not have.")
                % {"s": state.name, "n": state.status, "subject": code}
            )
        if state.box and state.box not in boxes:
            problems.append(
                _("State %(s)s names the inbox %(b)s, which does not exist.")
                % {"s": state.name, "b": state.box}
            )
    for action in actions.values():
        for role in (*action.roles, *([action.assigns] if action.assigns else [])):
            if role not in subject.roles:
                problems.append(
                    _("Action %(a)s names role %(r)s, which cannot act on dossiers.")
                    % {"a": action.name, "r": role}
                )
        for effect in action.effects:
            problem = effect_problem(effect)
            if problem is not None:
                problems.append(
                    _("Action %(a)s: %(problem)s.") % {"a": action.name, "problem": problem}
                )
    return problems


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
