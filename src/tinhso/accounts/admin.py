from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tinhso.accounts.models import Membership, User
from tinhso.core.audit import audit_record


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0
    raw_id_fields = ["agency"]


@admin.register(User)
class TinhSoUserAdmin(UserAdmin):
    list_display = ["username", "full_name", "kind", "is_active", "last_login"]
    list_filter = ["kind", "is_active", "is_staff"]
    search_fields = ["username", "full_name", "email"]
    ordering = ["username"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password", "kind")}),
        (
            _("Profile"),
            {
                "fields": (
                    "full_name",
                    "personal_id",
                    "tax_code",
                    "date_of_birth",
                    "sex",
                    "phone",
                    "email",
                    "permanent_address",
                )
            },
        ),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "kind", "full_name", "password1", "password2")}),
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="user.updated" if change else "user.created",
            obj=obj,
            data={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for membership in formset.new_objects + [o for o, _f in formset.changed_objects]:
            audit_record(
                actor=request.user,
                action="membership.changed",
                obj=membership,
                data={
                    "agency": membership.agency.code,
                    "role": membership.role,
                    "active": membership.is_active,
                    "via": "admin",
                },
            )
