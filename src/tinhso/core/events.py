"""Typed events: one class per kind of thing that happened, written in the transaction of
the change, consumed by whoever needs to know.

A module defines its event kinds (a frozen dataclass subclassing `Event`, with the
constructor the change calls) and emits them inside its transaction; consumers registered
for a kind (in AppConfig.ready) run right there, in order: the module's own history row,
the people to notify (notifications leave after commit through the outbox), other modules
that react (payments to a dossier that ended), indicators. The audit chain consumes every
event last (its head is one row every writer locks, so it is held for the shortest time):
an event says which audit entry it makes (`audit`). No signal handlers: the flow stays in
code one can read (`event_emit` is called where the change happens).

    @dataclass(frozen=True)
    class PaymentCredited(Event):
        kind = "payment.credited"
        payment: Payment
        ...
        def audit(self) -> AuditItem: ...

    event_consume(PaymentCredited, receipt_issue_on_credit, module="payments")
    event_emit(PaymentCredited(payment=p, ...))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction

from tinhso.core.audit import audit_record


@dataclass(frozen=True)
class AuditItem:
    """The audit entry an event makes (core.audit.audit_record's arguments)."""

    action: str
    actor: AbstractBaseUser | None = None
    obj: models.Model | None = None
    object_type: str = ""
    object_id: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """Base of every event kind. Subclasses set `kind` ("dossier.transitioned") and
    return their audit entry from `audit()` (None: the event is not audited itself)."""

    kind: ClassVar[str] = ""

    def audit(self) -> AuditItem | None:
        return None


E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class _Consumer:
    run: Callable[[Any], None]
    module: str
    order: int


_CONSUMERS: dict[type[Event], list[_Consumer]] = {}


def event_consume(
    kind: type[E], run: Callable[[E], None], *, module: str, order: int = 100
) -> None:
    """Have `run(event)` called for every event of `kind`, in the emitting transaction.
    Lower `order` runs first; registering the same function again is a no-op."""
    consumers = _CONSUMERS.setdefault(kind, [])
    if any(c.run is run for c in consumers):
        return
    consumers.append(_Consumer(run, module, order))
    consumers.sort(key=lambda c: c.order)


def consumers_of(kind: type[Event]) -> list[tuple[str, str]]:
    """(module, function name) of the consumers of `kind`, in the order they run."""
    return [(c.module, getattr(c.run, "__name__", repr(c.run))) for c in _CONSUMERS.get(kind, [])]


def event_emit(event: Event) -> None:
    """Run the consumers of the event's kind, then write its audit entry, all in the
    current transaction (opened here if there is none): they commit or roll back with the
    change. No savepoint of their own: a failure here is the change's failure."""
    with transaction.atomic(savepoint=False):
        for consumer in _CONSUMERS.get(type(event), []):
            consumer.run(event)
        item = event.audit()
        if item is not None:
            audit_record(
                actor=item.actor, action=item.action, obj=item.obj,
                object_type=item.object_type, object_id=item.object_id, data=item.data,
            )  # fmt: skip
