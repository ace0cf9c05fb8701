"""Domain errors: a refusal the user can understand and act on, raised by a service and
answered in one place for the API (`tinhso.api`) and in one place for pages
(`refusals_shown`). Every module's errors subclass `DomainError` and say their HTTP status
and machine-readable code once, in the class."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


class DomainError(Exception):
    """A refusal: `message` in the user's language (translated where it is raised, in the
    request's language), `status` the HTTP status it is answered with, `code` the
    machine-readable reason the API gives, `errors` messages per input field when the
    refusal is about what was filled in. A subclass sets `status` and `code`; a raise may
    override them."""

    status: int = 422
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors) if errors is not None else None
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the body (WWW-Authenticate, Retry-After)."""
        return {}

    def body(self) -> dict[str, object]:
        """The API's error body: `{"detail", "code"}` and `errors` when there are any."""
        answer: dict[str, object] = {"detail": self.message, "code": self.code}
        if self.errors is not None:
            answer["errors"] = self.errors
        return answer


def refusals_shown(to: str, *params: str) -> Callable[[View[P]], View[P]]:
    """For a view that acts on a POST: a refusal (`DomainError`) is shown as an error
    message on the page named `to` (a URL name, reversed with the view's own URL parameters
    listed in `params`), where the user sees why and can try again (Post/Redirect/Get). A
    stale form (409, someone else acted first) is answered 303 See Other, every other
    refusal 302, as the pages have always done."""

    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        def shown(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                messages.error(request, exc.message)
                response = redirect(reverse(to, kwargs={name: kwargs[name] for name in params}))
                if exc.status == 409:
                    response.status_code = 303
                return response

        return shown

    return decorate


class ForbiddenError(DomainError):
    """The user may not do this (403)."""

    status = 403
    code = "forbidden"


class NotFoundError(DomainError):
    """No such record, or none the user may know of (404)."""

    status = 404
    code = "not_found"


class ConflictError(DomainError):
    """The record changed since the user saw it, or the request contradicts an earlier one
    (409)."""

    status = 409
    code = "conflict"


class MethodNotAllowedPageMiddleware:
    """An address opened with a method it does not take answers 405 with an empty body
    (`require_POST`) or a line of English (django-ninja's routes): a page gets one that says
    so in the user's language, with its way back (a bookmarked or reloaded form action),
    and the API an error in its own JSON shape. Answers that say something already (a page
    with a body, JSON from an API) are left as they are."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.streaming:
            return response
        api = request.path.startswith("/api/")
        if (api and "json" in response.get("Content-Type", "")) or (not api and response.content):
            return response
        allowed = response.get("Allow", "")
        answer: HttpResponse
        if api:
            detail = _("This address does not take %(method)s; it takes %(allowed)s.") % {
                "method": request.method, "allowed": allowed or "-",
            }  # fmt: skip
            answer = JsonResponse({"detail": detail, "code": "method_not_allowed"}, status=405)
        else:
            answer = render(request, "405.html", status=405)
        if allowed:
            answer["Allow"] = allowed
        return answer
