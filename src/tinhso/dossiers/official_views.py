"""Officials' pages: the inboxes and a dossier's page with its actions (no JavaScript
needed). Opening a dossier shows the applicant's data, so each look is logged where the
citizen can see it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tinhso.accounts.access import personal_data_access_record
from tinhso.accounts.models import User
from tinhso.accounts.policies import may
from tinhso.accounts.roles import RECEIVER
from tinhso.agencies.models import Agency
from tinhso.catalog.eform import form_summary_sections
from tinhso.core import files as dossier_files
from tinhso.core.errors import refusals_shown
from tinhso.core.input import day_clean, moment_clean
from tinhso.core.privacy import mask_personal_id
from tinhso.dossiers.inbox import BOXES, inbox_look
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.pages import (
    attachments_from_request,
    document_pending_response,
    document_response,
)
from tinhso.dossiers.policy import (
    agencies_with_role,
    register_agencies,
    workflow_memberships,
)
from tinhso.dossiers.selectors import dossier_by_code, dossier_visible
from tinhso.dossiers.services import DataRead, dossier_read_record
from tinhso.dossiers.subject import handling_agency_ids
from tinhso.dossiers.transitions import (
    allowed_actions,
    dossier_act,
    working_time_left,
)
from tinhso.dossiers.workflow import action_label, history_label


def _official(request: HttpRequest) -> User:
    """The signed-in official, if they hold a role in dossier workflows."""
    user = request.user
    if not isinstance(user, User) or not workflow_memberships(user):
        raise PermissionDenied(_("This page is for the officials who handle dossiers."))
    return user


def _handled(user: User, code: str) -> Dossier:
    """The dossier, if the official handles it (dossiers.policy); 404 / 403 otherwise."""
    dossier = dossier_by_code(code)
    if dossier is None:
        raise Http404
    if not dossier_visible(dossier, user):
        raise PermissionDenied(_("You may not see this dossier."))
    return dossier


def _personal(user: User, code: str) -> Dossier:
    """The dossier, if the official may also read its applicant's personal data."""
    dossier = _handled(user, code)
    if not may(user, "dossier.read_personal_data", dossier):
        raise PermissionDenied(_("Your role does not give access to the applicant's data."))
    return dossier


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    user = _official(request)
    look = inbox_look(user)
    counts = look.counts()
    slug = request.GET.get("hop", "")
    if slug not in {b.slug for b in BOXES}:
        # Land on the first box that holds work for this official's roles.
        slug = next((b.slug for b in BOXES if counts.get(b.slug)), BOXES[0].slug)
    now = timezone.now()
    rows = [
        {"dossier": d, "applicant_id": mask_personal_id(d.applicant.personal_id or ""),
         # Late: its due time passed (while it ran: a paused clock stopped at paused_at).
         "late": d.due_at is not None and (d.paused_at or now) > d.due_at}
        for d in look.rows(slug)
    ]  # fmt: skip
    context = {
        "boxes": BOXES,
        "slug": slug,
        "rows": rows,
        "counts": counts,
        "can_register": bool(register_agencies(user)),
    }
    return render(request, "dossiers/inbox.html", context)


@login_required
def dossier_view(request: HttpRequest, code: str) -> HttpResponse:
    """The dossier's page. The personal-data roles see the declaration, the papers and the
    forms (and the look is logged for the citizen); other workflow roles (the clerk) see
    where the dossier is and the documents their role opens."""
    user = _official(request)
    dossier = _handled(user, code)
    personal = may(user, "dossier.read_personal_data", dossier)
    if personal:
        dossier_read_record(official=user, dossier=dossier, record=DataRead.DOSSIER)
    actions = allowed_actions(dossier, user)
    # The officials an assigning action may choose: those holding the role it assigns, in
    # an agency handling the dossier (that very agency).
    assigns = next((a.assigns for a in actions if a.assigns), "")
    specialists = []
    if assigns:
        specialists = list(
            User.objects.filter(
                memberships__role=assigns,
                memberships__is_active=True,
                memberships__agency_id__in=handling_agency_ids(dossier),
                is_active=True,
            )
            .distinct()
            .order_by("full_name")
        )
    context = {
        "dossier": dossier,
        "personal": personal,
        "applicant_id": dossier.applicant.personal_id
        if personal
        else mask_personal_id(dossier.applicant.personal_id or ""),
        "actions": [(a.name, action_label(a.name, a.label)) for a in actions],
        "history": [
            (e, history_label(e)) for e in dossier.events.select_related("actor", "assignee")
        ],
        "declaration": form_summary_sections(
            dossier.procedure.form_schema or {}, dossier.form_data or {}
        )
        if personal
        else [],
        "files": list(dossier.files.all()) if personal else [],
        "documents": [
            d
            for d in dossier.documents.select_related("signed", "issuing")
            if may(user, "dossier.open_document", d)
        ],
        "left": working_time_left(dossier),
        "specialists": specialists,
        "can_extend": may(user, "dossier.extend", dossier),
        "can_sign_result": any("result.sign" in a.effects for a in actions),
    }
    return render(request, "dossiers/official_dossier.html", context)


