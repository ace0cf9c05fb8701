"""The e-office's forms (Django forms: accessible fields, errors per field): a draft of an
outgoing document and a paper document the clerk brings in. The services check everything
again and decide; attachments are checked by content in the views (documents.files)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.documents.models import Confidentiality, DocType, Source, Unit, Urgency


class AgencyChoices(forms.ModelMultipleChoiceField):
    """Communes by their own names ("Phường Hạc Thành"), not their People's Committees'."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.admin_unit_name or obj.name)


def recipient_agencies(agency: Agency) -> QuerySet[Agency]:
    """The agencies of this platform a document may be sent to: the province's and the
    communes', every one but the sender."""
    return (
        Agency.objects.filter(is_active=True, level__in=[AgencyLevel.PROVINCE, AgencyLevel.COMMUNE])
        .exclude(pk=agency.pk)
        .order_by("-level", "name")
    )


class DraftForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocType.choices)
    unit = forms.ModelChoiceField(
        label=_("Drafting unit"), queryset=Unit.objects.none(), required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=1000)
    content = forms.CharField(
        label=_("Content"), widget=forms.Textarea(attrs={"rows": 10}), max_length=100_000
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.NORMAL
    )
    confidentiality = forms.TypedChoiceField(
        label=_("Confidentiality"), choices=Confidentiality.choices, coerce=int, initial=0
    )
    reply_due = forms.DateField(
        label=_("Reply due by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    agencies = AgencyChoices(
        label=_("Recipients: agencies on this platform"),
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or ⌘) to choose several."),
    )
    organs = forms.MultipleChoiceField(
        label=_("Recipients: organisations through the exchange"),
        choices=(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    units = forms.ModelMultipleChoiceField(
        label=_("Recipients: units of this agency"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        own_units: QuerySet[Unit],
        organs: list[tuple[str, str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)  # noqa: S101
        unit_field.queryset = own_units
        agencies = self.fields["agencies"]
        assert isinstance(agencies, forms.ModelMultipleChoiceField)  # noqa: S101
        agencies.queryset = recipient_agencies(agency)
        units = self.fields["units"]
        assert isinstance(units, forms.ModelMultipleChoiceField)  # noqa: S101
        units.queryset = Unit.objects.filter(agency=agency).order_by("code")
        organ_field = self.fields["organs"]
        assert isinstance(organ_field, forms.MultipleChoiceField)  # noqa: S101
        organ_field.choices = [(i, f"{name} ({peer})") for i, name, peer in organs]
        if not organs:
            del self.fields["organs"]


class UploadForm(forms.Form):
    source = forms.ChoiceField(
        label=_("Received by"),
        choices=[(Source.PAPER, Source.PAPER.label), (Source.EMAIL, Source.EMAIL.label)],
    )
    sender_name = forms.CharField(label=_("Sender"), max_length=255)
    notation = forms.CharField(label=_("Number and notation"), max_length=64)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocType.choices)
    promulgated_on = forms.DateField(
        label=_("Dated"), widget=forms.DateInput(attrs={"type": "date"})
    )
    subject = forms.CharField(label=_("Subject"), max_length=1000)
    signer_name = forms.CharField(label=_("Signed by"), max_length=255, required=False)
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.NORMAL
    )
