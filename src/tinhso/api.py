"""The JSON API, mounted at /api/v1/ (OpenAPI 3 at /api/v1/openapi.json)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError as RequestValidationError

from tinhso import __version__
from tinhso.accounts.api import auth_router, citizens_router, me_router
from tinhso.accounts.services import TokenError
from tinhso.agencies.api import router as agencies_router
from tinhso.catalog.api import router as procedures_router
from tinhso.core.api import validation_errors
from tinhso.core.audit_api import router as audit_router
from tinhso.core.calendar_api import router as calendar_router
from tinhso.dossiers.api import figures_router, track_router
from tinhso.dossiers.api import router as dossiers_router
from tinhso.payments.api import router as payments_router
from tinhso.signing.api import router as verify_router

api = NinjaAPI(
    title="Tỉnh Số API",
    version=__version__,
    description=(
        "Public data (agencies) needs no credentials. Everything else takes "
        "`Authorization: Bearer <token>` from `POST /api/v1/auth/token`. Errors are "
        '`{"detail": message, "code": machine-readable code}`; messages follow '
        "`Accept-Language` (vi by default, en)."
    ),
    urls_namespace="api-v1",
)


@api.exception_handler(TokenError)
def on_token_error(request: HttpRequest, exc: TokenError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": exc.message, "code": f"token_{exc.problem.value}"}, status=401
    )
    error = "" if exc.problem.value == "missing" else ', error="invalid_token"'
    response["WWW-Authenticate"] = f'Bearer realm="tinhso"{error}'
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
api.add_router("/verify", verify_router)
api.add_router("/payments", payments_router)
api.add_router("/audit", audit_router)