@login_required
@require_POST
@refusals_shown("dossiers:official_dossier", "code")
def act_view(request: HttpRequest, code: str) -> HttpResponse:
    user = _official(request)
    dossier = _handled(user, code)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    try:
        version = int(request.POST.get("version", "0"))
    except ValueError:
        version = 0
    if action == "refuse" and not note.strip():
        messages.error(request, _("Give the reason for refusing."))
        return redirect("dossiers:official_dossier", code=code)
    assignee = None
    if request.POST.get("assignee"):
        assignee = User.objects.filter(username=request.POST["assignee"], is_active=True).first()
    dossier_act(
        dossier=dossier,
        actor=user,
        action=action,
        version=version,
        note=note,
        assignee=assignee,
    )
    messages.success(request, _("Done: dossier %(code)s has moved on.") % {"code": dossier.code})
    return redirect("dossiers:official_dossier", code=code)


@login_required
def file_view(request: HttpRequest, code: str, file_id: int) -> FileResponse:
    """An attached paper, for the officials who handle the dossier (never a public URL)."""
    user = _official(request)
    dossier = _personal(user, code)
    attached = dossier.files.filter(pk=file_id).first()
    if attached is None:
        raise Http404
    dossier_read_record(
        official=user, dossier=dossier, record=DataRead.ATTACHMENT, detail=attached.paper_name
    )
    return dossier_files.upload_response(
        attached.storage_name, filename=attached.original_name, content_type=attached.content_type
    )


@login_required
def document_view(request: HttpRequest, code: str, document_id: int) -> HttpResponse | FileResponse:
    """An issued form, for the officials whose role opens it (dossiers.policy); logged."""
    user = _official(request)
    dossier = _handled(user, code)
    document = dossier.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404
    if not may(user, "dossier.open_document", document):
        raise PermissionDenied(_("Your role does not give access to the applicant's data."))
    if not document.ready:
        return document_pending_response(request, dossier, document)
    dossier_read_record(
        official=user,
        dossier=dossier,
        record=DataRead.DOCUMENT,
        detail=str(document.get_kind_display()),
    )
    return document_response(request, dossier, document_id)


