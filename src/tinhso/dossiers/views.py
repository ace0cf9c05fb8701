"""Citizen pages: fill and submit a dossier, my dossiers, and public tracking."""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tinhso.accounts.models import User, UserKind
from tinhso.accounts.selectors import identity_profile
from tinhso.catalog.eform import (
    form_coerce,
    form_fields,
    form_identity_apply,
    form_locked,
    form_prefill,
)
from tinhso.catalog.models import ResultMethod
from tinhso.catalog.selectors import procedure_get, receiving_agencies_for
from tinhso.core.calendar import add_working_days, hours_for
from tinhso.core.errors import refusals_shown
from tinhso.core.idempotency import idempotency_run
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.pages import attachments_from_request, document_response
from tinhso.dossiers.selectors import dossier_tracking, dossiers_of_citizen, stored_papers_of
from tinhso.dossiers.services import (
    DossierInvalid,
    Submission,
    dossier_save_draft,
    dossier_submit,
)
from tinhso.dossiers.workflow import history_label

# The submit page's one-time key (a fresh one each time the empty form is shown).
ONCE_RE = re.compile(r"[0-9a-f]{32}")


def _citizen(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or user.kind == UserKind.OFFICIAL:
        raise PermissionDenied(_("Dossiers are submitted by citizens and organisations."))
    return user


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, code: str) -> HttpResponse:
    procedure = procedure_get(code=code)
    if procedure is None:
        raise Http404
    user = _citizen(request)
    draft: Dossier | None = None
    draft_id = request.POST.get("draft") or request.GET.get("nhap")
    if draft_id:
        draft = Dossier.objects.filter(
            public_id=draft_id, applicant=user, status=DossierStatus.DRAFT, procedure=procedure
        ).first()
    schema = procedure.form_schema or {"type": "object"}
    receiving = receiving_agencies_for(procedure)
    profile = identity_profile(user)
    prefill, prefilled = form_prefill(schema, profile)
    errors: dict[str, list[str]] = {}
    status = 200
    posted_once = request.POST.get("once", "")
    once = posted_once if ONCE_RE.fullmatch(posted_once) else uuid.uuid4().hex
    if request.method == "POST":
        raw = {k[5:]: v for k, v in request.POST.items() if k.startswith("form.")}
        values = form_coerce(schema, raw)
        agency = next(
            (a for a in receiving if a.code == request.POST.get("receiving_agency")), None
        )
        attachments, errors = attachments_from_request(request, procedure, user)
        submission = Submission(
            procedure=procedure,
            applicant=user,
            receiving_agency=agency,
            result_method=request.POST.get("result_method", ""),
            form_data=values,
            delivery_address=request.POST.get("delivery_address", ""),
            attachments=attachments,
        )
        if not errors:
            try:
                if request.POST.get("action") == "draft":
                    draft = dossier_save_draft(submission=submission, draft=draft)
                    messages.success(
                        request, _("Draft saved. You can come back to it from My dossiers.")
                    )
                    return redirect(
                        reverse("dossiers:submit", args=[procedure.code])
                        + f"?nhap={draft.public_id}"
                    )
                # The page's one-time key: the back button and a second press of "Submit"
                # (or two racing requests) give the dossier the first one made.
                outcome = idempotency_run(
                    user=user, operation="dossiers.submit_page", key=once,
                    request={"procedure": procedure.code},
                    create=lambda: dossier_submit(submission=submission, draft=draft),
                )  # fmt: skip
                if not outcome.created:
                    messages.info(
                        request, _("This form had already been submitted: here is its dossier.")
                    )
                    return redirect("dossiers:mine_detail", public_id=outcome.result.public_id)
                return redirect(
                    reverse("dossiers:mine_detail", args=[outcome.result.public_id]) + "?da-nop=1"
                )
            except DossierInvalid as exc:
                errors = exc.errors
            except ValidationError as exc:
                errors = {"__all__": exc.messages}
        status = 400
        chosen_agency, chosen_method = (
            request.POST.get("receiving_agency", ""),
            submission.result_method,
        )
        address = submission.delivery_address
    else:
        values = {**prefill, **(draft.form_data if draft else {})}
        chosen_agency = draft.receiving_agency.code if draft and draft.receiving_agency else ""
        if not chosen_agency and len(receiving) == 1:
            chosen_agency = receiving[0].code
        chosen_method = draft.result_method if draft else (procedure.result_methods or [""])[0]
        address = draft.delivery_address if draft else user.permanent_address
    papers = []
    attached = {f.paper_id: f for f in draft.files.all()} if draft else {}
    for paper in procedure.papers.all():
        papers.append(
            {
                "paper": paper,
                "errors": errors.get(f"paper-{paper.pk}", []),
                "stored": list(stored_papers_of(user, paper.paper_type))
                if paper.paper_type
                else [],
                "attached": attached.get(paper.pk),
            }
        )
    context = {
        "procedure": procedure,
        "draft": draft,
        # Identity fields are read-only and stay as the state knows them whatever is posted.
        "fields": form_fields(
            schema,
            form_identity_apply(schema, values, profile),
            errors,
            prefilled,
            form_locked(schema, profile),
        ),
        "errors": errors,
        "general_errors": errors.get("__all__", []),
        "papers": papers,
        "receiving": receiving,
        "chosen_agency": chosen_agency,
        "methods": [(m, ResultMethod(m).label) for m in procedure.result_methods],
        "chosen_method": chosen_method,
        "address": address,
        "max_mb": _max_mb(),
        "once": once,
    }
    return render(request, "dossiers/submit.html", context, status=status)


