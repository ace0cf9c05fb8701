"""`{{ n|box_count }}`: a box's count as its tab shows it ("12", "over 1,000", "hơn 1.000")."""

from django import template

from tinhso.cases.inbox import BoxCount, count_shown

register = template.Library()


@register.filter
def box_count(value: object) -> str:
    if isinstance(value, BoxCount):
        return value.label
    return count_shown(value) if isinstance(value, int) else ""