@login_required
def control_sheet_view(request: HttpRequest, code: str) -> HttpResponse:
    """BM.05, generated from the events as they stand."""
    from tinhso.dossiers.legal_forms import render_bm05

    user = _official(request)
    dossier = _personal(user, code)
    dossier_read_record(official=user, dossier=dossier, record=DataRead.CONTROL_SHEET)
    response = HttpResponse(render_bm05(dossier), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="BM05-{dossier.code}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def register_view(request: HttpRequest) -> HttpResponse:
    """BM.06 for one of the agencies whose register the official keeps (dossiers.policy)
    and a period, as an Excel workbook or a PDF; every applicant listed sees the download
    in their access log."""
    from datetime import date, timedelta

    from tinhso.accounts.access import personal_data_access_record_many
    from tinhso.dossiers.register import register_pdf, register_rows, register_workbook

    user = _official(request)
    agencies = register_agencies(user)
    if not agencies:
        raise PermissionDenied(_("The register is kept by the agency's receivers and leaders."))
    agency = next((a for a in agencies if a.code == request.GET.get("co_quan")), agencies[0])
    try:
        end = (
            date.fromisoformat(request.GET.get("den", ""))
            if request.GET.get("den")
            else timezone.localdate()
        )
        start = (
            date.fromisoformat(request.GET["tu"])
            if request.GET.get("tu")
            else end - timedelta(days=30)
        )
    except ValueError:
        return HttpResponse(_("Dates are written YYYY-MM-DD."), status=400)
    try:
        # Year 1 cannot even be turned into UTC for the query.
        start, end = day_clean(start), day_clean(end)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400)
    if start > end or (end - start).days > 366:
        return HttpResponse(_("Choose a period of at most one year."), status=400)
    rows = register_rows(agency, start, end)
    # The register lists applicants' addresses and phones: each of them sees the download.
    personal_data_access_record_many(
        official=user,
        citizens=[d.applicant for d in rows],
        purpose=_("Downloaded the register of dossiers (BM.06) of %(agency)s")
        % {"agency": agency.name},
        agency=agency,
        record="bm06",
    )
    if request.GET.get("dinh_dang") == "pdf":
        pdf = HttpResponse(register_pdf(agency, start, end, rows), content_type="application/pdf")
        pdf["Content-Disposition"] = f'inline; filename="BM06-{agency.code}-{start}-{end}.pdf"'
        return pdf
    content = register_workbook(agency, start, end, rows)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="BM06-{agency.code}-{start}-{end}.xlsx"'
    )
    return response


def _receiver_agencies(user: User) -> list[Agency]:
    return agencies_with_role(user, {RECEIVER})


