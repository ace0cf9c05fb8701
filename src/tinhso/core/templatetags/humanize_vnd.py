from django import template
from django.utils.translation import gettext as _

from tinhso.core.words import grouped

register = template.Library()


@register.filter
def vnd(amount: object) -> str:
    """200000 → '200.000 đồng' (Vietnamese grouping); 0 → 'free'."""
    try:
        value = int(str(amount))
    except (TypeError, ValueError):
        return str(amount)
    if value == 0:
        return _("free of charge")
    return grouped(value) + " " + _("VND")
