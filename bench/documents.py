"""Forms issued after commit (ADR 0023), in-process on any database:

* the accept action (a POST through Django's test client) with its BM.01 queued for the
  worker, next to the same action issuing BM.01 in the request (the immediate task
  backend: rendered and signed before the answer, as before ADR 0023);
* the worker issuing one queued form (claim, render, sign, store, mark issued), next to
  issuing the same form without the queue around it (its rows read, rendered, sealed and
  kept in the file store; bench/signing.py times the rendering and sealing alone).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from bench.common import ROUNDS, Row, birth_submission, measure

ROUNDS_HERE = min(ROUNDS, int(os.environ.get("BENCH_DOCUMENT_ROUNDS", "30")))
WARM_UP = min(20, ROUNDS_HERE)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _submitted(count: int) -> list[tuple[str, int]]:
    """`count` new dossiers submitted through the API: (code, version)."""
    from django.test import Client

    from tinhso.accounts.models import User
    from tinhso.accounts.services import api_token_create

    token = api_token_create(user=User.objects.get(username="038090000001"))[1]
    client, body = Client(), birth_submission()
    made = []
    for _ in range(count):
        answer = client.post(
            "/api/v1/dossiers", body, content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        created = answer.json()
        made.append((created["code"], created["version"]))
    return made


def _accepting(dossiers: list[tuple[str, int]]) -> Callable[[], None]:
    from django.test import Client

    from tinhso.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="tiepnhan.hacthanh"))

    def accept() -> None:
        code, version = dossiers.pop()
        answer = client.post(
            f"/can-bo/ho-so/{code}/thao-tac/", {"action": "accept", "version": version}
        )
        assert answer.status_code == 302

    return accept


def run() -> list[Row]:
    from django.db import transaction
    from django.test.utils import override_settings

    from tinhso.core.documents import document_issue
    from tinhso.core.models import PendingDocument, PendingDocumentState
    from tinhso.dossiers.legal_forms import form_issue

    each = ROUNDS_HERE + WARM_UP
    queued_dossiers, inline_dossiers = _submitted(2 * each), _submitted(each)
    with override_settings(TASKS=DB_TASKS):
        queued = measure(_accepting(queued_dossiers[:each]), ROUNDS_HERE)
        measure(_accepting(queued_dossiers[each:]), ROUNDS_HERE)  # forms for the worker
    with override_settings(TASKS=IMMEDIATE):
        inline = measure(_accepting(inline_dossiers), ROUNDS_HERE)

    pending = list(
        PendingDocument.objects.filter(state=PendingDocumentState.PENDING, kind="dossiers.form")
        .order_by("-id")
        .values_list("pk", flat=True)[: 2 * each]
    )
    by_worker, bare = pending[:each], pending[each:]

    def issue() -> None:
        assert document_issue(by_worker.pop())

    def render_and_sign() -> None:
        row = PendingDocument.objects.get(pk=bare.pop())
        with transaction.atomic():
            form_issue(row)
            transaction.set_rollback(True)

    with override_settings(TASKS=DB_TASKS):
        worker = measure(issue, ROUNDS_HERE)
        direct = measure(render_and_sign, ROUNDS_HERE)
    print(
        f"\nforms after commit: accept with BM.01 queued {queued[0]:.1f} ms, with BM.01 signed "
        f"in the request {inline[0]:.1f} ms (median of {ROUNDS_HERE}); one worker issues "
        f"{1000 / worker[0]:.1f} forms/s ({worker[0]:.1f} ms each; the same form issued "
        f"without the queue around it, its rows read, rendered, sealed and kept in the file "
        f"store, {direct[0]:.1f} ms)"
    )
    return [
        Row("accept, BM.01 queued (vs signed in request)", *queued, *inline),
        Row("worker issues a queued form (vs unqueued)", *worker, *direct),
    ]
