"""OCOP applications and counterfeit signals on the platform layer: the roles that handle
them, their workflows (stored as data: subjects "ocop_application" and "stamp_signal"), the
subject types the workflow engine moves, who may see what, and the history row and
notification of every move. Registered in ProductsConfig.ready."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.accounts.policies import Purpose, Viewer, permission_register, purpose_register
from tinhso.accounts.roles import LEADER
from tinhso.cases.models import Workflow
from tinhso.cases.subjects import Box, BoxKind, SubjectType, Transitioned, subject_register
from tinhso.cases.transitions import case_roles, is_applicant
from tinhso.core.notifications import notify
from tinhso.core.roles import RoleDef, role_register
from tinhso.products.models import (
    OPEN_SIGNAL_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Signal,
    SignalEvent,
    SignalStatus,
)

SECRETARY = "ocop_secretary"
SCORER = "ocop_scorer"
INSPECTOR = "market_inspector"

ROLES = (
    RoleDef(SECRETARY, gettext_lazy("OCOP council secretary"), "products"),
    RoleDef(SCORER, gettext_lazy("OCOP council member (scoring)"), "products"),
    RoleDef(INSPECTOR, gettext_lazy("Market inspector"), "products"),
)
APPLICATION_ROLES = frozenset({SECRETARY, SCORER, LEADER})
# Who reads a household producer's personal ID and phone on an application: those who
# handle it in the council's body (never a role held above it).
PRODUCER_DATA_ROLES = frozenset({SECRETARY, SCORER, LEADER})

APPLICATION_BOXES = (
    Box("moi", gettext_lazy("To check")),
    Box("cham-diem", gettext_lazy("To score")),
    Box("phe-duyet", gettext_lazy("To approve")),
    Box("qua-han", gettext_lazy("Overdue"), BoxKind.OVERDUE),
)
SIGNAL_BOXES = (
    Box("moi", gettext_lazy("New signals")),
    Box("xac-minh", gettext_lazy("Being investigated")),
    Box("qua-han", gettext_lazy("Overdue"), BoxKind.OVERDUE),
)

APPLICATION_WORKFLOW = "ocop"
# The council's standing body checks the application and its evidence (or returns it for
# more), the council members score it on the sheet, the leader approves (the certificate is
# issued, signed and sealed) or refuses it, or sends it back to be scored again.
APPLICATION: dict[str, Any] = {
    "start": "new",
    "states": [
        {"name": "new", "status": 1, "box": "moi"},
        {"name": "scoring", "status": 2, "box": "cham-diem"},
        {"name": "scored", "status": 3, "box": "phe-duyet"},
        {"name": "returned", "status": 4},
        {"name": "certified", "status": 5, "terminal": True},
        {"name": "not_certified", "status": 6, "terminal": True},
    ],
    "actions": [
        {"name": "accept", "label": "Tiếp nhận, chuyển chấm điểm", "from": ["new"],
         "to": "scoring", "roles": [SECRETARY]},
        {"name": "return", "label": "Trả lại, yêu cầu bổ sung", "from": ["new"],
         "to": "returned", "roles": [SECRETARY], "note_required": True},
        {"name": "resubmit", "label": "Nộp lại", "from": ["returned"], "to": "new",
         "roles": [SECRETARY], "applicant": True, "exceptional": True},
        {"name": "score", "label": "Chấm điểm", "from": ["scoring"], "to": "scored",
         "roles": [SCORER]},
        {"name": "rescore", "label": "Chấm lại", "from": ["scored"], "to": "scoring",
         "roles": [LEADER], "note_required": True, "exceptional": True},
        {"name": "approve", "label": "Phê duyệt, cấp giấy chứng nhận", "from": ["scored"],
         "to": "certified", "roles": [LEADER], "effects": ["ocop.certificate"]},
        {"name": "refuse", "label": "Không công nhận", "from": ["scored"],
         "to": "not_certified", "roles": [LEADER], "note_required": True},
    ],
}  # fmt: skip

SIGNAL_WORKFLOW = "tem-canh-bao"
# A market inspector takes a signal up, then concludes: a counterfeit confirmed (the
# conclusion says what was done) or dismissed (a genuine explanation).
SIGNAL: dict[str, Any] = {
    "start": "new",
    "states": [
        {"name": "new", "status": 1, "box": "moi"},
        {"name": "investigating", "status": 2, "box": "xac-minh"},
        {"name": "confirmed", "status": 3, "terminal": True},
        {"name": "dismissed", "status": 4, "terminal": True},
    ],
    "actions": [
        {"name": "investigate", "label": "Xác minh", "from": ["new"], "to": "investigating",
         "roles": [INSPECTOR], "assigns": INSPECTOR},
        {"name": "confirm", "label": "Kết luận: hàng giả", "from": ["new", "investigating"],
         "to": "confirmed", "roles": [INSPECTOR], "note_required": True},
        {"name": "dismiss", "label": "Kết luận: không vi phạm", "from": ["new", "investigating"],
         "to": "dismissed", "roles": [INSPECTOR], "note_required": True},
    ],
}  # fmt: skip


def workflows_ensure() -> None:
    Workflow.objects.get_or_create(
        code=APPLICATION_WORKFLOW,
        defaults={"name": "Đánh giá, phân hạng sản phẩm OCOP", "definition": APPLICATION,
                  "subject": "ocop_application"},
    )  # fmt: skip
    Workflow.objects.get_or_create(
        code=SIGNAL_WORKFLOW,
        defaults={"name": "Xử lý cảnh báo tem truy xuất", "definition": SIGNAL,
                  "subject": "stamp_signal"},
    )  # fmt: skip


def _application(done: Transitioned) -> Application:
    assert isinstance(done.case, Application)  # noqa: S101 (this subject moves applications)
    return done.case


def _signal(done: Transitioned) -> Signal:
    assert isinstance(done.case, Signal)  # noqa: S101 (this subject moves signals)
    return done.case


def application_record(done: Transitioned) -> None:
    ApplicationEvent.objects.create(
        application=_application(done), actor=done.actor, action=done.action,
        from_status=done.from_status, to_status=done.to_status, note=done.note, at=done.at,
    )  # fmt: skip


def application_notify(done: Transitioned) -> None:
    """The producer hears of every change of status of their application, with the note."""
    if done.to_status == done.from_status:
        return
    application = _application(done)
    if application.applicant_id == getattr(done.actor, "pk", None):
        return
    label = str(ApplicationStatus(done.to_status).label)
    body = _("Your OCOP application %(code)s is now: %(status)s.") % {
        "code": application.code, "status": label,
    }  # fmt: skip
    if done.note:
        body += f" {done.note}"
    notify(
        user=application.applicant,
        subject=_("OCOP application %(code)s: %(status)s") % {"code": application.code,
                                                               "status": label},
        body=body, link=f"/ocop/ho-so/{application.code}/",
    )  # fmt: skip


def signal_record(done: Transitioned) -> None:
    SignalEvent.objects.create(
        signal=_signal(done), actor=done.actor, action=done.action,
        from_status=done.from_status, to_status=done.to_status, note=done.note, at=done.at,
    )  # fmt: skip


def signal_notify(done: Transitioned) -> None:
    """The producer hears the inspectors' conclusion on a signal about their product."""
    if done.to_status not in (SignalStatus.CONFIRMED, SignalStatus.DISMISSED):
        return
    signal = _signal(done)
    producer = signal.product.producer
    label = str(SignalStatus(done.to_status).label)
    notify(
        user=producer.owner,
        subject=_("Stamp signal %(code)s: %(status)s") % {"code": signal.code, "status": label},
        body=_("The market inspectors concluded on the signal about %(product)s: %(note)s")
        % {"product": signal.product.name, "note": done.note},
        link="/ocop/co-so/",
    )  # fmt: skip


