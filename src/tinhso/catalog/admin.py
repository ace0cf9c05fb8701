from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tinhso.accounts.policies import signed_in
from tinhso.catalog.models import Procedure, ProcedureField, RequiredPaper
from tinhso.catalog.services import procedure_refresh_search_text
from tinhso.core.audit import audit_record


class RequiredPaperInline(admin.TabularInline[RequiredPaper, Procedure]):
    model = RequiredPaper
    extra = 0


class ProcedureAdminForm(forms.ModelForm[Procedure]):
    class Meta:
        model = Procedure
        fields = [
            "code",
            "name",
            "field",
            "level",
            "implementing_agency",
            "deciding_body",
            "time_days",
            "time_note",
            "fees",
            "form_schema",
            "online_level",
            "result_methods",
            "result_name",
            "legal_basis",
            "workflow",
            "is_active",
        ]

    def clean_form_schema(self) -> Any:
        schema = self.cleaned_data["form_schema"] or {}
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValidationError(f"JSON Schema: {exc.message}") from exc
        if schema and schema.get("type") != "object":
            raise ValidationError("The e-form schema must be of type object.")
        return schema


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin[Procedure]):
    """Catalogue editors maintain procedures here (or by import_catalog)."""

    form = ProcedureAdminForm
    list_display = ["code", "name", "field", "level", "online_level", "time_days", "is_active"]
    list_filter = ["level", "online_level", "field", "is_active"]
    search_fields = ["code", "name", "search_text"]
    raw_id_fields = ["implementing_agency"]
    inlines = [RequiredPaperInline]

    def save_model(self, request: HttpRequest, obj: Procedure, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        procedure_refresh_search_text(obj)
        audit_record(
            actor=signed_in(request.user),
            action="procedure.updated" if change else "procedure.created",
            obj=obj,
            data={"code": obj.code, "fields": sorted(form.changed_data), "via": "admin"},
        )


@admin.register(ProcedureField)
class ProcedureFieldAdmin(admin.ModelAdmin[ProcedureField]):
    list_display = ["code", "name"]
