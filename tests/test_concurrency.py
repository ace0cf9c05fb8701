"""Concurrent writers keep the audit chain whole and the lock-out count exact."""

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

import samples
from tinhso.accounts.models import User
from tinhso.accounts.services import api_token_create
from tinhso.core.audit import audit_verify
from tinhso.core.models import AuditEntry, AuditHead

WRITERS = 8
EACH = 5


def _issue_tokens(user_pk: int) -> int:
    try:
        user = User.objects.get(pk=user_pk)
        for n in range(EACH):
            api_token_create(user=user, name=f"t{n}")
        return EACH
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_concurrent_writers_extend_one_unbroken_chain() -> None:
    users = list(User.objects.filter(kind="official").values_list("pk", flat=True)[:WRITERS])
    start = AuditHead.objects.get().seq
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        done = sum(pool.map(_issue_tokens, users))
    assert done == len(users) * EACH
    head = AuditHead.objects.get()
    assert head.seq == start + done
    seqs = list(AuditEntry.objects.filter(seq__gt=start).values_list("seq", flat=True))
    assert seqs == list(range(start + 1, start + done + 1))
    report = audit_verify()
    assert report.ok, report.problem


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_concurrent_wrong_passwords_lock_exactly_once(settings: Any) -> None:
    from tinhso.accounts.models import LoginLock
    from tinhso.accounts.services import LoginStatus, login_check

    def attempt(_n: int) -> LoginStatus:
        try:
            return login_check(request=None, username="lanhdao", password="wrong").status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(attempt, range(settings.TINHSO_LOGIN_MAX_FAILURES * 2)))
    assert LoginStatus.LOCKED in statuses
    assert LoginLock.objects.filter(username="lanhdao").count() == 1
    assert connection.vendor in {"sqlite", "postgresql"}


SUBMITTERS = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_fifty_concurrent_submissions_get_distinct_gap_free_codes(
    settings: Any, tmp_path: Any
) -> None:
    """50 citizens submit at the same moment to the same agency: 50 distinct codes,
    numbered 0001–0050 with no gap, on SQLite and on PostgreSQL."""
    import threading

    from django.utils import timezone

    from tinhso.accounts.models import UserKind
    from tinhso.accounts.services import citizen_create
    from tinhso.agencies.models import Agency
    from tinhso.catalog.models import Procedure
    from tinhso.core import files as dossier_files
    from tinhso.dossiers.services import Attachment, Submission, dossier_submit

    settings.MEDIA_ROOT = str(tmp_path)
    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    procedure = Procedure.objects.get(code="1.001193")
    paper = procedure.papers.get(paper_type="giay-chung-sinh")
    checked = dossier_files.check_upload(None, name="cs.pdf", content=samples.pdf())
    applicants = [
        citizen_create(actor=None, personal_id=f"038095{n:06d}", full_name=f"Công dân {n}")
        for n in range(SUBMITTERS)
    ]
    assert all(a.kind == UserKind.CITIZEN for a in applicants)
    form = {
        "nguoi_yeu_cau": {
            "ho_ten": "Công dân",
            "so_dinh_danh": "038095000000",
            "noi_cu_tru": "Hạc Thành",
        },
        "quan_he": "me",
        "tre": {
            "ho_ten": "Bé",
            "gioi_tinh": "nu",
            "ngay_sinh": "2026-11-01",
            "noi_sinh": "Bệnh viện",
        },
        "me": {"ho_ten": "Công dân"},
    }
    barrier = threading.Barrier(10)
    codes: list[str] = []
    errors: list[BaseException] = []

    def submit(applicant: Any) -> None:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            dossier = dossier_submit(
                submission=Submission(
                    procedure=procedure,
                    applicant=applicant,
                    receiving_agency=agency,
                    result_method="online",
                    form_data=form,
                    attachments=[Attachment(paper=paper, upload=checked)],
                )
            )
            codes.append(dossier.code or "")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(submit, applicants))
    assert errors == []
    prefix = f"{agency.code}-{timezone.localdate():%y%m%d}-"
    assert sorted(codes) == [f"{prefix}{n:04d}" for n in range(1, SUBMITTERS + 1)]
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_the_same_bank_notification_delivered_at_once_credits_once() -> None:
    """Banks retry: eight copies of one signed notification arrive together. One credit."""
    import json as json_lib

    from django.utils import timezone

    from test_payments import waiting_for_payment
    from tinhso.payments.models import BankTransaction, Payment, PaymentState
    from tinhso.payments.services import notification_receive, provider

    dossier = waiting_for_payment(User.objects.get(username="038090000001"))
    payment = Payment.objects.get(dossier=dossier)
    body = json_lib.dumps({"transaction_id": "FT-RACE", "reference": payment.reference,
                           "amount": payment.amount, "status": "succeeded",
                           "occurred_at": timezone.now().isoformat()}).encode()  # fmt: skip
    headers = {"X-Signature": provider().sign(body)}

    def deliver(_n: int) -> str:
        try:
            return notification_receive(body=body, headers=headers).outcome
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = sorted(pool.map(deliver, range(WRITERS)))
    assert outcomes == ["credited"] + ["duplicate"] * (WRITERS - 1)
    assert BankTransaction.objects.filter(transaction_id="FT-RACE").count() == 1
    payment.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED
    assert dossier.events.filter(action="paid").count() == 1
