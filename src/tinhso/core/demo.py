"""The demo province: what `tinhso seed_demo` (and `make run` on an empty database) loads.

Each module registers its demo steps from its AppConfig.ready() with `demo_step_register`;
`demo_seed` runs them in their order, in one transaction. The order is a number so that
modules interleave without knowing each other: today

    10 agencies: the province          60 dossiers: the citizen's stored papers
    20 accounts: the population registry   70 signing: the demo PKI
    30 accounts: officials and citizens    80 payments: the agencies' bank accounts
    40 dossiers: the standard workflow     90 dossiers: dossiers in every status
    50 catalog: procedures, editors       100 signing: the later-revoked certificate
                                          110 payments: payments of the waiting dossiers
                                          120 opendata: the portal's datasets
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from tinhso.core.audit import audit_seal


@dataclass
class DemoRun:
    """One run of the demo seed: what it was asked for and what the steps did so far (a
    step reads what an earlier one recorded)."""

    dossiers: bool  # also the demo dossiers (the tests make their own)
    agencies_created: int = 0
    accounts_created: int = 0
    dossiers_seeded: bool = False  # the dossiers step made dossiers in this run


@dataclass(frozen=True)
class DemoStep:
    """One module's part of the demo: `seed` adds what is missing; `loaded`, when given,
    tells whether the database already holds data (then `seed_demo --if-empty` does
    nothing)."""

    order: int
    name: str
    seed: Callable[[DemoRun], object]
    loaded: Callable[[], bool] | None = None


@dataclass(frozen=True)
class DemoResult:
    agencies_created: int
    accounts_created: int


_STEPS: dict[str, DemoStep] = {}


def demo_step_register(
    *,
    order: int,
    name: str,
    seed: Callable[[DemoRun], object],
    loaded: Callable[[], bool] | None = None,
) -> None:
    """Add (or replace, by name) a demo step; called from a module's AppConfig.ready()."""
    clash = [s.name for s in _STEPS.values() if s.order == order and s.name != name]
    if clash:
        raise ValueError(f"demo step {name}: order {order} is taken by {clash[0]}")
    _STEPS[name] = DemoStep(order=order, name=name, seed=seed, loaded=loaded)


def demo_steps() -> list[DemoStep]:
    return sorted(_STEPS.values(), key=lambda s: s.order)


def demo_is_empty() -> bool:
    return not any(s.loaded() for s in demo_steps() if s.loaded is not None)


def demo_seed(*, dossiers: bool = True) -> DemoResult:
    """Load the demo province and its accounts (and, unless told not to, dossiers in every
    status over the past months). Safe to run again: it only adds what is missing."""
    run = DemoRun(dossiers=dossiers)
    with transaction.atomic():
        for step in demo_steps():
            step.seed(run)
    # Chained now rather than by the worker's next run: the demo starts with a sealed chain.
    audit_seal()
    return DemoResult(agencies_created=run.agencies_created, accounts_created=run.accounts_created)