def _max_mb() -> int:
    from django.conf import settings

    return int(settings.TINHSO_UPLOAD_MAX_BYTES // 1048576)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = _citizen(request)
    dossiers = list(dossiers_of_citizen(user))
    return render(
        request,
        "dossiers/mine.html",
        {
            "drafts": [d for d in dossiers if d.status == DossierStatus.DRAFT],
            "dossiers": [d for d in dossiers if d.status != DossierStatus.DRAFT],
        },
    )


@login_required
def mine_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _citizen(request)
    dossier = (
        dossiers_of_citizen(user).filter(public_id=public_id).prefetch_related("files").first()
    )
    if dossier is None:
        raise Http404
    # The steps by name; whom it was assigned to stays in the back office.
    history = [(e, history_label(e, assignee_named=False)) for e in dossier.events.all()]
    context: dict[str, object] = {"dossier": dossier, "history": history}
    if request.GET.get("da-nop") == "1" and dossier.submitted_at is not None:
        # The confirmation panel: the code, when the result is expected (the due date the
        # receiving agency sets on accepting it, estimated from the procedure's time limit
        # until then), what happens next and how the result comes back.
        agency = dossier.receiving_agency
        hours = hours_for(agency.calendar if agency else None)
        context["confirmation"] = {
            "expected": dossier.due_at
            or add_working_days(dossier.submitted_at, dossier.procedure.time_days, hours),
        }
    return render(request, "dossiers/mine_detail.html", context)


def track(request: HttpRequest) -> HttpResponse:
    """Public tracking by code: status, dates and the agency, never personal data."""
    code = request.GET.get("ma", "").strip()[:64]
    dossier = dossier_tracking(code) if code else None
    status = 404 if code and dossier is None else 200
    events = dossier.events if dossier else []
    return render(
        request,
        "dossiers/track.html",
        {"code": code, "dossier": dossier, "events": events},
        status=status,
    )


@login_required
def mine_document(
    request: HttpRequest, public_id: str, document_id: int
) -> HttpResponse | FileResponse:
    """A form issued for one of the citizen's own dossiers."""
    user = _citizen(request)
    dossier = dossiers_of_citizen(user).filter(public_id=public_id).first()
    if dossier is None:
        raise Http404
    return document_response(request, dossier, document_id)


@login_required
@require_http_methods(["POST"])
@refusals_shown("dossiers:mine_detail", "public_id")
def mine_rate(request: HttpRequest, public_id: str) -> HttpResponse:
    from tinhso.dossiers.services import dossier_rate

    user = _citizen(request)
    dossier = dossiers_of_citizen(user).filter(public_id=public_id).first()
    if dossier is None:
        raise Http404
    try:
        score = int(request.POST.get("score", "0"))
    except ValueError:
        messages.error(request, _("Choose one of the three ratings."))
        return redirect("dossiers:mine_detail", public_id=dossier.public_id)
    comment = request.POST.get("comment", "")
    dossier_rate(dossier=dossier, citizen=user, score=score, comment=comment)
    messages.success(request, _("Thank you for your rating."))
    return redirect("dossiers:mine_detail", public_id=dossier.public_id)
