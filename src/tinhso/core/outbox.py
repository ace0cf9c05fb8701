"""The outbox: side effects written in the transaction of the change, delivered after
commit by a background task (django-tasks), retried with back-off until they succeed.
`enqueue_with_change` asks for a task's run in the same transaction when the task queue is
in this database."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend

from tinhso.core.cluster import database_now
from tinhso.core.models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 8


def outbox_handler(topic: str) -> Callable[[Handler], Handler]:
    """Register the function that carries out messages of `topic`."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[topic] = fn
        return fn

    return register


def enqueue_with_change(queued: Task[Any, Any], enqueue: Callable[[], object]) -> None:
    """Ask for a run of the task `queued` (`enqueue` asks for it) as part of the change being
    made. A backend that keeps its queue in this database (django-tasks-db) gets the task's
    row inside the change's transaction: it commits with the change or not at all (no
    crash between the commit and the ask leaves the change without its run), a worker sees
    it only once it commits, and it spends no commit of its own (the submission and the
    acceptance of a dossier committed six times, three of them for task rows: issue 15).
    Any other backend (the immediate one runs the task in the caller) is asked once the
    transaction commits; outside a transaction, at once."""
    in_change = transaction.get_connection().in_atomic_block
    if in_change and isinstance(queued.get_backend(), DatabaseBackend):
        enqueue()
    else:
        transaction.on_commit(enqueue)


def outbox_put(*, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Queue a side effect; call inside the transaction of the change. Delivery is asked for
    with it (and never if it rolls back): `enqueue_with_change`."""
    return outbox_put_many(topic=topic, payloads=[payload])[0]


def outbox_put_many(*, topic: str, payloads: list[dict[str, Any]]) -> list[OutboxMessage]:
    """Queue several side effects of one topic in one statement (`outbox_put`)."""
    now = timezone.now()
    messages = OutboxMessage.objects.bulk_create(
        [OutboxMessage(topic=topic, payload=payload, available_at=now) for payload in payloads]
    )
    if messages:
        enqueue_with_change(outbox_dispatch, outbox_dispatch.enqueue)
    return messages


# How long a run holds the messages it took: no other run takes them meanwhile, and a run
# that dies leaves them to be taken again when it ends (so a crash delays them by at most
# this). A run stops taking new work from its batch halfway through (on its own monotonic
# clock) and gives the rest back, so a slow batch never outlives its lease (handlers' calls
# time out in 10-30 s). Leases are set and read on the database's clock
# (core.cluster.database_now): a server whose clock runs ahead takes no live lease.
LEASE = timedelta(minutes=2)


def _waiting(now: datetime) -> QuerySet[OutboxMessage]:
    """Undelivered messages, not given up, that no live run holds."""
    return OutboxMessage.objects.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lte=now),
        delivered_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
    )


def _due(now: datetime) -> QuerySet[OutboxMessage]:
    """Those of them whose time has come."""
    return _waiting(now).filter(available_at__lte=now)


def _claim(limit: int) -> tuple[list[OutboxMessage], float, datetime]:
    """Take up to `limit` due messages for this run, in a short transaction of their own:
    each gets a lease, so other runs pass it by (on PostgreSQL, rows another run is claiming
    are skipped, not waited for), and its attempt is counted as it starts: a message whose
    handler kills its worker is given up after MAX_ATTEMPTS, not taken for ever. Returns
    the messages, when they were claimed on this process's monotonic clock, and the lease's
    end on the database's clock."""
    with transaction.atomic():
        now = database_now()
        until = now + LEASE
        claimed = time.monotonic()
        qs = _due(now).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        messages = list(qs[:limit])
        if messages:
            OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
                leased_until=until, attempts=F("attempts") + 1
            )
            for message in messages:
                message.attempts += 1
    return messages, claimed, until


def _failed(message: OutboxMessage, exc: Exception) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        leased_until=None,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        available_at=timezone.now() + timedelta(minutes=2**message.attempts),
    )
    log.warning("outbox %s #%s failed: %s", message.topic, message.pk, exc)


def outbox_deliver_pending(limit: int = 100) -> int:
    """Deliver what is due; returns how many were delivered. Safe to run in several workers:
    each run claims its messages first (`_claim`), then delivers each in a transaction of its
    own, where the handler's writes and the message's delivered mark commit together. So no
    lock is held across a batch (a handler locks only its own rows, a notification's while
    it is sent), a slow or failing message holds up no other, and a run that dies keeps what
    it delivered (a notification sent is not sent again); the message it was on is taken
    again when its lease ends (delivery is at least once; handlers check what was done)."""
    messages, claimed, until = _claim(limit)
    delivered = 0
    for index, message in enumerate(messages):
        if time.monotonic() - claimed >= (LEASE / 2).total_seconds():
            # Half the lease is gone: give the rest back, untried, for the next run.
            OutboxMessage.objects.filter(
                pk__in=[m.pk for m in messages[index:]], leased_until=until
            ).update(leased_until=None, attempts=F("attempts") - 1)
            break
        handler = _HANDLERS.get(message.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for topic {message.topic!r}")
            with transaction.atomic():
                handler(message.payload)
                OutboxMessage.objects.filter(pk=message.pk).update(
                    leased_until=None, delivered_at=timezone.now()
                )
        except Exception as exc:
            _failed(message, exc)
            continue
        delivered += 1
    return delivered


@task()
def outbox_dispatch() -> int:
    """Deliver what is due; if more is due (more than a batch, or a batch given back), run
    again now; if failures wait for a retry, come back when the first is due. (Messages a
    run holds are its own business: if it dies, the worker's heartbeat finds them due again
    when their lease ends, `outbox_nudge`.)"""
    delivered = outbox_deliver_pending()
    now = database_now()
    retry = _waiting(now).order_by("available_at").values_list("available_at", flat=True).first()
    if retry is None:
        return delivered
    if retry <= now:
        if delivered:  # progress: the rest is this run's leftovers, not another run's
            outbox_dispatch.enqueue()
    elif outbox_dispatch.get_backend().supports_defer:
        outbox_dispatch.using(run_after=retry).enqueue()
    return delivered


def outbox_nudge() -> bool:
    """Enqueue a delivery run when messages are due and no run is ready or running; True if
    one was enqueued. A request killed between its commit and its on-commit hook leaves its
    messages without a run to deliver them; the worker (`tinhso worker`, database backend)
    calls this on every heartbeat, so they leave within seconds anyway (and those a dead
    run held, once its lease ends)."""
    from django_tasks_db.models import DBTaskResult

    if not _due(database_now()).exists():
        return False
    runs = DBTaskResult.objects.filter(task_path=outbox_dispatch.module_path)
    if runs.ready().exists() or runs.filter(status="RUNNING").exists():
        return False
    outbox_dispatch.enqueue()
    return True


@dataclass(frozen=True)
class OutboxBacklog:
    """Undelivered messages: how many, the age of the oldest (seconds), and how many the
    worker gave up on after MAX_ATTEMPTS tries (they need an operator)."""

    undelivered: int
    oldest_age: float | None
    gave_up: int


def outbox_backlog(*, now: datetime | None = None) -> OutboxBacklog:
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(delivered_at__isnull=True)
    figures = pending.aggregate(count=Count("id"), oldest=Min("created_at"))
    oldest = figures["oldest"]
    return OutboxBacklog(
        undelivered=figures["count"],
        oldest_age=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        gave_up=pending.filter(attempts__gte=MAX_ATTEMPTS).count(),
    )
