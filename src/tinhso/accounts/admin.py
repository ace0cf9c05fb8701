from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from tinhso.accounts.models import Membership, User, UserKind
from tinhso.accounts.policies import signed_in
from tinhso.core.audit import audit_record
from tinhso.core.privacy import mask_address, mask_personal_id, mask_phone
from tinhso.core.roles import role_choices


class MembershipForm(forms.ModelForm[Membership]):
    # The roles the installed modules register (core.roles), read when the form is drawn.
    role = forms.ChoiceField(label=_("role"), choices=role_choices)

    class Meta:
        model = Membership
        fields = ["agency", "role", "title", "is_active"]


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    form = MembershipForm
    extra = 0
    raw_id_fields = ["agency"]


@admin.register(User)
class TinhSoUserAdmin(UserAdmin[User]):
    """Accounts, for the administrators who manage them. A citizen's account name is their
    personal ID: administrators manage accounts, not people (ADR 0015), so citizens'
    identity and contact data are shown masked and cannot be edited here; they come from
    the population registry. Nor is a citizen's password set here."""

    list_display = ["account", "full_name", "kind", "is_active", "last_login"]
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

    @admin.display(description=_("account"), ordering="username")
    def account(self, obj: User) -> str:
        return mask_personal_id(obj.username) if obj.kind == UserKind.CITIZEN else obj.username

    @admin.display(description=_("personal identification number"))
    def masked_personal_id(self, obj: User) -> str:
        return mask_personal_id(obj.personal_id or "")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=_("permanent address"))
    def masked_address(self, obj: User) -> str:
        return mask_address(obj.permanent_address)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None or obj.kind != UserKind.CITIZEN:
            return super().get_fieldsets(request, obj)
        return (
            (None, {"fields": ("account", "kind")}),
            (
                _("Profile"),
                {"fields": ("full_name", "masked_personal_id", "masked_phone", "masked_address")},
            ),
            (_("Permissions"), {"fields": ("is_active",)}),
            (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None or obj.kind != UserKind.CITIZEN:
            return super().get_readonly_fields(request, obj)
        return [
            "account", "kind", "full_name", "masked_personal_id", "masked_phone",
            "masked_address", "last_login", "date_joined",
        ]  # fmt: skip

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # A citizen signs in with their electronic identity: an administrator who could set
        # their password could sign in as them and read all of it, unlogged.
        user = self.get_object(request, unquote(id))
        if user is not None and user.kind == UserKind.CITIZEN:
            raise PermissionDenied(_("A citizen's password is not set here."))
        return super().user_change_password(request, id, form_url)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        # Citizens hold no roles.
        return [] if obj is not None and obj.kind == UserKind.CITIZEN else self.inlines

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=signed_in(request.user),
            action="user.updated" if change else "user.created",
            obj=obj,
            data={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for membership in formset.new_objects + [o for o, _f in formset.changed_objects]:
            audit_record(
                actor=signed_in(request.user),
                action="membership.changed",
                obj=membership,
                data={
                    "agency": membership.agency.code,
                    "role": membership.role,
                    "active": membership.is_active,
                    "via": "admin",
                },
            )