@login_required
def counter_view(request: HttpRequest) -> HttpResponse:
    """Register a walk-in or postal dossier. Step 1 finds the citizen in the population
    registry (the look is logged for them); step 2 is the prefilled e-form and the scans."""
    from django.core.exceptions import ValidationError

    from tinhso.accounts.identity import parse_personal_id
    from tinhso.accounts.registry import registry
    from tinhso.accounts.selectors import identity_profile
    from tinhso.catalog.eform import (
        form_coerce,
        form_fields,
        form_identity_apply,
        form_locked,
        form_prefill,
    )
    from tinhso.catalog.models import Procedure, ResultMethod
    from tinhso.catalog.selectors import (
        ProcedureFilters,
        RankedProcedures,
        procedure_get,
        procedure_search,
        procedures_received_by,
        receiving_agencies_for,
    )
    from tinhso.dossiers.counter import citizen_for_intake, dossier_register_at_counter
    from tinhso.dossiers.models import Channel
    from tinhso.dossiers.services import DossierInvalid, Submission

    user = _official(request)
    agencies = _receiver_agencies(user)
    if not agencies:
        raise PermissionDenied(_("Only receivers register dossiers at the counter."))
    data = request.POST if request.method == "POST" else request.GET
    # The personal ID travels in the POST body only, never in a URL (and so never in the
    # access logs of proxies and servers): a GET only preselects the procedure.
    personal_id = request.POST.get("personal_id", "").strip()
    typed = data.get("procedure", "").strip()[:255]
    procedure = procedure_get(code=typed) if typed else None
    received = procedures_received_by(agencies)
    matches: list[Procedure] = []
    if typed and procedure is None:
        # Typed a name, not picked from the list (or no datalist on this browser): the
        # catalogue's search among what this counter receives; one match is that one.
        # Ranked over the whole catalogue (ids only), kept to what this counter receives,
        # then the first 50 loaded: a procedure of this counter outranked by many of other
        # levels is still offered.
        allowed = {p.pk for p in received}
        ranked = procedure_search(ProcedureFilters(q=typed))
        matches = RankedProcedures([pk for pk in ranked.ids if pk in allowed])[:50]
        if len(matches) == 1:
            procedure = procedure_get(code=matches[0].code)
    channel = Channel.POST if data.get("channel") == "3" else Channel.COUNTER
    context: dict[str, object] = {
        "personal_id": personal_id, "procedure": procedure, "channel": channel, "errors": {},
        "agencies": agencies, "procedures": received, "typed": typed,
        "matches": matches if procedure is None else [],
    }  # fmt: skip
    if typed and procedure is None and data.get("lookup"):
        context["error"] = (
            _("Several procedures match: pick one from the list.")
            if matches
            else _("No procedure received here matches “%(typed)s”.") % {"typed": typed}
        )
        return render(request, "dossiers/counter.html", context, status=400)
    if not personal_id or procedure is None:
        if data.get("lookup"):
            context["error"] = _("Give the procedure code and the personal identification number.")
            return render(request, "dossiers/counter.html", context, status=400)
        return render(request, "dossiers/counter.html", context)
    try:
        parse_personal_id(personal_id)
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "dossiers/counter.html", context, status=400)
    profile = registry().lookup(personal_id)
    if profile is None:
        context["error"] = _("This personal identification number is not in the registry.")
        return render(request, "dossiers/counter.html", context, status=404)
    citizen = citizen_for_intake(profile=profile, official=user)
    receiving = [a for a in receiving_agencies_for(procedure) if a in agencies]
    if not receiving:
        context["error"] = _("Your agency does not receive dossiers for this procedure.")
        return render(request, "dossiers/counter.html", context, status=400)
    schema = procedure.form_schema or {"type": "object"}
    status = 200
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and request.POST.get("register"):
        values = form_coerce(
            schema, {k[5:]: v for k, v in request.POST.items() if k.startswith("form.")}
        )
        attachments, errors = attachments_from_request(request, procedure, citizen)
        if not errors:
            submission = Submission(
                procedure=procedure, applicant=citizen, receiving_agency=receiving[0],
                result_method=request.POST.get("result_method", ""), form_data=values,
                delivery_address=request.POST.get("delivery_address", ""),
                attachments=attachments, channel=channel,
            )  # fmt: skip
            try:
                dossier = dossier_register_at_counter(submission=submission, receiver=user)
            except DossierInvalid as exc:
                errors = exc.errors
            else:
                messages.success(
                    request, _("Dossier %(code)s registered and accepted.") % {"code": dossier.code}
                )
                return redirect("dossiers:official_dossier", code=dossier.code)
        status = 400
        prefilled: set[str] = set()
    else:
        personal_data_access_record(
            official=user, citizen=citizen, agency=receiving[0], record="registry",
            purpose=_("Counter intake: %(procedure)s") % {"procedure": procedure.name},
        )  # fmt: skip
        values, prefilled = form_prefill(schema, identity_profile(citizen))
    locked = form_locked(schema, identity_profile(citizen))
    context.update({
        "citizen": citizen,
        "fields": form_fields(
            schema, form_identity_apply(schema, values, identity_profile(citizen)), errors,
            prefilled, locked,
        ),
        "errors": errors,
        "general_errors": errors.get("__all__", []),
        "papers": [{"paper": p, "errors": errors.get(f"paper-{p.pk}", []), "stored": []}
                   for p in procedure.papers.all()],
        "methods": [(m, ResultMethod(m).label) for m in procedure.result_methods],
        "chosen_method": request.POST.get("result_method") or (procedure.result_methods or [""])[0],
        "address": request.POST.get("delivery_address", citizen.permanent_address),
        "receiving": receiving[0],
    })  # fmt: skip
    return render(request, "dossiers/counter.html", context, status=status)


@login_required
@require_POST
@refusals_shown("dossiers:official_dossier", "code")
def extend_view(request: HttpRequest, code: str) -> HttpResponse:
    """Issue BM.04 (apology and extension) from the dossier page."""
    from datetime import datetime

    from tinhso.dossiers.transitions import dossier_extend

    user = _official(request)
    dossier = _handled(user, code)
    try:
        new_due = datetime.fromisoformat(request.POST.get("new_due", ""))
        version = int(request.POST.get("version", "0"))
    except ValueError:
        messages.error(request, _("Give the new due date and time."))
        return redirect("dossiers:official_dossier", code=code)
    try:
        new_due = moment_clean(new_due)  # an offset no place has, a year out of range
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("dossiers:official_dossier", code=code)
    dossier_extend(
        dossier=dossier, official=user, reason=request.POST.get("reason", ""),
        new_due=new_due, version=version,
    )  # fmt: skip
    messages.success(request, _("BM.04 issued; the citizen has been told the new due time."))
    return redirect("dossiers:official_dossier", code=code)
