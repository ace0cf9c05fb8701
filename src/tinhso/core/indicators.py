"""Indicators: the figures each module declares about its own records (ADR 0022).

A module plugs its figures in from its AppConfig.ready() with `figure_set_register`: the
indicators it declares (a key, names in Vietnamese and English, a unit, the dimensions a
value is broken down by), the API schema of their values, and one function that computes
them all from the module's records for a `Scope` (an agency set and a period). Readers,
`GET /api/v1/figures` and `GET /api/v1/indicators` today, go through this registry and
never import a module's figures, so the platform layer does not depend on the modules.

The compute function is the only way to a value: whether it counts the records (as every
module does today) or reads stored daily rollups later is the module's business, and no
reader changes when it switches.

"On time" is defined here once (`timeliness`): the dossier figures, the open-data dossier
statistics and the process control sheet (BM.05) all judge a finish against a due time
with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Protocol

from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel

# --- "on time" -----------------------------------------------------------------------------


class Timeliness(StrEnum):
    """How a piece of work finished against its due time."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


def timeliness(
    done_at: datetime, due_at: datetime | None, zone: tzinfo | None = None
) -> Timeliness | None:
    """Late when finished after the due time (to the microsecond: exactly at it is not late);
    on time when finished on the due time's own calendar day, up to it; early on an earlier
    day. Days are the platform's (its current time zone, unless `zone` is given). None when
    there was no due time to judge against."""
    if due_at is None:
        return None
    if done_at > due_at:
        return Timeliness.LATE
    zone = zone or timezone.get_current_timezone()
    if done_at.astimezone(zone).date() == due_at.astimezone(zone).date():
        return Timeliness.ON_TIME
    return Timeliness.EARLY


# --- declarations --------------------------------------------------------------------------


class Unit(StrEnum):
    """What an indicator's value counts or measures."""

    DOSSIERS = "dossiers"
    RATINGS = "ratings"
    VND = "VND"
    RATIO = "ratio"  # a share between 0 and 1 (None when there is nothing to divide by)
    SCORE = "score"  # an average of satisfaction scores (1 dissatisfied … 3 very satisfied)
    COUNT = "count"  # things other than dossiers: producers, products, stamps, scans


@dataclass(frozen=True)
class Dimension:
    """What a value is broken down by, and the values it takes (the keys of the value)."""

    code: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Indicator:
    """One declared figure. `key` names it within its module (and in the module's part of
    GET /api/v1/figures); its code is `<module>.<key>`."""

    key: str
    name_vi: str
    name_en: str
    unit: Unit
    dimensions: tuple[Dimension, ...] = ()


class AgencySet(Protocol):
    """The agencies whose records are counted (agencies.selectors.AgencyTree: an agency and
    every unit below it)."""

    @property
    def code(self) -> str: ...

    def within(self, field: str) -> Q:
        """A filter keeping the records whose `field` (a foreign key to an agency, or a
        path of lookups ending in one) is an agency of this set."""
        ...


@dataclass(frozen=True)
class Scope:
    """What the figures are computed for: an agency set and a period of whole days."""

    agencies: AgencySet
    start: date
    end: date
    # What several figure sets read alike, computed once for this scope (the dossier and
    # the payment figures both sum the same rollups): key → value, filled by the modules.
    shared: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def begin(self) -> datetime:
        """The period's first moment, in the platform's time zone."""
        return datetime.combine(self.start, time.min, timezone.get_current_timezone())

    @property
    def finish(self) -> datetime:
        """The period's last moment, in the platform's time zone."""
        return datetime.combine(self.end, time.max, timezone.get_current_timezone())


FigureValue = int | float | Mapping[str, int] | None
Compute = Callable[[Scope], Mapping[str, FigureValue]]


@dataclass(frozen=True)
class FigureSet:
    """A module's figures: its indicators, the function that computes all of them at once
    (they share their queries), and the schema of the values in GET /api/v1/figures, where
    they sit under `section` (None: at the top level, where the dossier figures always
    were)."""

    module: str
    indicators: tuple[Indicator, ...]
    compute: Compute
    schema: type[BaseModel]
    section: str | None = None

    def code(self, indicator: Indicator) -> str:
        """The indicator's code across the platform: `<module>.<key>`."""
        return f"{self.module}.{indicator.key}"


class IndicatorError(Exception):
    """A figure set that does not fit the registry (found at start-up, by the developer)."""


_SETS: dict[str, FigureSet] = {}


def figure_set_register(figure_set: FigureSet) -> None:
    """Add (or, on a second call for the same module, replace) a module's figures. Called
    from the module's AppConfig.ready(). The schema's fields must be exactly the declared
    keys, and no section or top-level key may be taken twice."""
    keys = [i.key for i in figure_set.indicators]
    if len(set(keys)) != len(keys):
        raise IndicatorError(f"{figure_set.module}: an indicator key is declared twice")
    fields = list(figure_set.schema.model_fields)
    if fields != keys:
        raise IndicatorError(
            f"{figure_set.module}: the schema's fields {fields} are not the declared "
            f"indicators {keys} (same names, same order)"
        )
    others = [s for s in _SETS.values() if s.module != figure_set.module]
    taken = {s.section for s in others if s.section} | {
        i.key for s in others if s.section is None for i in s.indicators
    }
    placed = {figure_set.section} if figure_set.section else set(keys)
    if placed & taken:
        raise IndicatorError(
            f"{figure_set.module}: {sorted(placed & taken)} already used in /api/v1/figures"
        )
    _SETS[figure_set.module] = figure_set


def figure_sets() -> tuple[FigureSet, ...]:
    """Every registered module's figures, in the order the apps were loaded."""
    return tuple(_SETS.values())


def figures_compute(scope: Scope) -> dict[str, object]:
    """Every module's figures for `scope`, laid out as GET /api/v1/figures answers them."""
    out: dict[str, object] = {}
    for figure_set in _SETS.values():
        values = dict(figure_set.compute(scope))
        missing = [i.key for i in figure_set.indicators if i.key not in values]
        if missing:
            raise IndicatorError(f"{figure_set.module} computed no value for {missing}")
        if figure_set.section:
            out[figure_set.section] = values
        else:
            out.update(values)
    return out
