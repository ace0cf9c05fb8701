"""Dossiers on the platform layer: the subject type the workflow engine moves (cases), the
effects dossier workflows declare that this module provides (the signed forms of Circular
03/2025/TT-VPCP, the result signed by the leader and sealed by the clerk), and the history
row and notification of every move. Registered in DossiersConfig.ready."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.accounts.policies import Viewer, memberships
from tinhso.accounts.roles import CLERK, LEADER
from tinhso.agencies.models import Agency
from tinhso.cases.effects import EffectContext, effect_register
from tinhso.cases.graph import State
from tinhso.cases.subjects import Box, BoxKind, SubjectType, Transitioned, subject_register
from tinhso.cases.transitions import TransitionError, TransitionForbiddenError
from tinhso.core.notifications import notify
from tinhso.dossiers.models import (
    CLOSED_STATUSES,
    DocumentKind,
    Dossier,
    DossierEvent,
    DossierStatus,
)
from tinhso.dossiers.workflow import WORKFLOW_ROLES, inter_agency_agency

BOXES = (
    Box("tiep-nhan", gettext_lazy("To receive")),
    Box("xu-ly", gettext_lazy("To process")),
    Box("phe-duyet", gettext_lazy("To approve")),
    Box("phat-hanh", gettext_lazy("To issue")),
    Box("tra-ket-qua", gettext_lazy("To return")),
    Box("sap-den-han", gettext_lazy("Due soon"), BoxKind.DUE_SOON),
    Box("qua-han", gettext_lazy("Overdue"), BoxKind.OVERDUE),
    Box("tam-dung", gettext_lazy("Paused"), BoxKind.PAUSED),
)


def handling_agency_ids(dossier: Dossier) -> list[int]:
    """The agencies that handle the dossier now: the receiving agency and the department
    implementing the procedure; during an inter-agency step, only the other agency."""
    other = inter_agency_agency(dossier)
    if other is not None:
        return [other.pk]
    ids = [dossier.receiving_agency_id, dossier.procedure.implementing_agency_id]
    return [i for i in ids if i is not None]


def _province_agency_ids(province_key: str) -> list[int]:
    return list(
        Agency.objects.filter(path__startswith=f"/{province_key}/").values_list("id", flat=True)
    )


def inter_agency_q(agency_ids: list[int], only_state: State | None = None) -> Q:
    """Dossiers in an inter-agency step that belongs to one of these agencies (by short
    name, within the same province)."""
    from tinhso.cases.selectors import workflow_graphs

    condition = Q(pk__in=[])
    agencies = [a for a in Agency.objects.filter(pk__in=agency_ids) if a.level != "commune"]
    by_name = {a.short_name: a for a in agencies if a.short_name}
    if not by_name:
        return condition
    for code, graph in workflow_graphs("dossier").items():
        for state in graph.states.values():
            agency = by_name.get(state.inter_agency)
            if agency is None or (only_state is not None and state.name != only_state.name):
                continue
            province = agency.path.split("/")[1]
            condition |= Q(
                procedure__workflow=code,
                state=state.name,
                receiving_agency_id__in=_province_agency_ids(province),
            )
    return condition


def handled_q(agency_ids: list[int], state: State | None) -> Q:
    """The dossiers these agencies handle (in `state`, or in any): received by them, of a
    procedure they implement, or in an inter-agency step of theirs. Built from id lists so
    each part uses an index. In an inter-agency state only the other agency handles it."""
    from tinhso.catalog.models import Procedure

    if state is not None and state.inter_agency:
        return inter_agency_q(agency_ids, state)
    procedure_ids = list(
        Procedure.objects.filter(implementing_agency_id__in=agency_ids)
        .order_by()  # a set for IN: no sort by the procedures' name
        .values_list("id", flat=True)
    )
    condition = Q(receiving_agency_id__in=agency_ids)
    if procedure_ids:
        condition |= Q(procedure_id__in=procedure_ids)
    if state is None:
        condition |= inter_agency_q(agency_ids)
    return condition


def handled_by(dossier: Dossier, agencies: list[Agency]) -> bool:
    """Whether these agencies handle the dossier as `handled_q(ids, None)` says, decided
    from the loaded dossier (its procedure and receiving agency) and agency rows: received
    by one, of a procedure one implements, or in an inter-agency step of one (a department,
    by short name, of the receiving agency's province). The same rule as a filter; a test
    holds the two equal."""
    from tinhso.cases.selectors import workflow_graphs

    ids = {a.pk for a in agencies}
    if dossier.receiving_agency_id in ids or dossier.procedure.implementing_agency_id in ids:
        return True
    by_name = {a.short_name: a for a in agencies if a.level != "commune" and a.short_name}
    if not by_name or dossier.receiving_agency is None:
        return False
    graph = workflow_graphs("dossier").get(dossier.procedure.workflow)
    state = graph.states.get(dossier.state) if graph is not None else None
    if state is None or not state.inter_agency or state.inter_agency not in by_name:
        return False
    province = by_name[state.inter_agency].path.split("/")[1]
    return dossier.receiving_agency.path.startswith(f"/{province}/")


def list_queryset() -> QuerySet[Dossier]:
    # Lists never show the form, the e-form schema or the legal texts: leave them in the db.
    return (
        Dossier.objects.exclude(status=DossierStatus.DRAFT)
        .select_related("procedure", "receiving_agency", "applicant")
        .defer(
            "form_data", "procedure__form_schema", "procedure__legal_basis",
            "procedure__search_text", "procedure__fees", "procedure__result_template",
            "receiving_agency__search_text", "applicant__password",
        )
    )  # fmt: skip


def _dossier(done: Transitioned) -> Dossier:
    assert isinstance(done.case, Dossier)  # noqa: S101 (the dossier subject moves dossiers)
    return done.case


def record(done: Transitioned) -> None:
    """The dossier's history row: what the citizen and the auditors read (and BM.05)."""
    DossierEvent.objects.create(
        dossier=_dossier(done), actor=done.actor, action=done.action, from_status=done.from_status,
        to_status=done.to_status, note=done.note, step_due_at=done.step_due_at, at=done.at,
        assignee=done.assignee,
    )  # fmt: skip


def notify_applicant(done: Transitioned) -> None:
    if done.to_status == done.from_status:
        return
    dossier = _dossier(done)
    label = str(DossierStatus(done.to_status).label)
    notify(
        user=dossier.applicant,
        subject=_("Dossier %(code)s: %(status)s") % {"code": dossier.code, "status": label},
        body=_("Your dossier %(code)s is now: %(status)s.")
        % {"code": dossier.code, "status": label}
        + (f" {done.note}" if done.note else ""),
    )


# What an inbox row shows (dossiers/inbox.html) and the API's list items.
INBOX_COLUMNS = (
    "code", "status", "state", "due_at", "paused_at", "submitted_at", "procedure__code",
    "procedure__name", "receiving_agency__code", "applicant__full_name", "applicant__personal_id",
)  # fmt: skip

DOSSIER = SubjectType(
    code="dossier",
    model=Dossier,
    label=gettext_lazy("dossier"),
    statuses=frozenset(s for s in DossierStatus.values if s != DossierStatus.DRAFT),
    closed_statuses=frozenset(CLOSED_STATUSES),
    clock_starts=frozenset({DossierStatus.ACCEPTED}),
    roles=WORKFLOW_ROLES,
    boxes=BOXES,
    workflow_of=lambda dossier: dossier.procedure.workflow,
    workflow_q=lambda code: Q(procedure__workflow=code),
    handling_agency_ids=handling_agency_ids,
    handled_q=handled_q,
    calendar_of=lambda d: d.receiving_agency.calendar if d.receiving_agency else None,
    calendar_field="receiving_agency__calendar",
    time_days=lambda dossier: Decimal(dossier.procedure.time_days),
    list_queryset=list_queryset,
    inbox_order=("due_at", "submitted_at"),
    inbox_columns=INBOX_COLUMNS,
    record=record,
    notify=notify_applicant,
    applicant_id=lambda dossier: dossier.applicant_id,
    status_label=lambda status: str(DossierStatus(status).label),
)


# --- effects ----------------------------------------------------------------------------------


def acting_agency(dossier: Dossier, user: Viewer, role: str) -> Agency | None:
    """The handling agency in which `user` holds `role` (the implementing department
    before the receiving service centre)."""
    ids = handling_agency_ids(dossier)
    for agency_id in reversed(ids):
        for m in memberships(user):
            if m.role == role and m.agency_id == agency_id:
                return m.agency
    return None


def _dossier_of(context: EffectContext) -> Dossier:
    assert isinstance(context.case, Dossier)  # noqa: S101 (dossier workflows move dossiers)
    return context.case


def _signing_refused(exc: Exception) -> TransitionError:
    return TransitionError(getattr(exc, "message", str(exc)))


def form_effect(context: EffectContext) -> None:
    """`form:<KIND>`: issue that form (BM.01, BM.02, BM.03, the stop notice), signed with
    the receiving agency's seal."""
    from tinhso.dossiers import legal_forms
    from tinhso.signing.services import SigningError

    dossier, actor, note, now = _dossier_of(context), context.actor, context.note, context.now
    kind = DocumentKind(context.argument)
    agency = dossier.receiving_agency
    if agency is None:
        return
    name = getattr(actor, "full_name", "") or getattr(actor, "username", "")
    inputs: dict[str, Any] = {"name": name, "note": note}
    if kind == DocumentKind.BM01:
        inputs["accepted_at"] = legal_forms.frozen(dossier.accepted_at)
        inputs["due_at"] = legal_forms.frozen(dossier.due_at)
    elif kind == DocumentKind.STOP:
        # A withdrawal is the citizen's request, whoever records it.
        inputs["by_applicant"] = context.action.applicant or getattr(actor, "pk", None) == (
            dossier.applicant_id
        )
    try:
        legal_forms.form_queue(
            dossier=dossier, kind=kind, agency=agency, actor=actor, now=now, inputs=inputs
        )
    except SigningError as exc:
        raise _signing_refused(exc) from exc


def result_sign_effect(context: EffectContext) -> None:
    """`result.sign`: the result, laid out by the procedure's template (catalog.results),
    numbered in its register (yearly per agency, gap-free, in this transaction), and signed
    with the leader's own certificate for the agency in which they lead; the clerk adds
    that agency's seal when issuing it."""
    from tinhso.catalog.results import DEFAULT_TEMPLATE, register_code, register_number
    from tinhso.core.numbering import Period, sequence_next
    from tinhso.dossiers import legal_forms
    from tinhso.signing.services import SigningError

    dossier, leader, note, now = _dossier_of(context), context.actor, context.note, context.now
    agency = acting_agency(dossier, leader, LEADER)
    if agency is None or leader is None:
        raise TransitionForbiddenError(_("You may not take this action on this dossier."))
    template = dossier.procedure.result_template or DEFAULT_TEMPLATE
    if template.get("note_required") and not note.strip():
        raise TransitionError(
            _("Write “%(what)s” in the note: the result states it.")
            % {"what": template["note_required"]}
        )
    title = next((m.title for m in memberships(leader) if m.agency_id == agency.pk and m.title), "")
    day = timezone.localdate(now)
    serial = sequence_next(
        register=f"result:{register_code(template)}", scope=str(agency.pk),
        period=Period.YEARLY, day=day,
    )  # fmt: skip
    number = register_number(template, serial, day.year)
    try:
        legal_forms.form_queue(
            dossier=dossier,
            kind=DocumentKind.RESULT,
            agency=agency,
            actor=leader,
            personal=leader,
            now=now,
            number=number,
            inputs={
                "name": leader.full_name, "title": title, "note": note, "number": number,
                "serial": serial, "year": day.year, "template": template,
            },
        )  # fmt: skip
    except SigningError as exc:
        raise _signing_refused(exc) from exc


def result_seal_effect(context: EffectContext) -> None:
    """`result.seal`: the clerk of the agency that signed the result adds its seal."""
    from tinhso.dossiers import legal_forms
    from tinhso.signing.services import SigningError

    dossier, clerk = _dossier_of(context), context.actor
    document = legal_forms.result_document(dossier)
    if document is None or document.agency is None:
        raise TransitionError(_("The leader has not signed a result for this dossier yet."))
    agency = document.agency
    if not any(m.role == CLERK and m.agency_id == agency.pk for m in memberships(clerk)):
        raise TransitionForbiddenError(
            _("Only a clerk of %(agency)s may seal its result.") % {"agency": agency.name}
        )
    try:
        # After the leader's signature, even if that is still being issued (ADR 0023).
        legal_forms.seal_queue(document=document, clerk=clerk, now=context.now)
    except SigningError as exc:
        raise _signing_refused(exc) from exc


def dossier_subject_register() -> None:
    subject_register(DOSSIER)
    effect_register("form", form_effect, module="dossiers", takes_argument=True)
    effect_register("result.sign", result_sign_effect, module="dossiers")
    effect_register("result.seal", result_seal_effect, module="dossiers")
