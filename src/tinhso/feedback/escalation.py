"""Overdue reports go up: every hour (a task chain on the worker, `tinhso
feedback_escalate --schedule`), each open report past its due time and not escalated yet is
reported to the leaders of its responsible body (their inbox, SMS and e-mail) and to its
receivers, once, with a line in its history; then it is marked escalated (a report reopened
or forwarded keeps its mark: its lateness was told)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tinhso.accounts.models import Membership, User
from tinhso.accounts.roles import LEADER
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.notifications import notify
from tinhso.core.schedule import chain_next
from tinhso.feedback.models import OPEN_STATUSES, Report, ReportEvent
from tinhso.feedback.subject import RECEIVER

BATCH = 500


@dataclass(frozen=True)
class ReportEscalated(Event):
    kind = "report.escalated"
    report: Report

    def audit(self) -> AuditItem:
        return AuditItem(action="report.escalate", obj=self.report,
                         data={"code": self.report.code})  # fmt: skip


def _supervisors(report: Report) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            agency_id=report.agency_id, role__in=[LEADER, RECEIVER], is_active=True,
            user__is_active=True,
        ).select_related("user")
    ]  # fmt: skip


def escalate_overdue() -> int:
    """Escalate the open reports past their due time (at most BATCH a run); returns how
    many. Each in its own transaction, claimed first, so two runs never tell twice."""
    now = timezone.now()
    ids = list(
        Report.objects.filter(
            escalated_at__isnull=True, status__in=[int(s) for s in OPEN_STATUSES], due_at__lt=now
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            if not Report.objects.filter(pk=pk, escalated_at__isnull=True).update(escalated_at=now):
                continue
            report = Report.objects.select_related("agency", "category").get(pk=pk)
            due = timezone.localtime(report.due_at).strftime("%d/%m/%Y") if report.due_at else ""
            note = _("Overdue since %(due)s: told to the body's leaders.") % {"due": due}
            ReportEvent.objects.create(
                report=report, action="escalate", from_status=report.status,
                to_status=report.status, note=note, at=now,
            )  # fmt: skip
            for person in _supervisors(report):
                notify(
                    user=person,
                    subject=_("Report %(code)s is overdue") % {"code": report.code},
                    body=_("Report %(code)s (%(category)s) was due on %(due)s and is not answered.")
                    % {"code": report.code, "category": report.category.name, "due": due},
                    link=f"/can-bo/phan-anh/{report.code}/",
                )
            event_emit(ReportEscalated(report=report))
        done += 1
    return done


@task()
def feedback_escalate() -> int:
    """Escalate, then come back in an hour (the worker keeps it going)."""
    done = escalate_overdue()
    chain_next(feedback_escalate)
    return done
