"""The e-office's pages for officials: the boxes, the draft form, an outgoing document's page
(its versions, history, the recipients' trace, the moves), an incoming document's page
(registering, assigning, handling, a recall's answer), the clerk's upload of a paper
document, and the attachments' downloads (readers only, each download in the audit log).
Server-rendered: they work without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tinhso.accounts.models import Membership, User
from tinhso.accounts.policies import may, memberships_for, official
from tinhso.agencies.models import Agency
from tinhso.cases.inbox import inbox_look
from tinhso.cases.transitions import case_actions, case_roles
from tinhso.core.audit import audit_record
from tinhso.core.errors import DomainError, refusals_shown
from tinhso.core.files import CheckedFile, document_response, upload_response
from tinhso.documents import services
from tinhso.documents.edxml import STATUS_CODES
from tinhso.documents.exchange import external_organ, external_organs, local_agency
from tinhso.documents.files import check_attachment
from tinhso.documents.forms import DraftForm, UploadForm
from tinhso.documents.mail import MAX_MESSAGE, mail_import
from tinhso.documents.models import (
    Assignment,
    AssignmentRole,
    Attachment,
    Incoming,
    IncomingStatus,
    Outgoing,
    OutgoingStatus,
    RecipientKind,
    Source,
    Unit,
)
from tinhso.documents.roles import CLERK, DOCUMENT_ROLES, LEADER, SPECIALIST, UNIT_HEAD
from tinhso.documents.subject import (
    INCOMING_BOXES,
    INCOMING_SUBJECT,
    OUTGOING_BOXES,
    incoming_actions,
)

DRAFTERS = (SPECIALIST, UNIT_HEAD, LEADER)
OPEN_INCOMING = (IncomingStatus.ASSIGNED, IncomingStatus.IN_PROGRESS)


def _official(request: HttpRequest) -> User:
    """The signed-in official holding a documents role (403 otherwise)."""
    user = official(request.user)
    if user is None:
        raise PermissionDenied(_("Only officials see this page."))
    if not memberships_for(user, "documents.handle"):
        raise PermissionDenied(_("This page is for the officials who handle documents."))
    return user


def _drafting_agencies(user: User) -> list[Agency]:
    found: dict[int, Agency] = {}
    for m in Membership.objects.filter(user=user, is_active=True, role__in=DRAFTERS).select_related(
        "agency"
    ):
        found.setdefault(m.agency_id, m.agency)
    return sorted(found.values(), key=lambda a: a.name)


def _outgoing(user: User, pk: int) -> Outgoing:
    outgoing = get_object_or_404(
        Outgoing.objects.select_related("agency", "unit", "author", "signed", "issuing"), pk=pk
    )
    if not may(user, "outgoing.read", outgoing):
        raise PermissionDenied(_("This document belongs to another agency."))
    return outgoing


def _incoming(user: User, pk: int) -> Incoming:
    incoming = get_object_or_404(Incoming.objects.select_related("agency"), pk=pk)
    if not may(user, "incoming.read", incoming):
        raise PermissionDenied(_("This document was received by another agency."))
    return incoming


def _version(request: HttpRequest) -> int:
    value = request.POST.get("version", "")
    if not value.isdecimal() or len(value) > 9:
        raise DomainError(_("This form is not complete."))
    return int(value)


# --- the boxes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    slug: str
    label: Any
    count: int
    group: str


MY_BOXES = (
    ("nhap", gettext_lazy("My drafts")),
    ("phoi-hop", gettext_lazy("Co-handling")),
    ("de-biet", gettext_lazy("For information")),
)


def _mine(user: User, slug: str) -> Any:
    if slug == "nhap":
        return Outgoing.objects.filter(
            author=user, status__in=[OutgoingStatus.DRAFT, OutgoingStatus.RETURNED]
        ).order_by("-updated_at")
    role = AssignmentRole.CO if slug == "phoi-hop" else AssignmentRole.INFO
    return (
        Incoming.objects.filter(
            assignments__user=user, assignments__role=role, status__in=OPEN_INCOMING
        )
        .distinct()
        .order_by("-arrived_at")
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from tinhso.documents.subject import OUTGOING_SUBJECT

    user = _official(request)
    look_in, look_out = inbox_look(user, INCOMING_SUBJECT), inbox_look(user, OUTGOING_SUBJECT)
    counts_in, counts_out = look_in.counts(), look_out.counts()
    tabs = [Tab(b.slug, b.label, counts_in.get(b.slug, 0), "in") for b in INCOMING_BOXES]
    tabs += [Tab(b.slug, b.label, counts_out.get(b.slug, 0), "out") for b in OUTGOING_BOXES]
    tabs += [Tab(s, label, _mine(user, s).count(), "mine") for s, label in MY_BOXES]
    by_slug = {t.slug: t for t in tabs}
    slug = request.GET.get("hop", "")
    if slug and slug not in by_slug:
        raise Http404(_("No such box."))
    if not slug:
        slug = next((t.slug for t in tabs if t.count), "nhap")
    tab = by_slug[slug]
    rows: list[dict[str, Any]] = []
    if tab.group == "in":
        for r in look_in.rows(slug):
            rows.append({
                "url": reverse("documents:incoming", args=[r.id]), "notation": r.notation,
                "subject": r.subject, "from": r.sender_name, "status": r.get_status_display(),
                "due": r.due_at, "at": r.arrived_at,
            })  # fmt: skip
    elif tab.group == "out":
        for r in look_out.rows(slug):
            rows.append({
                "url": reverse("documents:outgoing", args=[r.id]), "notation": r.notation,
                "subject": r.subject, "from": r.author.full_name,
                "status": r.get_status_display(), "due": r.due_at, "at": r.updated_at,
            })  # fmt: skip
    elif slug == "nhap":
        for o in _mine(user, slug)[:200]:
            rows.append({
                "url": reverse("documents:outgoing", args=[o.pk]), "notation": o.notation,
                "subject": o.subject, "from": user.full_name, "status": o.get_status_display(),
                "due": None, "at": o.updated_at,
            })  # fmt: skip
    else:
        for i in _mine(user, slug)[:200]:
            rows.append({
                "url": reverse("documents:incoming", args=[i.pk]), "notation": i.notation,
                "subject": i.subject, "from": i.sender_name, "status": i.get_status_display(),
                "due": i.due_at, "at": i.arrived_at,
            })  # fmt: skip
    return render(request, "documents/home.html", {
        "groups": [
            (_("Incoming documents"), [t for t in tabs if t.group == "in"]),
            (_("Outgoing documents"), [t for t in tabs if t.group == "out"]),
            (_("My work"), [t for t in tabs if t.group == "mine"]),
        ],
        "tab": tab, "slug": slug, "rows": rows,
        "drafts": bool(_drafting_agencies(user)),
        "uploads": any(m.role == CLERK for m in memberships_for(user, "documents.handle")),
    })  # fmt: skip


# --- drafting -----------------------------------------------------------------------------


def _files(request: HttpRequest) -> tuple[list[CheckedFile], list[str]]:
    checked, errors = [], []
    for upload in request.FILES.getlist("files"):
        try:
            checked.append(check_attachment(upload))
        except ValidationError as exc:
            errors += [str(m) for m in exc.messages]
    return checked, errors


def _show_errors(form: Any, exc: DomainError) -> None:
    if exc.errors:
        for field, found in exc.errors.items():
            for message in found:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, exc.message)


def _recipients(data: dict[str, Any]) -> list[services.RecipientIn]:
    found = [
        services.RecipientIn(kind=RecipientKind.AGENCY, name=a.name, agency=a)
        for a in data.get("agencies") or []
    ]
    for organ_id in data.get("organs") or []:
        organ = next((o for o in external_organs() if o[0] == organ_id), None)
        found.append(
            services.RecipientIn(
                kind=RecipientKind.EXTERNAL, name=organ[1] if organ else organ_id, organ_id=organ_id
            )
        )
    found += [
        services.RecipientIn(kind=RecipientKind.UNIT, name=u.name, unit=u)
        for u in data.get("units") or []
    ]
    return found


def _reply_initial(incoming: Incoming) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "doc_type": "CV",
        "subject": f"V/v trả lời văn bản số {incoming.notation}"[:1000],
    }
    sender = local_agency(incoming.sender_organ_id) if incoming.sender_organ_id else None
    if sender is not None and sender.pk != incoming.agency_id:
        initial["agencies"] = [sender.pk]
    elif incoming.sender_organ_id and external_organ(incoming.sender_organ_id) is not None:
        initial["organs"] = [incoming.sender_organ_id]
    return initial


def _draft_page(request: HttpRequest, user: User, outgoing: Outgoing | None) -> HttpResponse:
    agencies = _drafting_agencies(user)
    reply_to: Incoming | None = None
    wanted = request.GET.get("tra-loi", "")
    if outgoing is not None:
        agency = outgoing.agency
        reply_to = outgoing.response_for
    elif wanted:
        if not wanted.isdecimal() or len(wanted) > 9:
            raise Http404
        reply_to = _incoming(user, int(wanted))
        agency = reply_to.agency
        if agency.pk not in {a.pk for a in agencies}:
            raise PermissionDenied(_("Only the agency's specialists, heads and leaders draft."))
    else:
        if not agencies:
            raise PermissionDenied(_("Only the agency's specialists, heads and leaders draft."))
        chosen = request.POST.get("co_quan") or request.GET.get("co-quan", "")
        agency = next((a for a in agencies if str(a.pk) == chosen), agencies[0])
    own_units = Unit.objects.filter(agency=agency, members=user).order_by("code")
    initial: dict[str, Any] = {}
    if outgoing is not None:
        recipients = list(outgoing.recipients.all())
        initial = {
            "doc_type": outgoing.doc_type, "unit": outgoing.unit_id, "subject": outgoing.subject,
            "content": outgoing.content, "urgency": outgoing.urgency,
            "confidentiality": outgoing.confidentiality, "reply_due": outgoing.reply_due,
            "agencies": [r.agency_id for r in recipients if r.kind == RecipientKind.AGENCY],
            "organs": [r.organ_id for r in recipients if r.kind == RecipientKind.EXTERNAL],
            "units": [r.unit_id for r in recipients if r.kind == RecipientKind.UNIT],
        }  # fmt: skip
    else:
        first = own_units.first()
        initial = {"unit": first.pk if first else None, "doc_type": "CV"}
        if reply_to is not None:
            initial.update(_reply_initial(reply_to))
    form = DraftForm(
        request.POST or None,
        initial=initial,
        agency=agency,
        own_units=own_units,
        organs=external_organs(),
    )
    status, file_errors = 200, list[str]()
    if request.method == "POST":
        files, file_errors = _files(request)
        if not form.is_valid() or file_errors:
            status = 422
        else:
            data = form.cleaned_data
            try:
                saved = services.draft_save(
                    actor=user, agency=agency, doc_type=data["doc_type"],
                    subject=data["subject"], content=data["content"],
                    recipients=_recipients(data), files=files, unit=data["unit"],
                    urgency=data["urgency"], confidentiality=data["confidentiality"],
                    reply_due=data["reply_due"],
                    response_for=reply_to if outgoing is None else None,
                    outgoing=outgoing,
                    version=_version(request) if outgoing is not None else None,
                )  # fmt: skip
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, _("The draft is saved."))
                return redirect("documents:outgoing", pk=saved.pk)
    return render(request, "documents/draft.html", {
        "form": form, "agency": agency, "agencies": agencies, "outgoing": outgoing,
        "reply_to": reply_to, "file_errors": file_errors,
        "attachments": list(outgoing.attachments.all()) if outgoing else [],
    }, status=status)  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def draft_new(request: HttpRequest) -> HttpResponse:
    return _draft_page(request, _official(request), None)


@login_required
@require_http_methods(["GET", "POST"])
def draft_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    outgoing = _outgoing(user, pk)
    if outgoing.author_id != user.pk:
        raise PermissionDenied(_("Only the author revises a draft."))
    if outgoing.status not in (OutgoingStatus.DRAFT, OutgoingStatus.RETURNED):
        messages.error(request, _("This document is no longer a draft."))
        return redirect("documents:outgoing", pk=outgoing.pk)
    return _draft_page(request, user, outgoing)


# --- an outgoing document -------------------------------------------------------------------


@login_required
def outgoing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    outgoing = _outgoing(user, pk)
    recipients = [
        (r, [(t, STATUS_CODES.get(t.code, t.code)) for t in r.trace.all()])
        for r in outgoing.recipients.select_related("agency", "unit").prefetch_related("trace")
    ]
    roles = case_roles(outgoing, user)
    return render(request, "documents/outgoing.html", {
        "outgoing": outgoing, "actions": case_actions(outgoing, user),
        "recipients": recipients,
        "versions": list(outgoing.versions.select_related("by").order_by("-revision")),
        "events": list(outgoing.events.select_related("actor")),
        "attachments": list(outgoing.attachments.all()),
        "editable": outgoing.author_id == user.pk
        and outgoing.status in (OutgoingStatus.DRAFT, OutgoingStatus.RETURNED),
        "recallable": outgoing.status == OutgoingStatus.ISSUED and not outgoing.recall
        and bool(roles & {CLERK, LEADER}),
        "replies_to": outgoing.response_for
        if outgoing.response_for_id and may(user, "incoming.read", outgoing.response_for)
        else None,
    })  # fmt: skip


@login_required
@require_POST
@refusals_shown("documents:outgoing", "pk")
def outgoing_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    outgoing = _outgoing(user, pk)
    action = request.POST.get("action", "")
    services.outgoing_act(
        outgoing=outgoing, actor=user, action=action, version=_version(request),
        note=request.POST.get("note", "").strip(),
    )  # fmt: skip
    messages.success(request, _("Done."))
    return redirect("documents:outgoing", pk=outgoing.pk)


@login_required
@require_POST
@refusals_shown("documents:outgoing", "pk")
def outgoing_recall(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    outgoing = _outgoing(user, pk)
    services.outgoing_recall(outgoing=outgoing, actor=user, reason=request.POST.get("note", ""))
    messages.success(request, _("The recipients are asked to give the document back."))
    return redirect("documents:outgoing", pk=outgoing.pk)


# --- an incoming document -------------------------------------------------------------------


def _staff(incoming: Incoming, role: str | None = None) -> list[User]:
    """The agency's officials who handle documents (those who can open what they are
    given), or those holding `role`."""
    found = User.objects.filter(
        memberships__agency_id=incoming.agency_id, memberships__is_active=True, is_active=True,
        memberships__role__in=[role] if role is not None else sorted(DOCUMENT_ROLES),
    )  # fmt: skip
    return list(found.distinct().order_by("full_name"))


@login_required
def incoming_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    incoming = _incoming(user, pk)
    actions = [a for a in incoming_actions(incoming, user) if a.name != "recall_accept"]
    assign = next((a for a in actions if a.name == "assign"), None)
    roles = case_roles(incoming, user)
    return render(request, "documents/incoming.html", {
        "incoming": incoming,
        "actions": [a for a in actions if a.name != "assign"], "assign": assign,
        "handlers": _staff(incoming, SPECIALIST) if assign else [],
        "staff": _staff(incoming) if assign else [],
        "assignments": list(incoming.assignments.select_related("user", "assigned_by")),
        "events": list(incoming.events.select_related("actor")),
        "attachments": list(incoming.attachments.all()),
        "recall_answer": incoming.recall == "requested" and CLERK in roles,
        "may_reply": bool(
            {a.pk for a in _drafting_agencies(user)} & {incoming.agency_id}
        ) and incoming.status not in (IncomingStatus.REFUSED, IncomingStatus.RECALLED),
    })  # fmt: skip


def _users(incoming: Incoming, values: list[str]) -> list[User]:
    ids = [int(v) for v in values if v.isdecimal() and len(v) < 10]
    return list(User.objects.filter(pk__in=ids))


@login_required
@require_POST
@refusals_shown("documents:incoming", "pk")
def incoming_act(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    incoming = _incoming(user, pk)
    action = request.POST.get("action", "")
    extra: dict[str, Any] = {}
    if action == "assign":
        lead_id = request.POST.get("lead", "")
        lead = next((u for u in _staff(incoming, SPECIALIST) if str(u.pk) == lead_id), None)
        if lead is None:
            raise DomainError(_("Choose the lead handler."))
        days = request.POST.get("days", "")
        extra = {
            "lead": lead,
            "co": _users(incoming, request.POST.getlist("co")),
            "info": _users(incoming, request.POST.getlist("info")),
            "days": int(days) if days.isdecimal() and len(days) < 4 else None,
        }
    services.incoming_act(
        incoming=incoming, actor=user, action=action, version=_version(request),
        note=request.POST.get("note", "").strip(), **extra,
    )  # fmt: skip
    messages.success(request, _("Done."))
    return redirect("documents:incoming", pk=incoming.pk)


@login_required
@require_POST
@refusals_shown("documents:incoming", "pk")
def incoming_recall(request: HttpRequest, pk: int) -> HttpResponse:
    user = _official(request)
    incoming = _incoming(user, pk)
    services.recall_answer(
        incoming=incoming, actor=user, accept=request.POST.get("answer") == "accept",
        note=request.POST.get("note", ""),
    )  # fmt: skip
    messages.success(request, _("The answer is sent to the sender."))
    return redirect("documents:incoming", pk=incoming.pk)


@login_required
@require_http_methods(["GET", "POST"])
def incoming_upload(request: HttpRequest) -> HttpResponse:
    user = _official(request)
    agencies = sorted(
        {m.agency_id: m.agency for m in memberships_for(user, "documents.handle")
         if m.role == CLERK}.values(),
        key=lambda a: a.name,
    )  # fmt: skip
    if not agencies:
        raise PermissionDenied(_("Only the agency's clerks register incoming documents."))
    chosen = request.POST.get("co_quan") or request.GET.get("co-quan", "")
    agency = next((a for a in agencies if str(a.pk) == chosen), agencies[0])
    mailed = request.FILES.get("eml") if request.method == "POST" else None
    form = UploadForm(
        None if mailed is not None else (request.POST or None),
        initial={"source": Source.PAPER, "doc_type": "CV"},
    )
    status, file_errors, mail_errors = 200, list[str](), list[str]()
    if mailed is not None:
        try:
            incoming = mail_import(actor=user, agency=agency, raw=mailed.read(MAX_MESSAGE + 1))
        except DomainError as exc:
            mail_errors = [exc.message, *(m for ms in (exc.errors or {}).values() for m in ms)]
            status = exc.status
        else:
            messages.success(request, _("The document is waiting to be registered."))
            return redirect("documents:incoming", pk=incoming.pk)
    elif request.method == "POST":
        files, file_errors = _files(request)
        if not form.is_valid() or file_errors:
            status = 422
        else:
            data = form.cleaned_data
            try:
                incoming = services.incoming_upload(
                    actor=user, agency=agency, sender_name=data["sender_name"],
                    notation=data["notation"], doc_type=data["doc_type"],
                    subject=data["subject"], promulgated_on=data["promulgated_on"],
                    files=files, signer_name=data["signer_name"], urgency=data["urgency"],
                    source=data["source"],
                )  # fmt: skip
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, _("The document is waiting to be registered."))
                return redirect("documents:incoming", pk=incoming.pk)
    return render(request, "documents/upload.html", {
        "form": form, "agency": agency, "agencies": agencies, "file_errors": file_errors,
        "mail_errors": mail_errors,
    }, status=status)  # fmt: skip


# --- attachments ----------------------------------------------------------------------------


@login_required
def outgoing_signed(request: HttpRequest, pk: int) -> FileResponse:
    """The issued, signed PDF, for the readers of the outgoing document (its recipients
    read theirs as the attachment that arrived); 404 until it is issued."""
    user = _official(request)
    outgoing = _outgoing(user, pk)
    if outgoing.signed is None:
        raise Http404
    audit_record(
        actor=user, action="document.file.read", obj=outgoing,
        data={"document": f"outgoing:{outgoing.pk}", "name": "signed"},
    )  # fmt: skip
    return document_response(
        outgoing.signed.storage_name, filename=f"{outgoing.notation.replace('/', '_')}.pdf"
    )


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    user = _official(request)
    attachment = get_object_or_404(Attachment.objects.select_related("outgoing", "incoming"), pk=pk)
    document: Outgoing | Incoming | None = attachment.outgoing or attachment.incoming
    readable = (
        may(user, "outgoing.read", attachment.outgoing)
        if attachment.outgoing is not None
        else attachment.incoming is not None and may(user, "incoming.read", attachment.incoming)
    )
    if document is None or not readable:
        raise Http404
    with transaction.atomic():
        audit_record(
            actor=user, action="document.file.read", obj=attachment,
            data={"document": f"{document._meta.model_name}:{document.pk}",
                  "name": attachment.name[:120]},
        )  # fmt: skip
        if isinstance(document, Incoming):
            Assignment.objects.filter(incoming=document, user=user, read_at=None).update(
                read_at=timezone.now()
            )
    return upload_response(
        attachment.storage_name, filename=attachment.name, content_type=attachment.content_type
    )
