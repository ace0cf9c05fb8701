"""Concurrent writers keep the audit chain whole and the lock-out count exact."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

import samples
from tinhso.accounts.models import User
from tinhso.accounts.services import api_token_create
from tinhso.core.audit import audit_seal, audit_verify
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
    assert audit_seal().sealed == done  # what the worker's sealer does within a second
    head = AuditHead.objects.get()
    assert head.seq == start + done
    seqs = list(AuditEntry.objects.filter(seq__gt=start).values_list("seq", flat=True))
    assert seqs == list(range(start + 1, start + done + 1))
    report = audit_verify()
    assert report.ok, report.problem


class _CountedPasswordChecks:
    """Counts the password checks of every thread (User.check_password, which Django's
    ModelBackend calls once per sign-in attempt on an existing account)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        original = User.check_password

        def counting(user: User, raw_password: str | None) -> bool:
            with self._lock:
                self.count += 1
            return original(user, raw_password)

        monkeypatch.setattr(User, "check_password", counting)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_concurrent_wrong_passwords_lock_exactly_once(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinhso.accounts.models import SignInGuard
    from tinhso.accounts.services import LoginStatus, login_check

    checks = _CountedPasswordChecks(monkeypatch)

    def attempt(_n: int) -> LoginStatus:
        try:
            return login_check(request=None, username="lanhdao", password="wrong").status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(attempt, range(settings.TINHSO_LOGIN_MAX_FAILURES * 2)))
    assert LoginStatus.LOCKED in statuses
    assert checks.count == settings.TINHSO_LOGIN_MAX_FAILURES
    guard = SignInGuard.objects.get(scope="password", key="lanhdao@-")  # no client known
    assert guard.locked_until is not None
    assert connection.vendor in {"sqlite", "postgresql"}


BURST = 40


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a burst needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_a_burst_of_wrong_passwords_gets_exactly_the_allowed_checks(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 wrong passwords for one name at the same moment: exactly
    TINHSO_LOGIN_MAX_FAILURES of them are checked, the rest are refused as locked, the
    lock is audited once, and the right password is refused while it lasts."""
    from tinhso.accounts.services import LoginStatus, login_check

    limit = settings.TINHSO_LOGIN_MAX_FAILURES
    checks = _CountedPasswordChecks(monkeypatch)
    locks_before = AuditEntry.objects.filter(action="account.locked").count()
    barrier = threading.Barrier(BURST)

    def attempt(n: int) -> LoginStatus:
        try:
            barrier.wait(timeout=60)
            return login_check(request=None, username="lanhdao", password=f"sai-{n}").status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        statuses = list(pool.map(attempt, range(BURST)))

    assert checks.count == limit
    assert set(statuses) <= {LoginStatus.INVALID, LoginStatus.LOCKED}
    assert statuses.count(LoginStatus.LOCKED) >= BURST - limit + 1
    assert AuditEntry.objects.filter(action="account.locked").count() == locks_before + 1
    right = login_check(request=None, username="lanhdao", password="demo")
    assert right.status is LoginStatus.LOCKED
    assert right.retry_after > 0
    assert checks.count == limit  # refused before the password was looked at


SUBMITTERS = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_fifty_concurrent_submissions_get_distinct_gap_free_codes(
    settings: Any, tmp_path: Any
) -> None:
    """50 citizens submit at the same moment to the same agency: 50 distinct codes,
    numbered 0001–0050 with no gap when none fails, on SQLite and on PostgreSQL (where
    each number is taken in a short transaction of its own, ADR 0025)."""
    import threading

    from django.utils import timezone

    from tinhso.accounts.models import UserKind
    from tinhso.accounts.services import citizen_create
    from tinhso.agencies.models import Agency
    from tinhso.catalog.models import Procedure
    from tinhso.core import files as dossier_files
    from tinhso.dossiers.services import Attachment, Submission, dossier_submit

    settings.MEDIA_ROOT = str(tmp_path)
    settings.TINHSO_NUMBERING_ASIDE = True
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