APPLICATION_SUBJECT = SubjectType(
    code="ocop_application",
    model=Application,
    label=gettext_lazy("OCOP application"),
    statuses=frozenset(ApplicationStatus.values),
    closed_statuses=frozenset(
        {ApplicationStatus.RETURNED, ApplicationStatus.CERTIFIED, ApplicationStatus.NOT_CERTIFIED}
    ),
    clock_starts=frozenset({ApplicationStatus.SCORING}),
    roles=APPLICATION_ROLES,
    boxes=APPLICATION_BOXES,
    workflow_of=lambda application: APPLICATION_WORKFLOW,
    workflow_q=lambda code: Q() if code == APPLICATION_WORKFLOW else Q(pk__in=[]),
    handling_agency_ids=lambda application: [application.agency_id],
    handled_q=lambda agency_ids, state: Q(agency_id__in=agency_ids),
    calendar_of=lambda application: application.agency.calendar,
    calendar_field="agency__calendar",
    # The council scores within 30 working days of taking the application up.
    time_days=lambda application: Decimal(30),
    list_queryset=lambda: Application.objects.select_related("product__producer", "agency"),
    inbox_order=("submitted_at",),
    inbox_columns=(
        "code",
        "status",
        "state",
        "due_at",
        "paused_at",
        "submitted_at",
        "product__name",
        "product__producer__name",
    ),
    record=application_record,
    notify=application_notify,
    applicant_id=lambda application: application.applicant_id,
    status_label=lambda status: str(ApplicationStatus(status).label),
)

