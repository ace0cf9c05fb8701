"""The e-form's controls (catalog.eform): each input names its help, its registry note and
its errors (`{% load eform %}` in catalog/_eform.html)."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from tinhso.catalog.eform import FormField

register = template.Library()


@register.simple_tag
def eform_input(field: FormField) -> SafeString:
    """The control of one e-form field, naming its help, registry note and errors."""
    described = []
    if field.help:
        described.append(f"{field.id}-help")
    if field.prefilled:
        described.append(f"{field.id}-pre")
    if field.errors:
        described.append(f"{field.id}-error")
    attrs: dict[str, object] = {"id": field.id, "name": f"form.{field.name}"}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if field.required:
        attrs["required"] = True
        attrs["aria-required"] = "true"
    attrs.update(field.attrs)
    if field.locked:
        # From the person's identity: shown, posted, but set again on the server. A select
        # cannot be read-only, so it is disabled (the server fills the value in).
        attrs["disabled" if field.widget == "select" else "readonly"] = True

    def render_attrs(extra: dict[str, object]) -> SafeString:
        items = {**attrs, **extra}
        return format_html_join(
            " ",
            "{}",
            (
                (format_html("{}", k) if v is True else format_html('{}="{}"', k, v),)
                for k, v in items.items()
            ),
        )

    value = "" if field.value is None else str(field.value)
    if field.widget == "select":
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (v, SafeString(" selected") if v == value else "", label)
                for v, label in field.choices
            ),
        )
        return format_html(
            '<select {}><option value="">—</option>{}</select>', render_attrs({}), options
        )
    if field.widget == "textarea":
        return format_html('<textarea {} rows="4">{}</textarea>', render_attrs({}), value)
    kind = {"date": "date", "email": "email", "integer": "number", "number": "number"}.get(
        field.widget, "text"
    )
    extra: dict[str, object] = {"type": kind, "value": value}
    if field.widget == "integer":
        extra["inputmode"] = "numeric"
    return format_html("<input {}>", render_attrs(extra))
