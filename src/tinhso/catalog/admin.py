from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tinhso.accounts.policies import may, signed_in
from tinhso.catalog.models import Procedure, ProcedureField, RequiredPaper, SearchSynonym
from tinhso.catalog.results import result_preview, result_template_problems
from tinhso.catalog.services import procedure_refresh_search_text
from tinhso.core.audit import audit_record
from tinhso.core.text import search_form


class KeptByCatalogueEditors:
    """The catalogue's admin pages are the catalogue editors' (policy `catalog.edit`), as
    well as staff given the models' permissions (the superuser, the editors' group)."""

    def _editor(self, request: HttpRequest) -> bool:
        return may(request.user, "catalog.edit")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self._editor(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or self._editor(request)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) or self._editor(request)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or self._editor(request)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) or self._editor(request)  # type: ignore[misc]


class RequiredPaperInline(KeptByCatalogueEditors, admin.TabularInline[RequiredPaper, Procedure]):
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
            "result_template",
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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        template = cleaned.get("result_template")
        if template:
            problems = result_template_problems(template, cleaned.get("form_schema") or {})
            if problems:
                self.add_error("result_template", problems)
        return cleaned


@admin.register(Procedure)
class ProcedureAdmin(KeptByCatalogueEditors, admin.ModelAdmin[Procedure]):
    """Catalogue editors maintain procedures here (or by import_catalog)."""

    form = ProcedureAdminForm
    list_display = ["code", "name", "field", "level", "online_level", "time_days", "is_active"]
    list_filter = ["level", "online_level", "field", "is_active"]
    search_fields = ["code", "name", "search_text"]
    raw_id_fields = ["implementing_agency"]
    inlines = [RequiredPaperInline]
    readonly_fields = ["result_preview"]

    @admin.display(description=_("Result preview"))
    def result_preview(self, obj: Procedure) -> str:
        if obj.pk is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:catalog_procedure_result_preview", args=[obj.pk]),
            _("The result paper laid out from a sample dossier (PDF)"),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/xem-truoc-ket-qua/",
                self.admin_site.admin_view(self.result_preview_view),
                name="catalog_procedure_result_preview",
            ),
            *super().get_urls(),
        ]

    def result_preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The saved template laid out from a sample dossier, unsigned, marked a preview;
        no number is taken from the register."""
        procedure = get_object_or_404(Procedure, pk=pk)
        if not self.has_view_permission(request, procedure):
            raise PermissionDenied
        content = result_preview(procedure)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="ket-qua-mau-{procedure.pk}.pdf"'
        return response

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
class ProcedureFieldAdmin(KeptByCatalogueEditors, admin.ModelAdmin[ProcedureField]):
    list_display = ["code", "name"]


@admin.register(SearchSynonym)
class SearchSynonymAdmin(KeptByCatalogueEditors, admin.ModelAdmin[SearchSynonym]):
    """What people type for a procedure and what the search reads it as; saved in the
    search's own spelling (no diacritics), as the catalogue file's are."""

    list_display = ["phrase", "means"]
    search_fields = ["phrase", "means"]

    def save_model(self, request: HttpRequest, obj: SearchSynonym, form: Any, change: bool) -> None:
        obj.phrase, obj.means = search_form(obj.phrase), search_form(obj.means)
        super().save_model(request, obj, form, change)
        audit_record(
            actor=signed_in(request.user), action="synonym.saved", obj=obj,
            data={"phrase": obj.phrase, "means": obj.means},
        )  # fmt: skip
