"""The JSON API, mounted at /api/v1/ (OpenAPI 3 at /api/v1/openapi.json)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.openapi.schema import OpenAPISchema

from tinhso import __version__
from tinhso.accounts.api import auth_router, citizens_router, me_router
from tinhso.agencies.api import router as agencies_router
from tinhso.agencies.calendar_api import router as calendar_router
from tinhso.catalog.api import router as procedures_router
from tinhso.core.api import validation_errors
from tinhso.core.errors import DomainError
from tinhso.documents.api import router as edxml_router
from tinhso.dossiers.api import router as dossiers_router
from tinhso.dossiers.api import track_router
from tinhso.indicators_api import figures_router, indicators_router
from tinhso.payments.api import router as payments_router
from tinhso.signing.api import router as verify_router
from tinhso.signing.audit_api import router as audit_router


class TinhSoAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document also lists the answers every operation may give
    before its own code runs: 400 when core.input refuses a NUL character or the body is
    not JSON, and 414 when the request line is longer than the HTTP server takes
    (gunicorn's limit is 4094 bytes)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error = {"$ref": "#/components/schemas/ErrorOut"}
        common = {
            400: {
                "description": "Bad Request: a NUL character in the path, query or body, "
                "or a body that is not JSON",
                "content": {"application/json": {"schema": error}},
            },
            414: {"description": "URI Too Long: the HTTP server refuses the request line"},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                # Ninja keys responses by int status until the document is serialised.
                for status, answer in common.items():
                    responses.setdefault(status, answer)
        return schema


api = TinhSoAPI(
    title="Tỉnh Số API",
    version=__version__,
    description=(
        "Public data (agencies) needs no credentials. Everything else takes "
        "`Authorization: Bearer <token>` from `POST /api/v1/auth/token`. Errors are "
        '`{"detail": message, "code": machine-readable code}` (and `errors` per field '
        "when the input is at fault); messages follow `Accept-Language` (vi by default, "
        "en). Requests that create something (a dossier, a payment, a rating) take an "
        "`Idempotency-Key` header: retried with the same key and body they answer 200 with "
        "what the first created; the same key with another body is a 409 "
        "`idempotency_conflict`."
    ),
    urls_namespace="api-v1",
)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Every module's refusals (core.errors): their status, `{detail, code}` and `errors`
    per field when there are any; a token problem also says WWW-Authenticate."""
    response = api.create_response(request, exc.body(), status=exc.status)
    for name, value in exc.headers().items():
        response[name] = value
    return response


@api.exception_handler(RequestValidationError)
def on_request_invalid(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": _("The request is not valid: see the errors per field."),
            "code": "invalid_request",
            "errors": validation_errors(list(exc.errors)),
        },
        status=422,
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja raises it itself for a body it cannot parse (400); said in the caller's language.
    if exc.status_code == 400:
        detail, code = _("The body is not valid JSON."), "invalid_json"
    else:
        detail, code = str(exc), "http_error"
    return api.create_response(request, {"detail": detail, "code": code}, status=exc.status_code)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or _("You may not do this."), "code": "forbidden"}, status=403
    )


api.add_router("/agencies", agencies_router)
api.add_router("/auth", auth_router)
api.add_router("/me", me_router)
api.add_router("/citizens", citizens_router)
api.add_router("/procedures", procedures_router)
api.add_router("/dossiers", dossiers_router)
api.add_router("/track", track_router)
api.add_router("/calendar", calendar_router)
api.add_router("/figures", figures_router)
api.add_router("/indicators", indicators_router)
api.add_router("/verify", verify_router)
api.add_router("/payments", payments_router)
api.add_router("/audit", audit_router)
api.add_router("/edxml", edxml_router)
