"""Forms, results and receipts issued after commit (core.documents, ADR 0023): the action
commits with the document pending and a task queued for it; the pages say "being issued"
and never break; the worker issues it once, however often it runs; a failing signer is
retried with back-off, then surfaces in /healthz and the admin, whose action retries it;
the clerk's seal waits for the leader's signature."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from flows import act, user
from test_payments import fee_submission, pending
from test_submission import submission
from tinhso.accounts.models import User
from tinhso.core.documents import (
    MAX_ATTEMPTS,
    document_issue,
    document_issue_task,
    documents_issue_due,
)
from tinhso.core.models import PendingDocument, PendingDocumentState
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.services import dossier_submit
from tinhso.payments.models import Payment
from tinhso.signing.models import Signature, SignedDocument
from tinhso.signing.signers import SignerError
from tinhso.signing.verify import pdf_verify

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
Commit = Callable[..., Any]


@pytest.fixture
def queued(settings: Any, django_capture_on_commit_callbacks: Commit) -> Iterator[Commit]:
    """The database task backend, as in production: an action's task rows are written in
    its transaction (core.outbox.enqueue_with_change) and its other after-commit hooks run
    when the test says (`with queued(): …` is one committed action)."""
    settings.TASKS = DB_TASKS

    def committed() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return committed


def waiting_tasks(pk: int) -> list[DBTaskResult]:
    return [
        row
        for row in DBTaskResult.objects.filter(task_path=document_issue_task.module_path)
        if row.args_kwargs["args"] == [pk]
    ]


def run_queued(pk: int) -> list[Any]:
    """What a worker does: run each task queued for the document (due now or not)."""
    results = []
    for row in waiting_tasks(pk):
        results.append(row.task.call(*row.args_kwargs["args"]))
        row.delete()
    return results


def get(client: Client, who: User, url: str) -> Any:
    client.force_login(who)
    return client.get(url)


def test_the_action_commits_with_the_form_pending_the_worker_issues_it_once(
    client: Client, citizen: Any, queued: Commit
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    with queued():
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    # Committed: the move, its event and the form to issue; no PDF yet.
    assert dossier.state == "received"
    assert dossier.events.filter(action="accept").exists()
    document = dossier.documents.get()
    assert (document.kind, document.ready, document.storage_name) == ("BM01", False, "")
    job = document.issuing
    assert job is not None
    assert job.state == PendingDocumentState.PENDING
    assert job.payload["inputs"]["name"] == user("tiepnhan.hacthanh").full_name
    assert len(waiting_tasks(job.pk)) == 1  # asked for with the action
    assert not SignedDocument.objects.filter(reference=dossier.code).exists()

    # The pages say so, and nothing breaks meanwhile.
    mine = get(client, citizen, f"/ho-so-cua-toi/{dossier.public_id}/")
    assert mine.status_code == 200
    assert "Đang phát hành" in mine.content.decode()
    official_url = f"/can-bo/ho-so/{dossier.code}/"
    receiver = user("tiepnhan.hacthanh")
    assert "Đang phát hành" in get(client, receiver, official_url).content.decode()
    download = get(client, citizen, f"/ho-so-cua-toi/{dossier.public_id}/bieu-mau/{document.pk}/")
    assert download.status_code == 409
    assert download["Retry-After"]
    assert "Đang phát hành" in download.content.decode()
    assert get(client, receiver, f"{official_url}bieu-mau/{document.pk}/").status_code == 409
    token = client.post(
        "/api/v1/auth/token",
        json.dumps({"username": "tiepnhan.hacthanh", "password": "demo"}),
        content_type="application/json",
    ).json()["token"]
    api = client.get(
        f"/api/v1/dossiers/{dossier.code}", headers={"Authorization": f"Bearer {token}"}
    )
    assert [(d["kind"], d["status"], d["verification"]) for d in api.json()["documents"]] == [
        ("BM01", "issuing", None)
    ]

    # The worker issues it: signed, on the pages, downloadable.
    with queued():
        assert run_queued(job.pk) == [True]
    document.refresh_from_db()
    job.refresh_from_db()
    assert document.ready
    assert document.signed is not None
    assert (job.state, job.attempts) == (PendingDocumentState.ISSUED, 1)
    pdf = get(client, citizen, f"/ho-so-cua-toi/{dossier.public_id}/bieu-mau/{document.pk}/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf_verify(b"".join(pdf.streaming_content)).ok
    assert (
        "Đang phát hành"
        not in get(client, citizen, f"/ho-so-cua-toi/{dossier.public_id}/").content.decode()
    )
    api = client.get(
        f"/api/v1/dossiers/{dossier.code}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.json()["documents"][0]["status"] == "issued"
    assert api.json()["documents"][0]["verification"] == document.signed.public_id

    # Run again (a duplicate task, a sweep, a second worker): nothing more is issued.
    signatures = Signature.objects.count()
    assert document_issue(job.pk) is False
    assert document_issue_task.call(job.pk) is False
    assert documents_issue_due() == 0
    assert Signature.objects.count() == signatures
    assert SignedDocument.objects.filter(reference=dossier.code).count() == 1


def test_the_same_document_cannot_be_queued_twice(citizen: Any, queued: Commit) -> None:
    from django.db import IntegrityError, transaction

    from tinhso.core.documents import document_pending

    dossier = dossier_submit(submission=submission(citizen))
    with queued():
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    job = dossier.documents.get().issuing
    assert job is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        document_pending(kind=job.kind, key=job.key, payload=job.payload)


def test_the_inputs_are_those_of_the_moment_of_the_action(citizen: Any, queued: Commit) -> None:
    """BM.01 says when the dossier was received and its due time as they were then, even
    when the worker renders it after the dossier moved on (here: extended)."""
    dossier = dossier_submit(submission=submission(citizen))
    with queued():
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    job = dossier.documents.get().issuing
    assert job is not None
    due = dossier.due_at
    assert due is not None
    assert job.payload["inputs"]["due_at"] == due.isoformat()
    Dossier.objects.filter(pk=dossier.pk).update(due_at=due + timedelta(days=9))
    with queued():
        run_queued(job.pk)
    from test_legal_forms import text_of
    from tinhso.core.files import read_bytes

    text = text_of(read_bytes(dossier.documents.get().storage_name))
    local = timezone.localtime(due)
    assert f"ngày {local:%d/%m/%Y}" in text


def test_a_failing_signer_is_retried_with_back_off_then_surfaces_to_the_admin(
    client: Client, citizen: Any, queued: Commit
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    broken = mock.patch(
        "tinhso.signing.services.signer_for", side_effect=SignerError("the token is unplugged")
    )
    with broken:
        with queued():
            dossier = act(dossier, "tiepnhan.hacthanh", "accept")
        document = dossier.documents.get()
        job = document.issuing
        assert job is not None
        delays = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            before = timezone.now()
            with queued():
                assert run_queued(job.pk) == [False]
            job.refresh_from_db()
            assert job.attempts == attempt
            assert "the token is unplugged" in job.last_error
            if attempt < MAX_ATTEMPTS:
                assert job.state == PendingDocumentState.PENDING
                delays.append(round((job.available_at - before).total_seconds() / 30))
                # The retry is queued for when it is due, not at once.
                [retry] = waiting_tasks(job.pk)
                assert retry.run_after is not None
                assert retry.run_after >= job.available_at
        assert delays == [1, 2, 4, 8]  # 30 s, 1, 2, 4 minutes
        assert job.state == PendingDocumentState.FAILED
        assert waiting_tasks(job.pk) == []  # given up: nothing more queued
    # Nothing rolled back: the dossier moved on, the form still shows as being issued.
    dossier.refresh_from_db()
    assert dossier.state == "received"
    assert not DossierDocument.objects.get(pk=document.pk).ready
    assert (
        "Đang phát hành"
        in get(client, citizen, f"/ho-so-cua-toi/{dossier.public_id}/").content.decode()
    )

    # /healthz and the admin show it.
    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    assert "documents_failed" in health["problems"]
    assert health["documents"]["failed"] == 1
    admin = User.objects.filter(is_superuser=True).first()
    assert admin is not None
    listing = get(client, admin, "/quan-tri/core/pendingdocument/?state=failed")
    assert listing.status_code == 200
    assert dossier.code in listing.content.decode()
    assert "the token is unplugged" in listing.content.decode()

    # The administrator fixes the token and retries: it is issued.
    with queued():
        answer = client.post(
            "/quan-tri/core/pendingdocument/",
            {"action": "retry", "_selected_action": [job.pk]},
        )
    assert answer.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.attempts) == (PendingDocumentState.PENDING, 0)
    with queued():
        assert run_queued(job.pk) == [True]
    assert DossierDocument.objects.get(pk=document.pk).ready
    assert client.get("/healthz").json()["documents"]["failed"] == 0


def test_the_clerks_seal_waits_for_the_leaders_signature_still_being_issued(
    client: Client, citizen: Any, queued: Commit
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    dossier = act(dossier, "chuyenvien.hacthanh", "forward")
    with queued():
        dossier = act(dossier, "lanhdao.hacthanh", "approve", note="Đăng ký khai sinh.")
    result = dossier.documents.get(kind=DocumentKind.RESULT)
    signing_job = result.issuing
    assert signing_job is not None
    assert signing_job.state == PendingDocumentState.PENDING
    # The clerk issues it before the leader's signature is there: queued after it.
    with queued():
        dossier = act(dossier, "vanthu.hacthanh", "issue")
    result.refresh_from_db()
    seal_job = result.issuing
    assert seal_job is not None
    assert seal_job.after_id == signing_job.pk
    assert waiting_tasks(seal_job.pk) == []  # nothing to do before the signature
    assert document_issue(seal_job.pk) is False  # and a run meanwhile waits
    seal_job.refresh_from_db()
    assert (seal_job.state, seal_job.attempts) == (PendingDocumentState.PENDING, 0)
    # The leader's signature is issued; then the seal, queued by it.
    with queued():
        assert run_queued(signing_job.pk) == [True]
    assert len(waiting_tasks(seal_job.pk)) == 1
    result.refresh_from_db()
    assert not result.ready  # signed, not sealed yet
    with queued():
        assert run_queued(seal_job.pk) == [True]
    result.refresh_from_db()
    assert result.ready
    assert result.signed is not None
    kinds = list(result.signed.signatures.order_by("id").values_list("purpose", flat=True))
    assert kinds == ["personal", "seal"]


def test_the_receipt_is_issued_after_the_crediting_commit(
    client: Client, citizen: Any, queued: Commit
) -> None:
    from test_payments import bank_through

    dossier = dossier_submit(submission=fee_submission(citizen, 2))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    dossier = act(dossier, "chuyenvien.hacthanh", "request_payment")
    payment = pending(dossier)
    with queued():
        status, _answer = bank_through(Client()).pay(payment.vietqr())
    assert status == 200
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.receipt is None
    assert payment.receipt_issuing is not None
    job = payment.receipt_issuing
    client.force_login(citizen)
    assert "Đang phát hành" in client.get(f"/thanh-toan/{payment.reference}/").content.decode()
    waiting = client.get(f"/thanh-toan/{payment.reference}/bien-lai/")
    assert waiting.status_code == 409
    with queued():
        assert run_queued(job.pk) == [True]
    payment.refresh_from_db()
    assert payment.receipt is not None
    assert payment.receipt_issuing is None
    receipt = client.get(f"/thanh-toan/{payment.reference}/bien-lai/")
    assert receipt["Content-Type"] == "application/pdf"
    assert pdf_verify(receipt.content).ok


def test_a_document_whose_task_was_lost_is_issued_by_the_sweep(
    citizen: Any, queued: Commit
) -> None:
    """A process killed between its commit and its after-commit hook: the worker's sweep
    (documents_nudge on every heartbeat) issues what is due."""
    from tinhso.core.documents import documents_nudge, documents_sweep

    dossier = dossier_submit(submission=submission(citizen))
    with queued():
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    job = dossier.documents.get().issuing
    assert job is not None
    DBTaskResult.objects.all().delete()  # the enqueue never happened
    assert documents_nudge() is False  # not late yet
    PendingDocument.objects.filter(pk=job.pk).update(
        available_at=timezone.now() - timedelta(minutes=5)
    )
    assert documents_nudge() is True
    assert documents_nudge() is False  # one sweep at a time
    [sweep] = DBTaskResult.objects.filter(task_path=documents_sweep.module_path)
    with queued():
        assert sweep.task.call() == 1
    assert dossier.documents.get().ready


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")
def test_two_workers_racing_issue_the_document_once(settings: Any, citizen: Any) -> None:
    """Two workers take the same document at the same moment (the task and a sweep): one
    signs it, the other skips the row it holds; one signature, one file."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from tinhso.signing import services as signing

    settings.TASKS = DB_TASKS
    dossier = act(dossier_submit(submission=submission(citizen)), "tiepnhan.hacthanh", "accept")
    job = dossier.documents.get().issuing
    assert job is not None
    barrier = threading.Barrier(2)
    real_sign = signing.pdf_sign_draft  # a form is written with its seal (ADR 0034)

    def slow_sign(*args: Any, **kwargs: Any) -> Any:
        import time

        time.sleep(0.5)  # the other worker arrives while this one holds the row
        return real_sign(*args, **kwargs)

    def worker(_: int) -> bool:
        try:
            barrier.wait(timeout=10)
            return document_issue(job.pk)
        finally:
            connections.close_all()

    with (
        mock.patch("tinhso.signing.services.pdf_sign_draft", side_effect=slow_sign),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        results = sorted(pool.map(worker, range(2)))
    assert results == [False, True]
    document = DossierDocument.objects.get(pk=dossier.documents.get().pk)
    assert document.ready
    assert document.signed is not None
    assert document.signed.signatures.count() == 1
    assert SignedDocument.objects.filter(reference=dossier.code).count() == 1
    assert PendingDocument.objects.get(pk=job.pk).attempts == 1
