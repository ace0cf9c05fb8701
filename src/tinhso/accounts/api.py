"""Accounts over the API: tokens, the caller's own profile, officials' citizen look-up."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, P, PathEx, Query, Router, Schema, Status
from ninja.security import HttpBearer

from tinhso.accounts.access import personal_data_access_record
from tinhso.accounts.identity import parse_personal_id
from tinhso.accounts.models import ApiToken, User
from tinhso.accounts.selectors import (
    api_tokens_of,
    citizen_data_memberships,
    citizen_find,
    data_accesses_for,
    memberships_of,
)
from tinhso.accounts.services import (
    LoginStatus,
    TokenError,
    TokenProblem,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    login_check,
)
from tinhso.core.api import ID_MAX, ErrorOut, Page, PageParams, paginate
from tinhso.core.models import PersonalDataAccess


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; anything missing or wrong is a TokenError (401)."""

    def __call__(self, request: HttpRequest) -> User:
        header = request.headers.get("Authorization", "")
        scheme, _sep, value = header.partition(" ")
        if not header:
            raise TokenError(TokenProblem.MISSING)
        if scheme.lower() != "bearer" or not value.strip():
            raise TokenError(TokenProblem.INVALID)
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_authenticate(token)
        request.user = user
        return user


bearer = BearerToken()


