from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tinhso.core.cluster import secret_key_agrees
from tinhso.core.documents import documents_backlog
from tinhso.core.outbox import outbox_backlog
from tinhso.core.worker import worker_status


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for a load balancer and a monitor.

    503 when the database does not answer. Otherwise 200 with "status": "ok", or
    "degraded" when no task worker has sent a heartbeat within TINHSO_WORKER_STALE_SECONDS
    or the oldest undelivered outbox message is older than TINHSO_OUTBOX_MAX_AGE_SECONDS,
    or a document (form, result, receipt) waits longer than TINHSO_DOCUMENTS_MAX_AGE_SECONDS
    or failed for good (ADR 0023): the site still serves, but notifications, documents and
    hourly work are held up (see the "problems" list); or when another app server uses
    another SECRET_KEY ("secret_key_differs") or the shared cache does not answer
    ("cache_unavailable"). Counts only: nothing personal, nothing about hosts."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        worker = worker_status()
        backlog = outbox_backlog()
        documents = documents_backlog()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "error", "database": "unavailable", "error": type(exc).__name__},
            status=503,
        )
    problems = []
    try:
        if not secret_key_agrees():
            # Another app server signs with another SECRET_KEY (core.cluster, DEPLOY.md).
            problems.append("secret_key_differs")
    except Exception:  # the shared cache (Redis) does not answer: say so, keep serving
        problems.append("cache_unavailable")
    if not worker.ok:
        problems.append("worker_silent")
    old = (
        backlog.oldest_age is not None
        and backlog.oldest_age > settings.TINHSO_OUTBOX_MAX_AGE_SECONDS
    )
    if old:
        problems.append("outbox_backlog")
    documents_late = (
        documents.oldest_age is not None
        and documents.oldest_age > settings.TINHSO_DOCUMENTS_MAX_AGE_SECONDS
    )
    if documents_late:
        problems.append("documents_backlog")
    if documents.failed:
        problems.append("documents_failed")
    return JsonResponse(
        {
            "status": "degraded" if problems else "ok",
            "database": connection.vendor,
            "worker": {
                "status": "ok" if worker.ok else "silent",
                "alive": worker.alive,
                "heartbeat_age_seconds": _seconds(worker.heartbeat_age),
            },
            "outbox": {
                "status": "backlog" if old else "ok",
                "undelivered": backlog.undelivered,
                "oldest_age_seconds": _seconds(backlog.oldest_age),
                "gave_up": backlog.gave_up,
            },
            "documents": {
                "status": "failed" if documents.failed else ("backlog" if documents_late else "ok"),
                "pending": documents.pending,
                "oldest_age_seconds": _seconds(documents.oldest_age),
                "failed": documents.failed,
            },
            "problems": problems,
        }
    )
