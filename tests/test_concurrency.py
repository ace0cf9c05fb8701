"""Concurrent writers keep the audit chain whole and the lock-out count exact."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

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
