"""Reports on the platform layer: the roles that handle them, the workflow they follow
(stored as data, subject "report"), the subject type the workflow engine moves, who may see
what (least privilege: the reporter's name and contact only to the receivers of the
responsible body), and the history row and notification of every move. Registered in
FeedbackConfig.ready."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.accounts.policies import Purpose, Viewer, permission_register, purpose_register
from tinhso.cases.models import Workflow
from tinhso.cases.subjects import Box, BoxKind, SubjectType, Transitioned, subject_register
from tinhso.cases.transitions import case_roles, is_applicant
from tinhso.core.notifications import notify, notify_contact
from tinhso.core.roles import RoleDef, role_register
from tinhso.feedback.models import ENDED_STATUSES, Report, ReportEvent, ReportStatus

RECEIVER = "feedback_receiver"
HANDLER = "feedback_handler"
MODERATOR = "feedback_moderator"

ROLES = (
    RoleDef(RECEIVER, gettext_lazy("Report receiver"), "feedback"),
    RoleDef(HANDLER, gettext_lazy("Report handler (field worker)"), "feedback"),
    RoleDef(MODERATOR, gettext_lazy("Report moderator"), "feedback"),
)
WORKFLOW_ROLES = frozenset({RECEIVER, HANDLER})
# Who reads the reporter's name, phone and e-mail: those who answer them.
CONTACT_ROLES = frozenset({RECEIVER})

BOXES = (
    Box("moi", gettext_lazy("To receive")),
    Box("phan-cong", gettext_lazy("To assign")),
    Box("xu-ly", gettext_lazy("To handle")),
    Box("da-tra-loi", gettext_lazy("Answered")),
    Box("sap-den-han", gettext_lazy("Due soon"), BoxKind.DUE_SOON),
    Box("qua-han", gettext_lazy("Overdue"), BoxKind.OVERDUE),
)

WORKFLOW_CODE = "phan-anh"
# The standard handling of a report: the responsible body accepts it (or not, with the
# reason, or marks it a duplicate), assigns it to a field worker, who answers publicly;
# the reporter closes it (or reopens it while it is answered); the body closes what the
# reporter leaves answered.
STANDARD: dict[str, Any] = {
    "start": "new",
    "states": [
        {"name": "new", "status": 1, "box": "moi"},
        {"name": "accepted", "status": 2, "box": "phan-cong"},
        {"name": "in_progress", "status": 3, "box": "xu-ly"},
        {"name": "answered", "status": 4, "box": "da-tra-loi"},
        {"name": "closed", "status": 5, "terminal": True},
        {"name": "rejected", "status": 6, "terminal": True},
        {"name": "duplicate", "status": 7, "terminal": True},
    ],
    "actions": [
        {"name": "accept", "label": "Tiếp nhận", "from": ["new"], "to": "accepted",
         "roles": [RECEIVER]},
        {"name": "reject", "label": "Không tiếp nhận", "from": ["new"], "to": "rejected",
         "roles": [RECEIVER], "note_required": True},
        {"name": "mark_duplicate", "label": "Trùng phản ánh khác", "from": ["new", "accepted"],
         "to": "duplicate", "roles": [RECEIVER], "exceptional": True},
        {"name": "assign", "label": "Giao xử lý", "from": ["accepted", "in_progress"],
         "to": "in_progress", "roles": [RECEIVER], "assigns": HANDLER},
        {"name": "answer", "label": "Trả lời", "from": ["accepted", "in_progress"],
         "to": "answered", "roles": [HANDLER, RECEIVER], "note_required": True},
        {"name": "reopen", "label": "Mở lại", "from": ["answered"], "to": "in_progress",
         "roles": [RECEIVER], "applicant": True, "note_required": True, "exceptional": True},
        {"name": "close", "label": "Đóng", "from": ["answered"], "to": "closed",
         "roles": [RECEIVER], "applicant": True},
        {"name": "forward", "label": "Chuyển cơ quan khác", "from": ["new", "accepted"],
         "to": "new", "roles": [RECEIVER], "note_required": True, "exceptional": True},
    ],
}  # fmt: skip


def workflow_ensure() -> Workflow:
    workflow, _created = Workflow.objects.get_or_create(
        code=WORKFLOW_CODE,
        defaults={"name": "Xử lý phản ánh, kiến nghị", "definition": STANDARD, "subject": "report"},
    )
    return workflow


def _report(done: Transitioned) -> Report:
    assert isinstance(done.case, Report)  # noqa: S101 (the report subject moves reports)
    return done.case


def record(done: Transitioned) -> None:
    ReportEvent.objects.create(
        report=_report(done), actor=done.actor, action=done.action, from_status=done.from_status,
        to_status=done.to_status, note=done.note, at=done.at, assignee=done.assignee,
    )  # fmt: skip


def _tell(report: Report, subject: str, body: str, actor: object = None) -> None:
    """A message to the report's reporter (signed in: every channel they have; anonymous:
    the phone or e-mail they left), unless they made the change themselves."""
    link = f"/phan-anh/{report.code}/"
    if report.reporter is not None:
        if report.reporter != actor:
            notify(user=report.reporter, subject=subject, body=body, link=link)
    else:
        notify_contact(
            phone=report.contact_phone, email=report.contact_email, subject=subject, body=body,
            link=link,
        )  # fmt: skip


def notify_reporter(done: Transitioned) -> None:
    """The reporter hears of every change of status, with the answer or the reason; the
    reporters of the reports marked as its duplicates hear of its answer too."""
    if done.to_status == done.from_status:
        return
    report = _report(done)
    label = str(ReportStatus(done.to_status).label)
    subject = _("Report %(code)s: %(status)s") % {"code": report.code, "status": label}
    body = _("Your report %(code)s is now: %(status)s.") % {"code": report.code, "status": label}
    if done.to_status in (ReportStatus.ANSWERED, ReportStatus.REJECTED) and done.note:
        body += f" {done.note}"
    original = report.duplicate_of
    if done.to_status == ReportStatus.DUPLICATE and original is not None:
        body += " " + _("It repeats report %(code)s.") % {"code": original.code}
        if original.answer:
            body += f" {original.answer}"
    _tell(report, subject, body, done.actor)
    if done.to_status == ReportStatus.ANSWERED:
        for copy in report.duplicates.select_related("reporter"):
            _tell(
                copy,
                _("Report %(code)s: %(status)s") % {"code": copy.code, "status": label},
                _("Report %(code)s, which yours repeats, is answered: %(answer)s")
                % {"code": report.code, "answer": done.note},
            )


def list_queryset() -> QuerySet[Report]:
    return Report.objects.select_related("category", "agency", "commune")


INBOX_COLUMNS = (
    "code", "status", "state", "due_at", "paused_at", "submitted_at", "category__name",
    "address", "commune__name", "public_description",
)  # fmt: skip

REPORT = SubjectType(
    code="report",
    model=Report,
    label=gettext_lazy("report"),
    statuses=frozenset(ReportStatus.values),
    closed_statuses=frozenset({ReportStatus.ANSWERED, *ENDED_STATUSES}),
    clock_starts=frozenset(),  # the due time is set when the report arrives
    roles=WORKFLOW_ROLES,
    boxes=BOXES,
    workflow_of=lambda report: WORKFLOW_CODE,
    workflow_q=lambda code: Q() if code == WORKFLOW_CODE else Q(pk__in=[]),
    handling_agency_ids=lambda report: [report.agency_id],
    handled_q=lambda agency_ids, state: Q(agency_id__in=agency_ids),
    calendar_of=lambda report: report.agency.calendar,
    calendar_field="agency__calendar",
    time_days=lambda report: Decimal(report.category.time_days),
    list_queryset=list_queryset,
    inbox_order=("due_at", "submitted_at"),
    inbox_columns=INBOX_COLUMNS,
    record=record,
    notify=notify_reporter,
    applicant_id=lambda report: report.reporter_id,
    status_label=lambda status: str(ReportStatus(status).label),
)


def may_read_contact(report: Report, user: Viewer) -> bool:
    """The reporter, and the receivers of the responsible body (never a role held above
    it, never the field worker)."""
    if is_applicant(report, user):
        return True
    return bool(case_roles(report, user) & CONTACT_ROLES)


def may_handle(report: Report, user: Viewer) -> bool:
    return bool(case_roles(report, user) & (WORKFLOW_ROLES | {MODERATOR}))


def may_moderate(report: Report, user: Viewer) -> bool:
    return bool(case_roles(report, user) & {MODERATOR, RECEIVER})


def feedback_register() -> None:
    role_register(*ROLES)
    subject_register(REPORT)
    purpose_register(
        Purpose("feedback.handle", WORKFLOW_ROLES | {MODERATOR}, "feedback",
                label="handle citizens' reports"),
    )  # fmt: skip
    permission_register(
        "report.handle", lambda user, r: may_handle(r, user), module="feedback", record=Report
    )
    permission_register(
        "report.read_contact", lambda user, r: may_read_contact(r, user),
        module="feedback", record=Report,
    )  # fmt: skip
    permission_register(
        "report.moderate", lambda user, r: may_moderate(r, user), module="feedback", record=Report
    )
