from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tinhso.core.models import (
    AuditCheckpoint,
    AuditEntry,
    CalendarException,
    PendingDocument,
    PendingDocumentState,
    PersonalDataAccess,
    WorkerHeartbeat,
    WorkingCalendar,
)
from tinhso.core.privacy import mask_text


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Logs are written by services only; the admin can read them, never change them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The chain, read-only. Its actors are shown masked: entries written before labels were
    masked name a citizen by their personal ID."""

    list_display = ["seq", "at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "actor_label"]
    exclude = ["actor_label"]
    readonly_fields = ["actor"]

    @admin.display(description=_("actor name"), ordering="actor_label")
    def actor(self, obj: AuditEntry) -> str:
        return mask_text(obj.actor_label)


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["number", "at", "seq", "head_hash", "signer", "timestamped_at"]
    exclude = ["signature"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    """Which task workers beat, and what they run (core.worker)."""

    list_display = ["worker_id", "host", "pid", "started_at", "beat_at", "stopped_at", "task_path"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "official", "agency", "record", "channel"]
    list_filter = ["channel", "record"]


class CalendarExceptionInline(admin.TabularInline[CalendarException, WorkingCalendar]):
    model = CalendarException
    extra = 1


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(admin.ModelAdmin[WorkingCalendar]):
    """Working hours and the year's announced days off / make-up working days."""

    list_display = ["code", "name", "morning_start", "afternoon_end", "intake_cutoff"]
    inlines = [CalendarExceptionInline]


@admin.register(PendingDocument)
class PendingDocumentAdmin(ReadOnlyAdmin):
    """Forms, results and receipts issued after commit (core.documents, ADR 0023): those
    still being issued, those that failed after their retries (with the error), and a
    "retry" action. Their inputs are not shown (names, notes)."""

    list_display = ["id", "label", "kind", "state", "attempts", "available_at", "created_at",
                    "issued_at", "last_error"]  # fmt: skip
    list_filter = ["state", "kind"]
    search_fields = ["key", "label"]
    exclude = ["payload"]
    actions = ["retry"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    @admin.action(description=_("Issue the selected documents again"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[PendingDocument]) -> None:
        from tinhso.core.documents import documents_retry

        count = documents_retry(queryset.exclude(state=PendingDocumentState.ISSUED))
        self.message_user(
            request, _("%(count)d documents queued to be issued again.") % {"count": count},
            messages.SUCCESS,
        )  # fmt: skip
