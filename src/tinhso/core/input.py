"""Input no view should have to think about, refused once for the whole site.

A NUL character ("\\0") has no place in any text the platform takes: PostgreSQL cannot store
it in a text column (every such request used to end in a server error), and it is a
classic way to cut a name short in a log or a file system. `NulCharacterMiddleware`
refuses it wherever it can arrive: the path, the query string, form fields (names and
values; not uploaded files) and JSON bodies, before any view runs.
The answer is a 400 in the shape of the part of the site that was asked: the JSON API's
`{"detail", "code"}`, CKAN's error envelope, or a short page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

NUL = "\x00"
# The bank's notification endpoint records every notification it receives, malformed ones
# too (ADR 0013): it takes NUL characters itself, as a malformed notification.
EXEMPT_VIEWS = frozenset({"api-v1:payment_callback"})
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


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
    if match is not None and match.view_name in (
        "opendata:ckan_action",
        "opendata:ckan_action_unversioned",
    ):
        from tinhso.opendata.ckan import bad_request

        return bad_request(request, str(match.kwargs.get("name", "")), message)
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
