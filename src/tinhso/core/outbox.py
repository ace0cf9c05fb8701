"""The outbox: side effects written in the transaction of the change, delivered after
commit by a background task (django-tasks), retried with back-off until they succeed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks import task

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


def outbox_put(*, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Queue a side effect; call inside the transaction of the change. Delivery is asked for
    once the transaction commits (and never if it rolls back)."""
    message = OutboxMessage.objects.create(
        topic=topic, payload=payload, available_at=timezone.now()
    )
    transaction.on_commit(lambda: outbox_dispatch.enqueue())
    return message


def outbox_deliver_pending(limit: int = 100) -> int:
    """Deliver what is due; returns how many were delivered. Safe to run in several workers:
    on PostgreSQL rows are claimed with SKIP LOCKED."""
    delivered = 0
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(
            delivered_at__isnull=True, available_at__lte=timezone.now(), attempts__lt=MAX_ATTEMPTS
        ).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        for message in qs[:limit]:
            handler = _HANDLERS.get(message.topic)
            try:
                if handler is None:
                    raise LookupError(f"no handler for topic {message.topic!r}")
                with transaction.atomic():
                    handler(message.payload)
            except Exception as exc:
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                message.available_at = timezone.now() + timedelta(minutes=2**message.attempts)
                message.save(update_fields=["attempts", "last_error", "available_at"])
                log.warning("outbox %s #%s failed: %s", message.topic, message.pk, exc)
                continue
            message.attempts += 1
            message.delivered_at = timezone.now()
            message.save(update_fields=["attempts", "delivered_at"])
            delivered += 1
    return delivered


@task()
def outbox_dispatch() -> int:
    """Deliver what is due; if failures wait for a retry, come back when the first is due."""
    delivered = outbox_deliver_pending()
    retry = (
        OutboxMessage.objects.filter(delivered_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("available_at")
        .values_list("available_at", flat=True)
        .first()
    )
    if (
        retry is not None
        and retry > timezone.now()
        and outbox_dispatch.get_backend().supports_defer
    ):
        outbox_dispatch.using(run_after=retry).enqueue()
    return delivered


def outbox_nudge() -> bool:
    """Enqueue a delivery run when messages are due and no run is ready or running; True if
    one was enqueued. A request killed between its commit and its on-commit hook leaves its
    messages without a run to deliver them; the worker (`tinhso worker`, database backend)
    calls this on every heartbeat, so they leave within seconds anyway."""
    from django_tasks_db.models import DBTaskResult

    due = OutboxMessage.objects.filter(
        delivered_at__isnull=True, available_at__lte=timezone.now(), attempts__lt=MAX_ATTEMPTS
    )
    if not due.exists():
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
