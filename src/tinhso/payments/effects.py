"""What the payments module does for the workflows (cases.effects): an action declaring
`payment.request` asks for the case's fee as a VietQR; one declaring `payments.cancel`
(a dossier that ends) cancels its open payments. Registered in PaymentsConfig.ready."""

from __future__ import annotations

from tinhso.cases.effects import EffectContext
from tinhso.cases.transitions import TransitionError
from tinhso.dossiers.models import Dossier
from tinhso.payments.services import PaymentError, payment_request, payments_cancel_open


def _dossier_of(context: EffectContext) -> Dossier:
    assert isinstance(context.case, Dossier)  # noqa: S101 (fees are asked of dossiers)
    return context.case


def payment_request_effect(context: EffectContext) -> None:
    """Status 6: the fee becomes a payment with its VietQR, sent to the applicant."""
    try:
        payment_request(dossier=_dossier_of(context), actor=context.actor)
    except PaymentError as exc:
        raise TransitionError(exc.message) from exc


def payments_cancel_effect(context: EffectContext) -> None:
    """The case ends: it asks for no more money."""
    payments_cancel_open(
        dossier=_dossier_of(context), reason=context.action.name, actor=context.actor
    )
