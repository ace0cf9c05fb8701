from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from tinhso.agencies.models import Agency
from tinhso.agencies.services import agency_save, check_parent


class AgencyAdminForm(forms.ModelForm[Agency]):
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Agency
        fields = [
            "code",
            "name",
            "name_en",
            "short_name",
            "kind",
            "level",
            "parent",
            "admin_unit_code",
            "admin_unit_type",
            "admin_unit_name",
            "address",
            "phone",
            "email",
            "website",
            "calendar",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        probe = Agency(
            pk=self.instance.pk,
            code=cleaned.get("code", ""),
            parent=cleaned.get("parent"),
            path=self.instance.path,
        )
        if probe.code:
            try:
                check_parent(probe)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Agency]):
    form = AgencyAdminForm
    list_display = ["code", "name", "kind", "level", "parent", "is_active"]
    list_filter = ["level", "kind", "is_active"]
    search_fields = ["code", "name", "search_text"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path", "depth"]

    def save_model(self, request: HttpRequest, obj: Agency, form: Any, change: bool) -> None:
        # Through the service, so the tree paths and the audit chain stay right.
        actor = request.user if request.user.is_authenticated else None
        agency_save(actor=actor, agency=obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Agencies are deactivated, never deleted: dossiers and audit rows refer to them.
        return False
