"""The producers' forms (Django forms: accessible fields, errors per field); the services
check everything again and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.products.models import ProducerKind, ProductGroup


class UnitChoiceField(forms.ModelChoiceField):
    """Communes by their own names ("Phường Hạc Thành"), not their People's Committees'."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.admin_unit_name or obj.name)


class ProducerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of producer"), choices=ProducerKind.choices)
    name = forms.CharField(
        label=_("Name"), max_length=255, required=False,
        help_text=_("A household may leave it empty: its head's name is used."),
    )  # fmt: skip
    tax_code = forms.CharField(
        label=_("Tax code"), max_length=14, required=False,
        help_text=_("Businesses and cooperatives: 10 digits (or 13 for a branch)."),
    )  # fmt: skip
    commune = UnitChoiceField(
        label=_("Commune or ward"), queryset=Agency.objects.none(), to_field_name="code"
    )
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["commune"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = Agency.objects.filter(level=AgencyLevel.COMMUNE, is_active=True).order_by(
            "admin_unit_name", "name"
        )


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Product name"), max_length=255)
    group = forms.ChoiceField(label=_("OCOP group"), choices=ProductGroup.choices)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip
    gtin = forms.CharField(
        label=_("GTIN (barcode number)"), max_length=20, required=False,
        help_text=_("If the product has its own barcode from GS1 Viet Nam; otherwise the "
                    "province gives it one."),
    )  # fmt: skip
    links = forms.CharField(
        label=_("Where it is sold online"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One shop per line: the platform's name, a space, then its https:// "
                    "address."),
    )  # fmt: skip

    def links_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data.get("links", "").splitlines():
            line = line.strip()
            if not line:
                continue
            name, _sep, url = line.rpartition(" ")
            pairs.append((name.strip(), url.strip()))
        return pairs


class ApplicationForm(forms.Form):
    self_assessment = forms.CharField(
        label=_("Your own assessment"), max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What makes the product stand out, its quality and where it sells."),
    )  # fmt: skip


class OrderForm(forms.Form):
    lot = forms.CharField(
        label=_("Batch number"), max_length=20,
        help_text=_("Up to 20 letters, digits, '-', '.' or '_', as printed on the package."),
    )  # fmt: skip
    produced_on = forms.DateField(
        label=_("Production date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    expires_on = forms.DateField(
        label=_("Expiry date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    place = forms.CharField(
        label=_("Place of production"), max_length=255,
        help_text=_("Shown on every stamp's public page: the commune, or the workshop's "
                    "address; not a home address."),
    )  # fmt: skip
    quantity = forms.IntegerField(label=_("Number of stamps"), min_value=1, max_value=10_000_000)
