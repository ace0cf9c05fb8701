"""A workflow's graph, as cases.workflow reads it from its definition: states and actions
(see cases.workflow for what each attribute means)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    name: str
    status: int
    terminal: bool = False
    paused: bool = False
    share: float = 0.0
    inter_agency: str = ""
    box: str = ""


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    applicant: bool = False
    effects: tuple[str, ...] = ()
    note_required: bool = False
    assigns: str = ""
    trigger: str = ""
    exceptional: bool = False
    label: str = ""


@dataclass(frozen=True)
class Graph:
    start: str
    states: dict[str, State]
    actions: dict[str, Action]

    def actions_from(self, state: str) -> list[Action]:
        return [a for a in self.actions.values() if state in a.sources]

    def box_roles(self, state: str) -> frozenset[str]:
        """The roles whose box a case waiting in `state` shows in: those of its
        non-exceptional actions (DIGIT's inbox: what my roles can act on)."""
        return frozenset(
            role for a in self.actions_from(state) if not a.exceptional for role in a.roles
        )

    def triggered(self, state: str, trigger: str) -> Action | None:
        """The action `trigger` takes from `state`, if any."""
        return next((a for a in self.actions_from(state) if a.trigger == trigger), None)
