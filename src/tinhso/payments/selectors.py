"""Reads of the payments module, with who may see which payment."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tinhso.accounts.models import Role, User, UserKind
from tinhso.accounts.selectors import memberships_of
from tinhso.payments.models import BankNotification, Payment


def payment_visible(user: Any, payment: Payment) -> bool:
    """The applicant, and officials of an agency that handles the dossier."""
    from tinhso.dossiers.transitions import actor_roles

    if not isinstance(user, User):
        return False
    if user.pk == payment.dossier.applicant_id:
        return True
    return user.kind == UserKind.OFFICIAL and bool(actor_roles(payment.dossier, user))


def accountant_agencies(user: Any) -> list[Any]:
    if not isinstance(user, User):
        return []
    return [m.agency for m in memberships_of(user) if m.role == Role.ACCOUNTANT]


def payments_for_accountant(user: Any) -> QuerySet[Payment]:
    agencies = accountant_agencies(user)
    if not agencies:
        return Payment.objects.none()
    subtree = Q()
    for agency in agencies:
        subtree |= Q(agency__path__startswith=agency.path)
    return Payment.objects.filter(subtree).select_related("dossier", "agency", "receipt")


def notifications_for_accountant(user: Any) -> QuerySet[BankNotification]:
    """Notifications about the accountant's payments, and those that match no payment
    (forged, malformed, unknown reference): every accountant sees those."""
    if not accountant_agencies(user):
        return BankNotification.objects.none()
    mine = payments_for_accountant(user).values("pk")
    return BankNotification.objects.filter(Q(payment__in=mine) | Q(payment__isnull=True))
