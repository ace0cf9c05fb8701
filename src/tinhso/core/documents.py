"""Documents issued after commit (ADR 0023): an action that issues a form, seals a result
or gives a receipt writes a `PendingDocument` in its own transaction, with the inputs the
rendering needs frozen at that moment; a background task renders and signs it once the
transaction commits. The request never waits for a PDF.

    document_handler("dossiers.form")(issue_form)          # in AppConfig.ready
    document_pending(kind="dossiers.form", key=f"dossier-document:{pk}", payload={...})

* Exactly once: `key` is unique (the same document is never queued twice), and the task
  claims the row (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, a guarded UPDATE that
  takes SQLite's write lock elsewhere) and issues it only while it is still pending, so a
  task run twice or two workers racing issue it once.
* Ordering: a document queued `after` another waits until that one is issued (the clerk's
  seal after the leader's signature), then is issued at once.
* Failures: a handler that raises is retried with back-off (30 s, 1, 2, 4 minutes); after
  MAX_ATTEMPTS the row is FAILED, logged as an error, counted by /healthz ("degraded") and
  listed in the admin, whose action queues it again. Never silently lost.
* The immediate task backend (tests, a development server without a worker) has no queue:
  the document is issued at once, in a savepoint of the action's transaction, by the same
  code; a failure there is recorded the same way and the action still commits.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from tinhso.core.models import PendingDocument, PendingDocumentState
from tinhso.core.outbox import enqueue_with_change

log = logging.getLogger(__name__)

Handler = Callable[[PendingDocument], None]
_HANDLERS: dict[str, Handler] = {}
MAX_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 30


def document_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that renders and signs documents of `kind` (it reads the
    row's payload and stores what it issued; it raises to ask for a retry)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def _queues() -> bool:
    """Whether the task backend queues tasks for a worker (the immediate one runs them in
    the caller: there, the document is issued at once)."""
    return not isinstance(document_issue_task.get_backend(), ImmediateBackend)


def _enqueue_with_change(pk: int, *, run_after: datetime | None = None) -> None:
    """Ask for the document's issue with the change that made it (the task's row in its
    transaction when the queue is in the database: core.outbox.enqueue_with_change)."""

    def enqueue() -> None:
        backend = document_issue_task.get_backend()
        if run_after is not None and backend.supports_defer:
            document_issue_task.using(run_after=run_after).enqueue(pk)
        elif run_after is None:
            document_issue_task.enqueue(pk)
        # A retry the backend cannot defer waits for the worker's sweep (documents_nudge).

    enqueue_with_change(document_issue_task, enqueue)


def document_pending(
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    label: str = "",
    after: PendingDocument | None = None,
    bind: Callable[[PendingDocument], None] | None = None,
) -> PendingDocument:
    """Queue a document; call inside the transaction of the action. It is issued once the
    transaction commits (never if it rolls back); `after` one still pending, once that one
    is issued. `bind` runs on the new row first (the record that shows the document points
    at it, so pages say "being issued")."""
    if kind not in _HANDLERS:
        raise LookupError(f"no document handler for {kind!r}")
    if after is not None and after.state == PendingDocumentState.ISSUED:
        after = None
    row = PendingDocument.objects.create(
        kind=kind, key=key, payload=payload, label=label[:255], after=after,
        available_at=timezone.now(),
    )  # fmt: skip
    if bind is not None:
        bind(row)
    if after is None:
        if _queues():
            _enqueue_with_change(row.pk)
        else:
            document_issue(row.pk)
            row.refresh_from_db()
    return row


def _claim(pk: int) -> PendingDocument | None:
    """The row, locked for this transaction, if it is still pending and nobody else holds
    it; None otherwise."""
    pending = PendingDocument.objects.filter(pk=pk, state=PendingDocumentState.PENDING)
    if connection.features.has_select_for_update_skip_locked:
        return pending.select_for_update(skip_locked=True).first()
    # SQLite: an UPDATE takes the database's write lock until commit, so a second worker
    # waits here and then finds the row issued.
    if not pending.update(attempts=F("attempts")):
        return None
    return PendingDocument.objects.get(pk=pk)


def document_issue(pk: int) -> bool:
    """Render and sign one pending document; True if this call issued it. Idempotent: a
    document already issued, failed, held by another worker or waiting for the one it
    comes after is left as it is."""
    with transaction.atomic():
        row = _claim(pk)
        if row is None:
            return False
        if row.after_id is not None:
            before = PendingDocument.objects.get(pk=row.after_id)
            if before.state != PendingDocumentState.ISSUED:
                return False  # issued when `before` is (document_issue of that one)
        handler = _HANDLERS.get(row.kind)
        try:
            if handler is None:
                raise LookupError(f"no document handler for {row.kind!r}")
            with transaction.atomic():
                handler(row)
        except Exception as exc:
            _failed(row, exc)
            return False
        row.attempts += 1
        row.state = PendingDocumentState.ISSUED
        row.issued_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["attempts", "state", "issued_at", "last_error"])
        followers = list(
            row.followers.filter(state=PendingDocumentState.PENDING).values_list("pk", flat=True)
        )
    for follower in followers:
        if _queues():
            _enqueue_with_change(follower)
        else:
            document_issue(follower)
    return True


def _failed(row: PendingDocument, exc: Exception) -> None:
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.state = PendingDocumentState.FAILED
        log.error(
            "document %s (%s) not issued after %d attempts, an administrator must retry it: %s",
            row.key, row.kind, row.attempts, row.last_error,
        )  # fmt: skip
    else:
        delay = timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (row.attempts - 1))
        row.available_at = timezone.now() + delay
        log.warning(
            "document %s (%s) failed (attempt %d), retried at %s: %s",
            row.key, row.kind, row.attempts, row.available_at, row.last_error,
        )  # fmt: skip
        if _queues():
            _enqueue_with_change(row.pk, run_after=row.available_at)
    row.save(update_fields=["attempts", "last_error", "state", "available_at"])


@task()
def document_issue_task(pk: int) -> bool:
    """The worker's side of document_pending."""
    return document_issue(pk)


