from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tinhso.accounts.policies import signed_in
from tinhso.core.audit import audit_record
from tinhso.feedback.models import Category, Open311Client


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    """The province's administrators keep the categories (Open311 services): their routing,
    target time and questions; the model's clean() checks the questions (Open311
    attributes) and the routing before anything is saved."""

    list_display = ["code", "name", "group", "route", "agency", "time_days", "is_active"]
    list_filter = ["group", "route", "is_active"]
    search_fields = ["code", "name", "keywords"]

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=signed_in(request.user), action="report_category.saved", obj=obj,
            data={"code": obj.code},
        )  # fmt: skip


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin[Open311Client]):
    """Applications that post reports through Open311: a key is made by `tinhso
    open311_key_create NAME` (shown once); here one is seen or turned off."""

    list_display = ["name", "key_hint", "is_active", "created_at"]
    readonly_fields = ["key_hint", "created_at"]
    fields = ["name", "key_hint", "is_active", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
