from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tinhso.accounts.identity import parse_personal_id


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("User name or personal identification number"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        min_length=6,
        max_length=7,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=365, initial=30)


class CitizenLookupForm(forms.Form):
    personal_id = forms.CharField(
        label=_("Personal identification number"),
        max_length=12,
        min_length=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("12 digits."),
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        min_length=3,
        max_length=255,
        help_text=_("The citizen will see who looked at their data, when, and why."),
    )
    agency = forms.ChoiceField(label=_("Acting for"), choices=())

    def __init__(self, *args: object, agencies: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["agency"]).choices = agencies
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0][0]

    def clean_personal_id(self) -> str:
        value: str = self.cleaned_data["personal_id"].strip()
        try:
            parse_personal_id(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return value
