"""The reports' pages: the public list and each report's page (what the public may read:
no reporter's name unless they agreed, no phone, no hidden report), the photos, the form
to report (works without JavaScript; with it, the phone's position fills the place), and
the officials' boxes and handling page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tinhso.accounts.models import User
from tinhso.accounts.policies import may, official, signed_in
from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.core.errors import DomainError
from tinhso.core.files import image_response
from tinhso.core.photos import MAX_PHOTOS, photo_limit_bytes
from tinhso.core.privacy import public_text
from tinhso.feedback.attributes import answer_label, questions
from tinhso.feedback.figures import bodies_on_time
from tinhso.feedback.maps import MAP_REPORTS, dots_of, report_map
from tinhso.feedback.models import (
    Category,
    PhotoKind,
    PhotoState,
    Report,
    ReportPhoto,
    ReportStatus,
)
from tinhso.feedback.services import (
    Photo,
    ReportDraft,
    nearby_open,
    report_act,
    report_rate,
    report_submit,
)

PAGE = 20


def _public() -> Any:
    return Report.objects.filter(hidden=False).select_related("category", "agency", "commune")


def report_list(request: HttpRequest) -> HttpResponse:
    found = _public()
    commune = request.GET.get("xa", "").strip()
    category = request.GET.get("loai", "").strip()
    status = request.GET.get("trang-thai", "").strip()
    if commune:
        found = found.filter(commune__code=commune)
    if category:
        found = found.filter(category__code=category)
    if status.isdigit():
        found = found.filter(status=int(status))
    ordered = found.order_by("-submitted_at", "-id")
    page = Paginator(ordered, PAGE).get_page(request.GET.get("trang"))
    communes = Agency.objects.filter(level=AgencyLevel.COMMUNE, is_active=True).order_by(
        "admin_unit_name"
    )
    chosen_commune = communes.filter(code=commune).first() if commune else None
    drawn = report_map(dots_of(ordered[:MAP_REPORTS]), chosen_commune)
    today = timezone.localdate()
    year_ago = today - timedelta(days=365)
    return render(
        request,
        "feedback/list.html",
        {
            "page": page,
            "map": drawn,
            "label": _("Map of the reports (the most recent %(n)d)") % {"n": MAP_REPORTS},
            "bodies": bodies_on_time(year_ago, today),
            "since": year_ago,
            "communes": communes,
            "categories": Category.objects.filter(is_active=True),
            "statuses": ReportStatus.choices,
            "chosen_status": status,
            "chosen": {"xa": commune, "loai": category, "trang-thai": status},
        },
    )


def _report_by_code(code: str) -> Report:
    report = (
        Report.objects.select_related(
            "category", "agency", "commune", "duplicate_of", "reporter", "assignee"
        )
        .filter(code=code)
        .first()
    )
    if report is None:
        raise Http404(_("No report has this number."))
    return report


def _report_or_404(code: str, user: Any) -> Report:
    report = _report_by_code(code)
    if report.hidden and not (
        report.reporter_id == getattr(user, "pk", None) or may(user, "report.handle", report)
    ):
        raise Http404(_("No report has this number."))
    return report


def _typed_personal(report: Report, answers: list[tuple[str, str]]) -> bool:
    """Whether what the reporter typed (description, address, `answers` as shown whole)
    holds something the public is not shown (a phone or ID number, an e-mail address)."""
    typed = [report.description, report.address, *(answer for _question, answer in answers)]
    return any(public_text(text) != text for text in typed)


def _look_logged(user: User, report: Report, *, purpose: str, action: str) -> None:
    """An official's look at what the reporter gave: a signed-in reporter reads it in
    their account (the personal-data access log); for an anonymous one it is audited."""
    from tinhso.accounts.access import personal_data_access_record
    from tinhso.core.audit import audit_record

    if report.reporter is not None:
        personal_data_access_record(
            official=user, citizen=report.reporter, agency=report.agency,
            record=f"report:{report.code}", purpose=purpose,
        )  # fmt: skip
    else:
        audit_record(actor=user, action=action, obj=report, data={"code": report.code})


def _answered_list(report: Report, *, public: bool = False) -> list[tuple[str, str]]:
    """The category's questions and the report's answers in words; `public`: as anyone may
    read them (typed phone and ID numbers masked, e-mail addresses hidden)."""
    shown = []
    for question in questions(report.category.attributes):
        if question["code"] in report.answers:
            answer = answer_label(question, report.answers[question["code"]])
            shown.append((question["description"], public_text(answer) if public else answer))
    return shown


def report_detail(request: HttpRequest, code: str) -> HttpResponse:
    report = _report_or_404(code, request.user)
    is_reporter = report.reporter_id is not None and report.reporter_id == getattr(
        request.user, "pk", None
    )
    if request.method == "POST":
        if not is_reporter:
            raise PermissionDenied(_("Only the reporter rates or reopens a report."))
        return _reporter_acts(request, report)
    everything = list(report.photos.all())
    photos = [p for p in everything if p.state == PhotoState.READY]
    events = list(report.events.values("at", "to_status", "action"))
    original = report.duplicate_of
    point = (report.code, report.status, report.latitude, report.longitude, report.category.name)
    drawn = report_map([point], report.commune) if report.commune is not None else None
    return render(
        request,
        "feedback/detail.html",
        {
            "map": drawn,
            "label": _("Where the report is, in %(c)s") % {"c": report.commune}
            if report.commune
            else "",
            "report": report,
            "is_reporter": is_reporter,
            "report_photos": [p for p in photos if p.kind == PhotoKind.REPORT],
            "answer_photos": [p for p in photos if p.kind == PhotoKind.ANSWER],
            "photos_pending": sum(p.state == PhotoState.PENDING for p in everything),
            "events": [
                {"at": e["at"], "label": ReportStatus(e["to_status"]).label} for e in events
            ],
            "answers": _answered_list(report, public=not is_reporter),
            "original": original,
            "handles": may(request.user, "report.handle", report),
        },
    )


def _reporter_acts(request: HttpRequest, report: Report) -> HttpResponse:
    user = signed_in(request.user)
    assert user is not None  # noqa: S101 (the reporter is signed in)
    what = request.POST.get("what", "")
    try:
        if what == "rate":
            rating = int(request.POST.get("rating", "0") or 0)
            report_rate(
                report=report, user=user, rating=rating, comment=request.POST.get("comment", "")
            )
            if report.status == ReportStatus.ANSWERED:
                report_act(report=report, actor=user, action="close", version=report.version)
        elif what == "reopen":
            report_act(
                report=report,
                actor=user,
                action="reopen",
                version=int(request.POST.get("version", "0") or 0),
                note=request.POST.get("note", ""),
            )
    except (DomainError, ValueError) as exc:
        message = getattr(exc, "message", str(exc))
        context = {
            "report": report,
            "is_reporter": True,
            "error": message,
            "report_photos": list(
                report.photos.filter(kind=PhotoKind.REPORT, state=PhotoState.READY)
            ),
            "answer_photos": list(
                report.photos.filter(kind=PhotoKind.ANSWER, state=PhotoState.READY)
            ),
            "events": [],
            "answers": _answered_list(report),
            "original": report.duplicate_of,
        }
        return render(request, "feedback/detail.html", context, status=getattr(exc, "status", 422))
    return redirect("feedback:detail", code=report.code)


def photo(request: HttpRequest, public_id: str) -> FileResponse:
    found = (
        ReportPhoto.objects.select_related("report")
        .filter(public_id=public_id, state=PhotoState.READY)
        .first()
    )
    if found is None:
        raise Http404(_("No such photo."))
    report = found.report
    if report.hidden and not (
        report.reporter_id == getattr(request.user, "pk", None)
        or may(request.user, "report.handle", report)
    ):
        raise Http404(_("No such photo."))
    return image_response(
        found.storage_name, content_type=found.content_type, public=not report.hidden
    )


# --- reporting ----------------------------------------------------------------------------


def _attribute_inputs(request: HttpRequest, category: Category) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for question in category.attributes:
        name = f"attribute[{question['code']}]"
        if question["datatype"] == "multivaluelist":
            given[question["code"]] = request.POST.getlist(name)
        else:
            given[question["code"]] = request.POST.get(name, "")
    return given


def _questions_answered(request: HttpRequest, category: Category) -> list[dict[str, Any]]:
    """The category's questions, each with what was answered so far (`current`: a list of
    keys for the lists), so a form shown again keeps the answers."""
    given = _attribute_inputs(request, category) if request.method == "POST" else {}
    shown = []
    for question in questions(category.attributes):
        current = given.get(question["code"], "")
        if question["datatype"] in ("singlevaluelist", "multivaluelist"):
            current = current if isinstance(current, list) else ([current] if current else [])
        shown.append({**question, "current": current})
    return shown


@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    categories = list(Category.objects.filter(is_active=True))
    chosen = request.POST.get("category") or request.GET.get("loai", "")
    category = next((c for c in categories if c.code == chosen), None)
    user = signed_in(request.user)
    context: dict[str, Any] = {
        "categories": categories,
        "category": category,
        "max_photos": MAX_PHOTOS,
        "max_mb": photo_limit_bytes() // 1048576,
        "errors": {},
        "values": request.POST,
        "questions": _questions_answered(request, category) if category else [],
        "user_signed_in": user,
        **_picking_map(request),
    }
    if request.method == "GET" or category is None:
        if request.method == "POST":
            context["errors"] = {"category": [_("Choose what the report is about from the list.")]}
            return render(request, "feedback/new.html", context, status=422)
        return render(request, "feedback/new.html", context)
    uploads = request.FILES.getlist("photos")
    draft = ReportDraft(
        category_code=category.code,
        description=request.POST.get("description", ""),
        latitude=request.POST.get("lat") or None,
        longitude=request.POST.get("lng") or None,
        address=request.POST.get("address", ""),
        answers=_attribute_inputs(request, category),
        photos=[Photo(u.name or "anh", u.read(photo_limit_bytes() + 1)) for u in uploads],
        reporter=user if user is not None and not official(user) else None,
        contact_phone=request.POST.get("phone", "").strip(),
        contact_email=request.POST.get("email", "").strip(),
        reporter_name=request.POST.get("name", "").strip(),
        show_name=request.POST.get("show_name") == "1",
        channel="web",
        sender=f"web:{getattr(user, 'pk', '')}:{request.META.get('REMOTE_ADDR', '')}",
    )
    if request.POST.get("checked") != "1" and draft.latitude and draft.longitude:
        try:
            near = nearby_open(category, float(draft.latitude), float(draft.longitude))
        except ValueError:
            near = []
        if near:
            # Maybe the same problem: shown before the report is sent (send anyway, or follow
            # that one).
            context["nearby"] = near[:5]
            return render(request, "feedback/new.html", context)
    try:
        report = report_submit(draft)
    except DomainError as exc:
        context["errors"] = exc.errors or {}
        context["general_errors"] = [] if exc.errors else [exc.message]
        context["message"] = exc.message
        return render(request, "feedback/new.html", context, status=exc.status)
    return redirect(reverse("feedback:detail", args=[report.code]) + "?da-gui=1")


def _picking_map(request: HttpRequest) -> dict[str, Any]:
    """The map the place is picked on: the commune chosen (`xa`) or the province, with the
    point given so far."""
    code = (request.POST.get("xa") or request.GET.get("xa", "")).strip()
    communes = Agency.objects.filter(level=AgencyLevel.COMMUNE, is_active=True).order_by(
        "admin_unit_name"
    )
    commune = communes.filter(code=code).first() if code else None
    drawn = report_map([], commune)
    pin = None
    try:
        lat, lng = float(request.POST.get("lat", "")), float(request.POST.get("lng", ""))
    except ValueError:
        pass
    else:
        if drawn is not None and drawn.frame.contains(lat, lng):
            pin = drawn.frame.xy(lat, lng)
    return {
        "map": drawn, "pin": pin, "map_id": "pick-map",
        "communes": communes, "chosen_commune": commune,
        "label": _("Map to pick the place: tap where the problem is"),
    }  # fmt: skip


# --- officials ----------------------------------------------------------------------------


def _official_or_403(request: HttpRequest) -> User:
    user = official(request.user)
    if user is None:
        if not request.user.is_authenticated:
            raise PermissionDenied(_("Sign in as an official."))
        raise PermissionDenied(_("Only officials handle reports."))
    return user


def official_inbox(request: HttpRequest) -> HttpResponse:
    from tinhso.cases.inbox import inbox_look
    from tinhso.feedback.subject import BOXES, REPORT

    user = _official_or_403(request)
    if not _handles_any(user):
        raise PermissionDenied(_("You hold no role that handles reports."))
    look = inbox_look(user, REPORT)
    counts = look.counts()
    slug = request.GET.get("hop") or BOXES[0].slug
    if slug not in {b.slug for b in BOXES}:
        raise Http404(_("No such box."))
    rows = look.rows(slug)
    return render(
        request,
        "feedback/inbox.html",
        {
            "boxes": [(b, counts.get(b.slug, 0)) for b in BOXES],
            "slug": slug,
            "rows": rows,
        },
    )


def _handles_any(user: User) -> bool:
    from tinhso.accounts.policies import memberships_for

    return bool(memberships_for(user, "feedback.handle"))


@require_http_methods(["GET", "POST"])
def official_report(request: HttpRequest, code: str) -> HttpResponse:
    from tinhso.cases.transitions import case_actions, case_roles
    from tinhso.feedback.subject import HANDLER

    user = _official_or_403(request)
    report = _report_by_code(code)
    if not may(user, "report.handle", report):
        raise PermissionDenied(_("This report is handled by another body."))
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        assignee = None
        if request.POST.get("assignee"):
            assignee = User.objects.filter(
                username=request.POST["assignee"], is_active=True
            ).first()
        duplicate = None
        if request.POST.get("duplicate_of"):
            duplicate = Report.objects.filter(code=request.POST["duplicate_of"].strip()).first()
        forward_to = None
        if request.POST.get("forward_to"):
            forward_to = Agency.objects.filter(code=request.POST["forward_to"]).first()
        photos = [
            Photo(u.name or "anh", u.read(photo_limit_bytes() + 1))
            for u in request.FILES.getlist("photos")
        ]
        try:
            if action == "hide" or action == "show":
                from tinhso.feedback.services import report_moderate

                if not may(user, "report.moderate", report):
                    raise DomainError(_("You may not moderate this report."), status=403)
                report_moderate(
                    report=report,
                    actor=user,
                    hidden=action == "hide",
                    public_description=request.POST.get("public_description"),
                )
            else:
                report_act(
                    report=report,
                    actor=user,
                    action=action,
                    version=int(request.POST.get("version", "0") or 0),
                    forward_to=forward_to,
                    note=request.POST.get("note", ""),
                    assignee=assignee,
                    photos=photos,
                    duplicate_of=duplicate,
                )
        except (DomainError, ValueError) as exc:
            error = getattr(exc, "message", str(exc))
            status = getattr(exc, "status", 422)
            report.refresh_from_db()
        else:
            return redirect("feedback:official-report", code=report.code)
    contact = may(user, "report.read_contact", report)
    moderate = may(user, "report.moderate", report)
    # The text as the reporter typed it (phone or ID numbers in it) for those who answer
    # the reporter or decide what the public reads; the others who handle the report (the
    # field worker) read it as the public does.
    raw = contact or moderate
    answers = _answered_list(report, public=not raw)
    if moderate and not contact and _typed_personal(report, answers):
        purpose = _("Moderate report %(c)s") % {"c": report.code}
        _look_logged(user, report, purpose=purpose, action="report.read_text")
    if contact and (report.reporter or report.contact_phone or report.contact_email):
        purpose = _("Answer the reporter of report %(c)s") % {"c": report.code}
        _look_logged(user, report, purpose=purpose, action="report.read_contact")
    bodies = (
        Agency.objects.filter(is_active=True, level__in=[AgencyLevel.COMMUNE, AgencyLevel.PROVINCE])
        .exclude(pk=report.agency_id)
        .exclude(kind="peoples_committee", level=AgencyLevel.PROVINCE)
        .order_by("level", "name")
        .only("code", "name")
    )
    handlers = User.objects.filter(
        memberships__agency=report.agency, memberships__role=HANDLER, memberships__is_active=True
    ).distinct()
    response = render(
        request,
        "feedback/official_report.html",
        {
            "report": report,
            "actions": case_actions(report, user),
            "contact": contact,
            "photos": list(report.photos.filter(state=PhotoState.READY)),
            "photos_pending": report.photos.filter(state=PhotoState.PENDING).count(),
            "events": list(report.events.select_related("actor", "assignee")),
            "handlers": handlers,
            "bodies": bodies,
            "error": error,
            "answers": answers,
            "raw": raw,
            "moderate": moderate,
            "roles": case_roles(report, user),
            "nearby": nearby_open(
                report.category,
                float(report.latitude),
                float(report.longitude),
                radius_m=100,
                exclude=report.pk,
            )
            if report.latitude is not None and report.longitude is not None
            else [],
        },
        status=status,
    )
    return response
