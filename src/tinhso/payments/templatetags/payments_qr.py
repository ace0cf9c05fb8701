from django import template
from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from tinhso.cases.transitions import case_ended
from tinhso.dossiers.models import Dossier
from tinhso.payments.fees import FeeQuote, fee_quote
from tinhso.payments.models import Payment, PaymentState

register = template.Library()


@register.simple_tag
def fee_due(dossier: Dossier) -> FeeQuote | None:
    """The dossier's fee with its breakdown while it is still to be paid (computed from the
    procedure's schedule and the submitted form); None when there is nothing to pay."""
    if dossier.code is None or case_ended(dossier):  # refused, withdrawn, stopped…
        return None
    if Payment.objects.filter(
        Q(state=PaymentState.SUCCEEDED) | ~Q(review=""), dossier=dossier
    ).exists():
        return None  # paid, or money arrived that the accountant is reviewing
    form = dossier.form_data or {}
    quote = fee_quote(dossier.procedure, form, str(form.get("doi_tuong_mien_giam", "")))
    return quote if quote.total > 0 else None


@register.filter
def vietqr_svg(payment: Payment) -> SafeString:
    """The payment's VietQR as inline SVG while it can be paid; nothing otherwise."""
    from tinhso.payments.views import qr_svg

    if not payment.is_payable():
        return mark_safe("")
    return mark_safe(qr_svg(payment.vietqr()))  # noqa: S308 (segno's SVG, no user text)
