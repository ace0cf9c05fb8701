from django.contrib import admin
from django.http import HttpRequest

from tinhso.core.models import AuditEntry, PersonalDataAccess


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read-only: the chain is written by services only."""

    list_display = ["seq", "at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "actor_label"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin[PersonalDataAccess]):
    list_display = ["at", "official", "agency", "record", "channel"]
    list_filter = ["channel", "record"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
