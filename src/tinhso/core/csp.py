"""Content-Security-Policy on every response.

The pages load scripts, styles, fonts and images from this site only and run no inline
script or style (htmx is a static file and may not add a <style> element or evaluate
code; templates use classes, never `style=` attributes or `<script>` blocks), so the
policy is strict: an injected `<script>` or `onclick=` does not run. The API's Swagger UI
(django-ninja's, served from static files) and Chromium's PDF viewer work under it as it
is. A view that sets its own policy keeps it (e.g. a sandboxing policy for uploads).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"

POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    # data: for the empty favicon of base.html and the icons inside Swagger UI's stylesheet.
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def policy_header() -> str:
    """The header's value."""
    return "; ".join(f"{name} {' '.join(values)}" for name, values in POLICY.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that does not carry one already."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.value = policy_header()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = self.value
        return response
