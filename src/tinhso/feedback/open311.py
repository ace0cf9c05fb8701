"""Open311 GeoReport v2 at /open311/v2/ (https://wiki.open311.org/GeoReport_v2).

Every method answers in XML or JSON by the URL's suffix; JSON is the XML without its root
element (lists are arrays). Reading needs no key; creating a report (POST requests) needs
an application's `api_key` (feedback.Open311Client). Errors are Open311's: XML
`<errors><error><code/><description/></error></errors>` or a JSON array, with 404 for what
does not exist, 403 for a missing or wrong key, 400 for anything else (the description in
the request's language). Reports are "realtime": POST answers with the report's number.

What is never in an answer: the reporter's name, phone, e-mail or account (Open311 has no
field for them), a report a moderator hid, the description as typed (only its public
text, with phone and ID numbers masked).

Photos: a POST may carry files (multipart, as FixMyStreet sends them: `media` or `file_*`
fields); a `media_url` is not fetched (the server does not load addresses others choose)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tinhso.accounts.services import client_ip
from tinhso.core.errors import DomainError
from tinhso.feedback.attributes import questions
from tinhso.feedback.models import (
    OPEN_STATUSES,
    Category,
    PhotoState,
    Report,
    ReportEvent,
    ReportStatus,
)
from tinhso.feedback.services import (
    Photo,
    ReportDraft,
    open311_client_for,
    report_submit,
)

MAX_REQUESTS = 1000
WINDOW = timedelta(days=90)
PHOTO_FIELDS = ("media", "photo")


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- writing ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _when(value)
    return "" if value is None else str(value)


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _element(tag: str, value: Any) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            node.append(_element(key, item))
    elif isinstance(value, list):
        child = _ITEM.get(tag, tag.rstrip("s"))
        for item in value:
            node.append(_element(child, item))
    else:
        node.text = _text(value)
    return node


# A list element's children: <services><service>, <service_requests><request>, …
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _answer(fmt: str, root: str, body: Any, status: int = 200) -> HttpResponse:
    """`body` under `root` in XML, or `body` itself in JSON (Open311's rule)."""
    if fmt == "json":
        response: HttpResponse = JsonResponse(
            _json_value(body), status=status, safe=False, json_dumps_params={"ensure_ascii": False}
        )
    else:
        document = ET.tostring(_element(root, body), encoding="unicode")
        response = HttpResponse(
            '<?xml version="1.0" encoding="utf-8"?>\n' + document,
            status=status,
            content_type="text/xml; charset=utf-8",
        )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _answer(fmt, "errors", [{"code": status, "description": description}], status)


# --- what is shown ------------------------------------------------------------------------


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


def _attribute(item: Mapping[str, Any], order: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "variable": item.get("variable", True),
        "code": item["code"],
        "datatype": item["datatype"],
        "required": bool(item.get("required", False)),
        "datatype_description": item.get("datatype_description", ""),
        "order": item.get("order", order),
        "description": item["description"],
    }
    if item.get("values"):
        answer["values"] = [{"key": v["key"], "name": v["name"]} for v in item["values"]]
    return answer


def open311_status(report: Report) -> str:
    return "open" if report.status in OPEN_STATUSES else "closed"


def _status_notes(report: Report) -> str:
    if report.status == ReportStatus.DUPLICATE and report.duplicate_of is not None:
        original = report.duplicate_of
        notes = _("The same as report %(code)s.") % {"code": original.code}
        return f"{notes} {original.answer}".strip()
    if report.status == ReportStatus.REJECTED:
        # The reasons were read with the list (public_reports: one query for all of them).
        rejections = getattr(report, "rejections", None)
        if rejections is None:
            rejections = list(report.events.filter(action="reject").order_by("-at", "-id"))
        note = rejections[0].note if rejections else ""
        return note or str(ReportStatus(report.status).label)
    return report.answer or str(ReportStatus(report.status).label)


def _media_url(request: HttpRequest, report: Report) -> str:
    photo = next((p for p in report.photos.all() if p.state == PhotoState.READY), None)
    if photo is None:
        return ""
    return request.build_absolute_uri(reverse("feedback:photo", args=[photo.public_id]))


def _request(request: HttpRequest, report: Report) -> dict[str, Any]:
    return {
        "service_request_id": report.code,
        "status": open311_status(report),
        "status_notes": _status_notes(report),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.public_description,
        "agency_responsible": report.agency.name,
        "service_notice": "",
        "requested_datetime": report.submitted_at,
        "updated_datetime": report.updated_at,
        "expected_datetime": report.due_at,
        "address": report.public_address or (report.commune.name if report.commune else ""),
        "address_id": "",
        "zipcode": "",
        "lat": float(report.latitude) if report.latitude is not None else None,
        "long": float(report.longitude) if report.longitude is not None else None,
        "media_url": _media_url(request, report),
    }


def public_reports() -> Any:
    """The reports the public sees (a moderator hid none of them)."""
    rejections = ReportEvent.objects.filter(action="reject").order_by("-at", "-id")
    return (
        Report.objects.filter(hidden=False)
        .select_related("category", "agency", "commune", "duplicate_of")
        .prefetch_related("photos", Prefetch("events", queryset=rejections, to_attr="rejections"))
    )


# --- the methods --------------------------------------------------------------------------


def _jurisdiction(request: HttpRequest) -> None:
    given = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or ""
    if given and given != settings.TINHSO_OPEN311_JURISDICTION:
        raise Open311Error(
            404,
            _("This server answers for jurisdiction %(j)s only.")
            % {"j": settings.TINHSO_OPEN311_JURISDICTION},
        )


def _methods(*allowed: str) -> Any:
    """Django's `require_http_methods`, answering in Open311's own error format (405,
    `Allow`)."""

    def decorate(view: Any) -> Any:
        def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                message = _("This address does not take %(method)s; it takes %(allowed)s.")
                refused = _error(fmt, 405, message % {
                    "method": request.method, "allowed": ", ".join(allowed),
                })  # fmt: skip
                refused["Allow"] = ", ".join(allowed)
                return refused
            answer: HttpResponse = view(request, fmt, **kwargs)
            return answer

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


def _guarded(view: Any) -> Any:
    def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            _jurisdiction(request)
            answer: HttpResponse = view(request, fmt, **kwargs)
            return answer
        except Open311Error as exc:
            return _error(fmt, exc.status, exc.description)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_methods("GET", "HEAD")
@_guarded
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    found = Category.objects.filter(is_active=True).order_by("group", "name")
    return _answer(fmt, "services", [_service(c) for c in found])


@_methods("GET", "HEAD")
@_guarded
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise Open311Error(404, _("No service has the code %(c)s.") % {"c": code})
    items = [_attribute(item, n) for n, item in enumerate(questions(category.attributes), 1)]
    return _answer(fmt, "service_definition", {"service_code": category.code, "attributes": items})


def _moment(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(
            400, _("%(n)s is not a date and time (2026-11-30T08:00:00+07:00).") % {"n": name}
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _listed(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@csrf_exempt
@_methods("GET", "HEAD", "POST")
@_guarded
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    found = public_reports()
    ids = _listed(params.get("service_request_id", ""))
    if ids:
        found = found.filter(code__in=ids[:MAX_REQUESTS])
    else:
        start = _moment(params["start_date"], "start_date") if params.get("start_date") else None
        end = _moment(params["end_date"], "end_date") if params.get("end_date") else None
        if start and end and start > end:
            raise Open311Error(400, _("start_date is after end_date."))
        if start and end and end - start > WINDOW:
            raise Open311Error(400, _("The period may span at most 90 days."))
        # No dates: the last 90 days; one date: the 90 days from or up to it.
        if start is None:
            end = end or timezone.now()
            start = end - WINDOW
        elif end is None:
            end = start + WINDOW
        found = found.filter(submitted_at__gte=start, submitted_at__lte=end)
        codes = _listed(params.get("service_code", ""))
        if codes:
            found = found.filter(category__code__in=codes)
        statuses = _listed(params.get("status", ""))
        if any(s not in ("open", "closed") for s in statuses):
            raise Open311Error(400, _("status is open, closed or both."))
        if statuses == ["open"]:
            found = found.filter(status__in=[int(s) for s in OPEN_STATUSES])
        elif statuses == ["closed"]:
            found = found.exclude(status__in=[int(s) for s in OPEN_STATUSES])
    reports = list(found.order_by("-submitted_at", "-id")[:MAX_REQUESTS])
    return _answer(fmt, "service_requests", [_request(request, r) for r in reports])


@_methods("GET", "HEAD")
@_guarded
def request_one(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    report = public_reports().filter(code=code).first()
    if report is None:
        raise Open311Error(404, _("No report has the number %(c)s.") % {"c": code})
    return _answer(fmt, "service_requests", [_request(request, report)])


@_methods("GET", "HEAD")
@_guarded
def token(request: HttpRequest, fmt: str, token_id: str) -> HttpResponse:
    import uuid

    try:
        public_id = uuid.UUID(token_id)
    except ValueError:
        public_id = None
    report = public_reports().filter(public_id=public_id).first() if public_id else None
    if report is None:
        raise Open311Error(404, _("No report has this token."))
    return _answer(
        fmt,
        "service_requests",
        [{"service_request_id": report.code, "token": str(report.public_id)}],
    )


def _attributes_posted(data: Any) -> dict[str, Any]:
    """`attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2`."""
    given: dict[str, Any] = {}
    for key in data:
        if not key.startswith("attribute[") or "]" not in key:
            continue
        code = key[len("attribute[") : key.index("]")]
        values = data.getlist(key)
        given[code] = values if key.endswith("[]") else (values[0] if values else "")
    return given


def _photos_posted(request: HttpRequest) -> list[Photo]:
    photos = []
    for key in request.FILES:
        if key in PHOTO_FIELDS or key.startswith("file_") or key.startswith("media"):
            for upload in request.FILES.getlist(key):
                photos.append(
                    Photo(
                        upload.name or "photo",
                        upload.read(settings.TINHSO_FEEDBACK_PHOTO_MAX_BYTES + 1),
                    )
                )
    return photos


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    client = open311_client_for(data.get("api_key", ""))
    if client is None:
        raise Open311Error(403, _("A valid api_key is needed to create a report."))
    code = data.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    if not Category.objects.filter(code=code, is_active=True).exists():
        raise Open311Error(404, _("No service has the code %(c)s.") % {"c": code})
    lat, lng = data.get("lat", "").strip(), data.get("long", "").strip()
    address = data.get("address_string", "").strip()
    if not (lat and lng) and not address:
        raise Open311Error(400, _("Give lat and long, or address_string."))
    name = " ".join(
        p for p in (data.get("first_name", "").strip(), data.get("last_name", "").strip()) if p
    )
    sender_key = (
        data.get("device_id") or data.get("email") or data.get("phone") or client_ip(request)
    )
    draft = ReportDraft(
        category_code=code,
        description=data.get("description", ""),
        latitude=lat or None,
        longitude=lng or None,
        address=address,
        answers=_attributes_posted(data),
        photos=_photos_posted(request),
        reporter_name=name,
        contact_phone=data.get("phone", ""),
        contact_email=data.get("email", ""),
        channel="open311",
        device_id=data.get("device_id", ""),
        client=client,
        sender=f"open311:{client.pk}:{sender_key}",
    )
    try:
        report = report_submit(draft)
    except DomainError as exc:
        return _answer(fmt, "errors", _domain_errors(exc), 400)
    return _answer(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": report.code,
                "service_notice": _("Due by %(d)s.")
                % {"d": f"{timezone.localtime(report.due_at):%d/%m/%Y}"}
                if report.due_at
                else "",
                "account_id": "",
            }
        ],
    )


def _domain_errors(exc: DomainError) -> list[dict[str, Any]]:
    if not exc.errors:
        return [{"code": 400, "description": exc.message}]
    return [
        {"code": 400, "description": f"{field}: {message}"}
        for field, messages in exc.errors.items()
        for message in messages
    ]


def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = (
        request.build_absolute_uri(reverse("feedback:open311-services", args=["xml"])).rsplit(
            "/", 1
        )[0]
        + "/"
    )
    return _answer(
        fmt,
        "discovery",
        {
            "changeset": "2026-11-30T00:00:00+07:00",
            "contact": settings.DEFAULT_FROM_EMAIL,
            "key_service": _("Ask the province's administrators for an api_key."),
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": "2026-11-30T00:00:00+07:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )
