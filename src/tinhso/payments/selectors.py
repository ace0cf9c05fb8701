"""Reads of the payments module, with who may see which payment."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tinhso.accounts.models import User, UserKind
from tinhso.accounts.policies import Viewer, agencies_for
from tinhso.agencies.models import Agency
from tinhso.payments.models import BankNotification, Payment


def payment_visible(user: Viewer, payment: Payment) -> bool:
    """The applicant; the officials who handle the dossier and read its applicant's data
    (dossiers.policy: that very agency, never a parent); the accountants of the agency the
    fee is paid to."""
    from tinhso.dossiers.policy import may_read_personal_data

    if not isinstance(user, User):
        return False
    if user.pk == payment.dossier.applicant_id:
        return True
    if user.kind != UserKind.OFFICIAL:
        return False
    if may_read_personal_data(payment.dossier, user):
        return True
    return any(agency.pk == payment.agency_id for agency in accountant_agencies(user))


def accountant_agencies(user: Viewer) -> list[Agency]:
    """The agencies in which `user` keeps the payments (policy `payments.keep`: the
    accountants of that very agency)."""
    return agencies_for(user, "payments.keep")


def payments_for_accountant(user: Viewer) -> QuerySet[Payment]:
    """Payments into the accountant's agencies; an accountant of a parent agency does not
    see those of the agencies below it."""
    agencies = accountant_agencies(user)
    if not agencies:
        return Payment.objects.none()
    return Payment.objects.filter(agency__in=agencies).select_related(
        "dossier", "agency", "receipt"
    )


def notifications_for_accountant(user: Viewer) -> QuerySet[BankNotification]:
    """Notifications about the accountant's payments, and those that match no payment
    (forged, malformed, unknown reference): every accountant sees those."""
    if not accountant_agencies(user):
        return BankNotification.objects.none()
    mine = payments_for_accountant(user).values("pk")
    return BankNotification.objects.filter(Q(payment__in=mine) | Q(payment__isnull=True))