def documents_issue_due(limit: int = 100) -> int:
    """Issue the pending documents whose time has come (retries, and those whose enqueue
    was lost with a killed process); how many were issued."""
    due = PendingDocument.objects.filter(
        state=PendingDocumentState.PENDING, available_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    return sum(document_issue(pk) for pk in list(due.order_by("id")[:limit]))


@task()
def documents_sweep() -> int:
    return documents_issue_due()


def documents_nudge(*, grace: timedelta = timedelta(seconds=30)) -> bool:
    """Enqueue a sweep when documents have been due for longer than `grace` and no sweep is
    ready or running; called on every heartbeat of `tinhso worker` (core.worker)."""
    from django_tasks_db.models import DBTaskResult

    late = PendingDocument.objects.filter(
        state=PendingDocumentState.PENDING, available_at__lte=timezone.now() - grace
    )
    if not late.exists():
        return False
    runs = DBTaskResult.objects.filter(task_path=documents_sweep.module_path)
    if runs.ready().exists() or runs.filter(status="RUNNING").exists():
        return False
    documents_sweep.enqueue()
    return True


def documents_retry(rows: Iterable[PendingDocument]) -> int:
    """An administrator queues documents again (failed ones with a fresh count of
    attempts, pending ones now); how many."""
    count = 0
    with transaction.atomic():
        for row in rows:
            if row.state == PendingDocumentState.ISSUED:
                continue
            PendingDocument.objects.filter(pk=row.pk).update(
                state=PendingDocumentState.PENDING, attempts=0, available_at=timezone.now()
            )
            count += 1
            before = row.after
            if before is None or before.state == PendingDocumentState.ISSUED:
                if _queues():
                    _enqueue_with_change(row.pk)
                else:
                    transaction.on_commit(functools.partial(document_issue, row.pk))
    return count


@dataclass(frozen=True)
class DocumentBacklog:
    """Documents not issued yet: how many, the age of the oldest (seconds), and how many
    failed for good (an administrator must look at them)."""

    pending: int
    oldest_age: float | None
    failed: int


def documents_backlog(*, now: datetime | None = None) -> DocumentBacklog:
    now = now or timezone.now()
    pending = Q(state=PendingDocumentState.PENDING)
    figures = PendingDocument.objects.exclude(state=PendingDocumentState.ISSUED).aggregate(
        count=Count("id", filter=pending),
        oldest=Min("created_at", filter=pending),
        failed=Count("id", filter=Q(state=PendingDocumentState.FAILED)),
    )
    oldest = figures["oldest"]
    return DocumentBacklog(
        pending=figures["count"],
        oldest_age=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        failed=figures["failed"],
    )
