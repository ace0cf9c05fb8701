"""Input no view should have to think about, refused once for the whole site.

A NUL character ("\\0") has no place in any text the platform takes: PostgreSQL cannot store
it in a text column (every such request used to end in a server error), and it is a
classic way to cut a name short in a log or a file system. `NulCharacterMiddleware`
refuses it wherever it can arrive: the path, the query string, form fields (names and
values; not uploaded files) and JSON bodies, before any view runs.
The answer is a 400 in the shape of the part of the site that was asked: the JSON API's
`{"detail", "code"}`, CKAN's error envelope, or a short page.

The same module holds the time values the API and the forms accept: a time of day has an
offset a real place uses (UTC-12:00 to UTC+14:00), and its year is one the platform can
store and count working days in (1970–2999), on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AfterValidator

NUL = "\x00"
# The bank's notification endpoint records every notification it receives, malformed ones
# too (ADR 0013): it takes NUL characters itself, as a malformed notification.
EXEMPT_VIEWS = frozenset({"api-v1:payment_callback"})
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

# Views that answer errors in a shape of their own (CKAN's envelope for the CKAN Action
# API): the module that owns them registers how a refusal is said there, from its
# AppConfig.ready(), so this module names none of them.
Refusal = Callable[[HttpRequest, str], HttpResponse]
_REFUSALS: dict[str, Refusal] = {}


def refusal_shape_register(view_names: Iterable[str], refusal: Refusal) -> None:
    """Say a refused request on these views (`namespace:name`) with `refusal(request,
    message)` instead of a page."""
    for name in view_names:
        _REFUSALS[name] = refusal


def _nul_in_json(value: Any) -> bool:
    """Whether any key or string in a parsed JSON value holds a NUL (without recursion:
    the value may be nested deeper than Python's stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            for key, inner in item.items():
                if NUL in key:
                    return True
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _fits_in_memory(request: HttpRequest) -> bool:
    """Whether the body is one Django would read into memory (DATA_UPLOAD_MAX_MEMORY_SIZE):
    larger ones are uploads, read from the stream by the view."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is None or length <= limit


def _form_fields(request: HttpRequest) -> QueryDict | None:
    """The form fields of a POST, or None when they cannot be read here without taking the
    body away from the view."""
    if request.content_type == "multipart/form-data":
        if _fits_in_memory(request):
            # Read the body first: the form is then parsed from memory and the view can
            # still read the raw body (the API's JSON endpoints do, whatever the type).
            _ = request.body
        elif request.resolver_match is None or "api-v1" in request.resolver_match.namespaces:
            # Only pages and CKAN take uploads this large, through request.FILES; an API
            # endpoint refuses the body itself.
            return None
    try:
        return request.POST
    except (MultiPartParserError, SuspiciousOperation):
        return None  # the view meets the same problem and answers it


def nul_found(request: HttpRequest) -> str | None:
    """Where the request carries a NUL character ("path", "query", "form", "json"), or
    None. Uploaded files' contents are not text and are not looked at; Django drops
    non-printable characters from their names."""
    if NUL in request.path:
        return "path"
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return "query"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type.startswith(_FORM_TYPES):
        # Django parses form bodies of POST requests only.
        fields = _form_fields(request) if request.method == "POST" else None
        for key, values in (fields or QueryDict()).lists():
            if NUL in key or any(NUL in v for v in values):
                return "form"
        return None
    if not _fits_in_memory(request):
        return None  # the view refuses a body this large
    body = request.body
    # Cheap first: a JSON string can only hold a NUL written as the escape \u0000. Parse to
    # be sure (the six characters may be part of an escaped backslash). A body that does
    # not parse is left to the view, which answers with its own error.
    if b"\\u0000" not in body:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return "json" if _nul_in_json(parsed) else None


def nul_refusal(request: HttpRequest) -> HttpResponse:
    """The 400 answer, in the form the caller reads: the JSON API's error, CKAN's error
    envelope, or a page."""
    message = _("The request contains a NUL character (\\0), which no text may hold.")
    match = request.resolver_match
    namespaces = match.namespaces if match is not None else []
    if "api-v1" in namespaces:
        return JsonResponse(
            {"detail": message, "code": "nul_character"},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    if match is not None and match.view_name in _REFUSALS:
        return _REFUSALS[match.view_name](request, message)
    return render(request, "core/bad_request.html", {"message": message}, status=400)


class NulCharacterMiddleware:
    """Refuses any request with a NUL character in its path, query string, form fields or
    JSON body, before the view (and the database) sees it (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: list[Any],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_VIEWS:
            return None
        if nul_found(request) is None:
            return None
        return nul_refusal(request)


# --- Times --------------------------------------------------------------------------------

# Before 1911 Vietnam's local time was Hanoi's mean time (UTC+07:06:30), which RFC 3339
# cannot write; nothing the platform counts is older than 1970.
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)
# The offsets real places use (UTC-12:00 on Baker Island to UTC+14:00 in Kiribati).
# PostgreSQL refuses offsets past ±15:59 and Python's date arithmetic past ±24:00.
OFFSET_MIN = timedelta(hours=-12)
OFFSET_MAX = timedelta(hours=14)


def moment_problem(value: datetime) -> str | None:
    """Why a time the caller gave cannot be taken, in the active language, or None."""
    offset = value.utcoffset()
    if offset is not None and not (OFFSET_MIN <= offset <= OFFSET_MAX):
        return _(
            "The time zone offset %(offset)s is not one any place uses: give an offset "
            "between -12:00 and +14:00 (Vietnam is +07:00)."
        ) % {"offset": value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:5]}
    if not (EARLIEST <= value.date() <= LATEST):
        return _("Give a date between %(first)s and %(last)s.") % {
            "first": EARLIEST.isoformat(),
            "last": LATEST.isoformat(),
        }
    return None


def moment_clean(value: datetime) -> datetime:
    """An aware time the platform can store and compute with: a time without an offset is
    the platform's local time. Raises ValueError (with moment_problem's message)."""
    problem = moment_problem(value)
    if problem is not None:
        raise ValueError(problem)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def day_clean(value: date) -> date:
    """A calendar date within the years the platform counts in. Raises ValueError."""
    if not (EARLIEST <= value <= LATEST):
        raise ValueError(
            _("Give a date between %(first)s and %(last)s.")
            % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
        )
    return value


# Types for API schemas: pydantic turns the ValueError into a 422 naming the field.
Moment = Annotated[datetime, AfterValidator(moment_clean)]
Day = Annotated[date, AfterValidator(day_clean)]
