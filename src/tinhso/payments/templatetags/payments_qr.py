from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from tinhso.payments.models import OPEN_STATES, Payment

register = template.Library()


@register.filter
def vietqr_svg(payment: Payment) -> SafeString:
    """The payment's VietQR as inline SVG while it can be paid; nothing otherwise."""
    from tinhso.payments.views import qr_svg

    if payment.state not in OPEN_STATES or payment.expires_at <= timezone.now():
        return mark_safe("")
    return mark_safe(qr_svg(payment.vietqr()))  # noqa: S308 (segno's SVG, no user text)
