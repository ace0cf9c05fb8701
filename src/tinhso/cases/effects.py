"""Effects: what taking an action does besides moving the case, declared in the workflow
definition and provided by the module that knows how.

A workflow action lists its effects by name, with an optional argument after a colon
(`"effects": ["payments.cancel", "form:BM03"]`); the module that provides an effect
registers it once (in its AppConfig.ready). The engine runs them in the transition's
transaction, in the order declared, after the case has moved; an effect that cannot be done
raises (a DomainError) and the whole transition rolls back. A workflow naming an effect no
module provides does not validate.

    effect_register("payment.request", payment_request_effect, module="payments")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from tinhso.accounts.models import User
    from tinhso.cases.base import Case
    from tinhso.cases.graph import Action, Graph
    from tinhso.cases.subjects import SubjectType


@dataclass(frozen=True)
class EffectContext:
    """What an effect sees: the case as it is after the move, who acted, which action."""

    case: Case
    subject: SubjectType
    graph: Graph
    action: Action
    actor: User | None
    note: str
    now: datetime
    argument: str  # the part after the colon ("BM03" in "form:BM03"), or ""


Effect = Callable[[EffectContext], None]


@dataclass(frozen=True)
class EffectDef:
    name: str
    run: Effect
    module: str
    takes_argument: bool = False


_EFFECTS: dict[str, EffectDef] = {}


def effect_register(name: str, run: Effect, *, module: str, takes_argument: bool = False) -> None:
    _EFFECTS[name] = EffectDef(name, run, module, takes_argument)


def effect_problem(declared: str) -> str | None:
    """Why a declared effect cannot run (None when it can): unknown, or an argument
    missing or unexpected."""
    name, _sep, argument = declared.partition(":")
    definition = _EFFECTS.get(name)
    if definition is None:
        return _("no module provides the effect %(name)s") % {"name": name}
    if definition.takes_argument and not argument:
        return _("the effect %(name)s needs an argument (%(name)s:…)") % {"name": name}
    if argument and not definition.takes_argument:
        return _("the effect %(name)s takes no argument") % {"name": name}
    return None


def effect_run(declared: str, context: EffectContext) -> None:
    name, _sep, argument = declared.partition(":")
    definition = _EFFECTS[name]
    definition.run(
        EffectContext(
            case=context.case, subject=context.subject, graph=context.graph,
            action=context.action, actor=context.actor, note=context.note, now=context.now,
            argument=argument,
        )
    )  # fmt: skip


def effects() -> dict[str, str]:
    """Every registered effect and the module that provides it."""
    return {name: d.module for name, d in _EFFECTS.items()}
