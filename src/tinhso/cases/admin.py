from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tinhso.accounts.policies import signed_in
from tinhso.cases.models import Workflow
from tinhso.core.audit import audit_record


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin[Workflow]):
    """Workflows are edited here; the model's clean() validates the whole definition
    (reachability, terminal states, its subject's statuses and roles, effects, shares)
    before anything is saved."""

    list_display = ["code", "name", "subject", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Workflow, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=signed_in(request.user), action="workflow.saved", obj=obj, data={"code": obj.code}
        )
