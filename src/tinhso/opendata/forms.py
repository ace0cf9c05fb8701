"""Forms of the publishers' pages; the services validate again (the API shares them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tinhso.agencies.models import Agency
from tinhso.opendata.licences import LICENCES
from tinhso.opendata.models import Frequency, Theme


class DatasetForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    name = forms.SlugField(
        label=_("Address (slug)"),
        max_length=100,
        help_text=_("Lower-case letters without diacritics, digits and -, e.g. truong-hoc-2026."),
    )
    owner_org = forms.ChoiceField(label=_("Publishing agency"))
    groups = forms.ChoiceField(label=_("Field"))
    notes = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    license_id = forms.ChoiceField(
        label=_("Licence"), choices=[(k, v.title) for k, v in LICENCES.items()]
    )
    frequency = forms.ChoiceField(
        label=_("Update frequency"), choices=[("", "—"), *Frequency.choices], required=False
    )
    temporal_start = forms.DateField(
        label=_("Covers from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    temporal_end = forms.DateField(
        label=_("Covers until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    spatial = forms.CharField(label=_("Place covered"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)

    def __init__(self, *args: Any, agencies: list[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner_org"]
        groups = self.fields["groups"]
        assert isinstance(owner, forms.ChoiceField)  # noqa: S101 (declared above)
        assert isinstance(groups, forms.ChoiceField)  # noqa: S101
        owner.choices = [(a.code, a.name) for a in agencies]
        groups.choices = [(t.name, t.title) for t in Theme.objects.all()]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["groups"] = [data["groups"]]
        data["tags"] = [t.strip() for t in data["tags"].split(",") if t.strip()]
        return data


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    upload = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("CSV, XLSX, JSON, GeoJSON or PDF. CSV and XLSX become a queryable table."),
    )
    url = forms.URLField(
        label=_("Or a link"), required=False, assume_scheme="https", max_length=1000
    )