class CitizenDataBearer(BearerToken):
    """A bearer token whose holder may look citizens up somewhere (policy `citizens.lookup`),
    checked before the body is read: a caller without the role learns nothing from how the
    body is validated (403 whatever it sent)."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = super().authenticate(request, token)
        if not citizen_data_memberships(user):
            raise PermissionDenied(_("Your role does not allow you to view citizens' records."))
        return user


citizen_data_bearer = CitizenDataBearer()

auth_router = Router(tags=["auth"])
me_router = Router(tags=["me"], auth=bearer)
citizens_router = Router(tags=["citizens"], auth=bearer)


def _caller(request: HttpRequest) -> User:
    user = getattr(request, "auth", None)
    if not isinstance(user, User):  # only reachable if a router forgot its auth
        raise PermissionDenied
    return user


# --- Tokens ---------------------------------------------------------------------------------


class TokenRequest(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)
    otp: str | None = Field(
        None, description="TOTP code, required once a second factor is enrolled"
    )
    name: str = Field("", max_length=100, description="What the token is for")
    expires_in_days: int | None = Field(None, ge=1, le=365)


class TokenCreatedOut(Schema):
    id: int
    token: str
    token_type: str = "Bearer"  # noqa: S105 (the OAuth token type, not a secret)
    name: str
    expires_at: datetime


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str

    @staticmethod
    def resolve_status(obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "expired" if obj.expires_at <= timezone.now() else "active"


@auth_router.post(
    "/token",
    response={201: TokenCreatedOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Exchange a user name and password for a bearer token",
    auth=None,
)
def token_create(request: HttpRequest, payload: TokenRequest) -> object:
    result = login_check(
        request=request,
        username=payload.username,
        password=payload.password,
        otp=payload.otp,
        channel="api",
    )
    if result.status is LoginStatus.LOCKED:
        from ninja.responses import Response

        response = Response({"detail": result.message, "code": "locked"}, status=429)
        response["Retry-After"] = str(result.retry_after)
        return response
    if result.status is not LoginStatus.OK or result.user is None:
        return Status(401, {"detail": result.message, "code": result.status.value})
    try:
        token, plain = api_token_create(
            user=result.user, name=payload.name, days=payload.expires_in_days
        )
    except ValidationError as exc:
        return Status(422, {"detail": " ".join(exc.messages)})
    return Status(
        201, {"id": token.pk, "token": plain, "name": token.name, "expires_at": token.expires_at}
    )


@auth_router.get(
    "/tokens", response={200: list[TokenOut], 401: ErrorOut}, summary="Your tokens", auth=bearer
)
def tokens_list(request: HttpRequest) -> object:
    return list(api_tokens_of(_caller(request)))


@auth_router.delete(
    "/tokens/{token_id}",
    response={204: None, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Revoke one of your tokens",
    auth=bearer,
)
def tokens_revoke(request: HttpRequest, token_id: PathEx[int, P(ge=1, le=ID_MAX)]) -> object:
    if api_token_revoke(user=_caller(request), token_id=token_id) is None:
        return Status(404, {"detail": _("You have no token with this id."), "code": "not_found"})
    return Status(204, None)


# --- The caller -------------------------------------------------------------------------------


class MembershipOut(Schema):
    agency: str = Field(alias="agency.code")
    agency_name: str = Field(alias="agency.name")
    role: str
    title: str


class ProfileOut(Schema):
    username: str
    kind: str
    full_name: str
    personal_id: str | None
    tax_code: str | None
    date_of_birth: date | None
    sex: str
    phone: str
    email: str
    permanent_address: str
    totp_enrolled: bool
    memberships: list[MembershipOut]


@me_router.get("", response={200: ProfileOut, 401: ErrorOut}, summary="Your own profile")
def me(request: HttpRequest) -> object:
    from tinhso.accounts.services import totp_is_enrolled

    user = _caller(request)
    return {
        **{
            f: getattr(user, f)
            for f in (
                "username",
                "kind",
                "full_name",
                "personal_id",
                "tax_code",
                "date_of_birth",
                "sex",
                "phone",
                "email",
                "permanent_address",
            )
        },
        "totp_enrolled": totp_is_enrolled(user),
        "memberships": list(memberships_of(user)),
    }


class DataAccessOut(Schema):
    at: datetime
    official: str
    agency: str | None
    agency_code: str | None
    purpose: str
    record: str
    channel: str

    @staticmethod
    def resolve_official(obj: PersonalDataAccess) -> str:
        return obj.official.full_name or obj.official.username

    @staticmethod
    def resolve_agency(obj: PersonalDataAccess) -> str | None:
        return obj.agency.name if obj.agency else None

    @staticmethod
    def resolve_agency_code(obj: PersonalDataAccess) -> str | None:
        return obj.agency.code if obj.agency else None


@me_router.get(
    "/data-access",
    response={200: Page[DataAccessOut], 401: ErrorOut, 422: ErrorOut},
    summary="Who looked at your personal data, and when",
)
def me_data_access(request: HttpRequest, paging: Query[PageParams]) -> object:
    return paginate(data_accesses_for(_caller(request)), paging)


# --- Officials look up a citizen ----------------------------------------------------------------


class CitizenLookupIn(Schema):
    personal_id: str = Field(description="12-digit personal identification number")
    purpose: str = Field(min_length=3, max_length=255, description="Why you need the record")
    agency: str | None = Field(None, description="Agency code you act for, if you have several")


class CitizenOut(Schema):
    personal_id: str
    full_name: str
    date_of_birth: date | None
    sex: str
    phone: str
    email: str
    permanent_address: str


@citizens_router.post(
    "/lookup",
    response={200: CitizenOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="An official reads a citizen's record (the citizen can see that you did)",
    auth=citizen_data_bearer,
)
def citizen_lookup(request: HttpRequest, payload: CitizenLookupIn) -> object:
    official = _caller(request)
    memberships = citizen_data_memberships(official)
    if payload.agency:
        memberships = [m for m in memberships if m.agency.code == payload.agency]
    if not memberships:
        return Status(403, {
            "detail": _("Your role does not allow you to view citizens' records."),
            "code": "forbidden",
        })  # fmt: skip
    try:
        parse_personal_id(payload.personal_id)
    except ValidationError as exc:
        return Status(422, {"detail": " ".join(exc.messages), "code": "personal_id"})
    citizen = citizen_find(personal_id=payload.personal_id)
    if citizen is None:
        return Status(404, {
            "detail": _("No citizen has this personal identification number."),
            "code": "not_found",
        })  # fmt: skip
    personal_data_access_record(
        official=official,
        citizen=citizen,
        purpose=payload.purpose,
        agency=memberships[0].agency,
        channel="api",
    )
    return Status(200, citizen)
