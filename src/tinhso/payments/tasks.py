"""Hourly: payments past their expiry become expired (their VietQR no longer pays)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from tinhso.payments.services import payment_expire_due


@task()
def payments_expire() -> int:
    """Expire what is due, then come back in an hour (the worker keeps it going)."""
    expired = payment_expire_due()
    if payments_expire.get_backend().supports_defer:
        payments_expire.using(run_after=timezone.now() + timedelta(hours=1)).enqueue()
    return expired