SIGNAL_SUBJECT = SubjectType(
    code="stamp_signal",
    model=Signal,
    label=gettext_lazy("counterfeit signal"),
    statuses=frozenset(SignalStatus.values),
    closed_statuses=frozenset({SignalStatus.CONFIRMED, SignalStatus.DISMISSED}),
    clock_starts=frozenset(),  # the due time is set when the signal is raised
    roles=frozenset({INSPECTOR}),
    boxes=SIGNAL_BOXES,
    workflow_of=lambda signal: SIGNAL_WORKFLOW,
    workflow_q=lambda code: Q() if code == SIGNAL_WORKFLOW else Q(pk__in=[]),
    handling_agency_ids=lambda signal: [signal.agency_id],
    handled_q=lambda agency_ids, state: Q(agency_id__in=agency_ids),
    calendar_of=lambda signal: signal.agency.calendar,
    calendar_field="agency__calendar",
    time_days=lambda signal: Decimal(5),
    list_queryset=lambda: Signal.objects.select_related("product", "batch", "commune"),
    inbox_order=("raised_at",),
    inbox_columns=(
        "code",
        "status",
        "state",
        "due_at",
        "paused_at",
        "raised_at",
        "kind",
        "product__name",
        "commune__name",
        "serial",
    ),
    record=signal_record,
    notify=signal_notify,
    applicant_id=lambda signal: None,
    status_label=lambda status: str(SignalStatus(status).label),
)


def may_read_producer_data(application: Application, user: Viewer) -> bool:
    """The applicant, and the secretary, scorers and leaders of the council's body itself."""
    if is_applicant(application, user):
        return True
    return bool(case_roles(application, user) & PRODUCER_DATA_ROLES)


def may_handle_application(application: Application, user: Viewer) -> bool:
    return bool(case_roles(application, user) & APPLICATION_ROLES)


def may_handle_signal(signal: Signal, user: Viewer) -> bool:
    return INSPECTOR in case_roles(signal, user)


def on_council(user: Viewer) -> bool:
    """Whether `user` holds an OCOP role in the council's body itself (a leader of another
    agency holds the leader role, not a seat on the council)."""
    from django.conf import settings

    from tinhso.accounts.policies import memberships_for

    return any(
        m.agency.short_name == settings.TINHSO_OCOP_AGENCY
        for m in memberships_for(user, "products.ocop")
    )


def open_signals() -> QuerySet[Signal]:
    return Signal.objects.filter(status__in=OPEN_SIGNAL_STATUSES)


def products_register() -> None:
    role_register(*ROLES)
    subject_register(APPLICATION_SUBJECT)
    subject_register(SIGNAL_SUBJECT)
    purpose_register(
        Purpose("products.ocop", APPLICATION_ROLES, "products", label="rate OCOP products"),
        Purpose("products.inspect", frozenset({INSPECTOR}), "products",
                label="investigate counterfeit stamps"),
    )  # fmt: skip
    permission_register(
        "ocop.handle", lambda user, a: may_handle_application(a, user), module="products",
        record=Application,
    )  # fmt: skip
    permission_register(
        "ocop.read_producer", lambda user, a: may_read_producer_data(a, user),
        module="products", record=Application,
    )  # fmt: skip
    permission_register(
        "signal.handle", lambda user, s: may_handle_signal(s, user), module="products",
        record=Signal,
    )  # fmt: skip
