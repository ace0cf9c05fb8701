"""`{{ n|box_count }}`: a box's count as its tab shows it ("12", "over 1,000")."""

from django import template
from django.utils.formats import number_format

from tinhso.cases.inbox import BoxCount

register = template.Library()


@register.filter
def box_count(value: object) -> str:
    if isinstance(value, BoxCount):
        return value.label
    return number_format(value, force_grouping=True) if isinstance(value, int) else ""
