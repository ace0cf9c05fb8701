"""Hourly: payments past their expiry become expired (their VietQR no longer pays)."""

from __future__ import annotations

from django_tasks import task

from tinhso.core.schedule import chain_next
from tinhso.payments.services import payment_expire_due


@task()
def payments_expire() -> int:
    """Expire what is due, then come back in an hour (the worker keeps it going)."""
    expired = payment_expire_due()
    chain_next(payments_expire)
    return expired
