"""Electronic identification of citizens.

Two implementations of one contract (IdentityProvider): the embedded demo registry, where
a citizen signs in with their personal ID and a one-time code (shown on screen, since no
SMS leaves a demo; it exists only when TINHSO_DEMO is on), and an OpenID Connect relying
party (authorization-code
flow with PKCE) for a real provider, configured by environment. Either way the citizen's
profile comes from the identity, never from typing (accounts.services.citizen_from_identity).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import jwt
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.identity import parse_personal_id
from tinhso.accounts.models import SignInCode, SignInScope, User
from tinhso.accounts.registry import IdentityProfile, registry
from tinhso.accounts.services import (
    AttemptLimit,
    signin_attempt_failed,
    signin_attempt_take,
    signin_attempts_clear,
    signin_locked_for,
)
from tinhso.core.errors import DomainError
from tinhso.core.privacy import mask_personal_id


class IdentityError(DomainError):
    """Sign-in with the identity provider failed; the message is for the citizen, shown on
    the sign-in page (400)."""

    status = 400
    code = "identity"


class IdentityProvider(Protocol):
    slug: str

    @property
    def label(self) -> str: ...

    def is_configured(self) -> bool: ...


# --- Embedded demo registry with one-time codes -------------------------------------------

CODE_LIFETIME = timedelta(minutes=5)
CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(hours=1)


class IdentityLimitedError(IdentityError):
    """Refused for a while (too many codes asked for, or too many wrong codes): answered
    429 with Retry-After."""

    status = 429
    code = "limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _code_digest(personal_id: str, code: str) -> str:
    return hashlib.sha256(f"{personal_id}:{code}".encode()).hexdigest()


def wrong_code_limit() -> AttemptLimit:
    """Wrong one-time codes per personal ID within an hour before the ID is locked."""
    return AttemptLimit(
        scope=SignInScope.EID_WRONG_CODE,
        most=settings.TINHSO_EID_MAX_WRONG_CODES,
        window=CODE_WINDOW,
        lock=settings.TINHSO_EID_LOCK_DURATION,
    )


def _codes_per_id() -> AttemptLimit:
    return AttemptLimit(
        scope=SignInScope.EID_CODE_ID,
        most=settings.TINHSO_EID_CODES_PER_ID_HOUR,
        window=CODE_WINDOW,
    )


def _codes_per_address() -> AttemptLimit:
    return AttemptLimit(
        scope=SignInScope.EID_CODE_ADDRESS,
        most=settings.TINHSO_EID_CODES_PER_ADDRESS_HOUR,
        window=CODE_WINDOW,
    )


def _locked_message(seconds: int) -> str:
    return _(
        "Too many wrong codes: signing in with this personal identification number is "
        "locked for now. Try again in %(minutes)d minutes."
    ) % {"minutes": _minutes(seconds)}


class DemoRegistryProvider:
    """Sign-in by personal ID and a one-time code for citizens of the embedded registry.
    Exists only in the demo (TINHSO_DEMO), where the code is shown on the page.

    Every well-formed ID gets the same answer whether or not the registry knows it: a code
    is issued (and shown) for an unknown one too, but its stored digest matches no code,
    so it can never sign in. Codes are limited per ID and per client address per hour,
    and repeated wrong codes lock the ID for a while."""

    slug = "demo"
    label = "Định danh điện tử (mô phỏng)"

    def is_configured(self) -> bool:
        return bool(settings.TINHSO_DEMO)

    def issue_code(self, personal_id: str, *, ip: str | None = None) -> str:
        """A fresh 6-digit code (earlier codes stop working). The demo shows it on screen;
        a real provider sends it to the phone registered for the ID, if there is one."""
        parse_personal_id(personal_id)
        locked = signin_locked_for(limit=wrong_code_limit(), key=personal_id)
        if locked:
            raise IdentityLimitedError(_locked_message(locked), locked)
        if ip is not None:
            _taken, wait = signin_attempt_take(limit=_codes_per_address(), key=ip, ip=ip)
            if wait:
                message = _(
                    "Too many codes were asked for from your network. "
                    "Try again in %(minutes)d minutes."
                )
                raise IdentityLimitedError(message % {"minutes": _minutes(wait)}, wait)
        _taken, wait = signin_attempt_take(limit=_codes_per_id(), key=personal_id, ip=ip)
        if wait:
            message = _(
                "Too many codes were asked for this personal identification number. "
                "Try again in %(minutes)d minutes."
            )
            raise IdentityLimitedError(message % {"minutes": _minutes(wait)}, wait)
        code = f"{secrets.randbelow(10**6):06d}"
        known = registry().lookup(personal_id) is not None
        # An unknown ID stores a digest of nothing anyone was shown: no code matches it.
        digest = _code_digest(personal_id, code if known else secrets.token_hex(16))
        with transaction.atomic():
            SignInCode.objects.filter(personal_id=personal_id, used_at__isnull=True).delete()
            SignInCode.objects.create(
                personal_id=personal_id,
                digest=digest,
                expires_at=timezone.now() + CODE_LIFETIME,
            )
        return code

    def verify_code(self, personal_id: str, code: str, *, ip: str | None = None) -> IdentityProfile:
        """The citizen's profile for a right code; IdentityError otherwise. The try is
        counted before the code is compared, so concurrent guesses cannot pass the limit."""
        parse_personal_id(personal_id)
        limit = wrong_code_limit()
        attempt, wait = signin_attempt_take(limit=limit, key=personal_id, ip=ip)
        if attempt is None:
            raise IdentityLimitedError(_locked_message(wait), wait)
        problem = None
        with transaction.atomic():
            row = (
                SignInCode.objects.select_for_update()
                .filter(personal_id=personal_id, used_at__isnull=True)
                .order_by("-created_at")
                .first()
            )
            if row is None or row.expires_at <= timezone.now() or row.attempts >= CODE_ATTEMPTS:
                problem = _("The code has expired: ask for a new one.")
            elif not secrets.compare_digest(row.digest, _code_digest(personal_id, code.strip())):
                # Counted (and committed) before the error is raised, so guessing burns the code.
                row.attempts += 1
                row.save(update_fields=["attempts"])
                problem = _("The code is wrong or has already been used.")
            else:
                row.used_at = timezone.now()
                row.save(update_fields=["used_at"])
        profile = None if problem else registry().lookup(personal_id)
        if profile is None:
            user = User.objects.filter(personal_id=personal_id).first()
            locked = signin_attempt_failed(
                limit=limit,
                key=personal_id,
                audit_action="account.eid_locked",
                audit_object_id=str(user.pk) if user else "",
                audit_data={"personal_id": mask_personal_id(personal_id)},
            )
            if locked:
                raise IdentityLimitedError(_locked_message(locked), locked)
            raise IdentityError(problem or _("The code is wrong or has already been used."))
        signin_attempts_clear(scope=limit.scope, key=personal_id)
        return profile


# --- OpenID Connect relying party ---------------------------------------------------------

HttpGetJson = Callable[[str], dict[str, Any]]
HttpPostForm = Callable[[str, dict[str, str]], dict[str, Any]]


def _http_get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (https URL from settings)
        return dict(json.load(response))


def _http_post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    body = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return dict(json.load(response))


@dataclass
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    personal_id_claim: str
    label: str

    @classmethod
    def from_settings(cls) -> OidcSettings:
        return cls(
            issuer=settings.TINHSO_OIDC_ISSUER.rstrip("/"),
            client_id=settings.TINHSO_OIDC_CLIENT_ID,
            client_secret=settings.TINHSO_OIDC_CLIENT_SECRET,
            scopes=settings.TINHSO_OIDC_SCOPES,
            personal_id_claim=settings.TINHSO_OIDC_PERSONAL_ID_CLAIM,
            label=settings.TINHSO_OIDC_LABEL,
        )


_SESSION_KEY = "tinhso_oidc"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OidcProvider:
    """Authorization-code flow with PKCE (S256), state and nonce; the ID token's signature
    is checked against the provider's published keys, with issuer, audience, expiry and
    nonce."""

    slug = "oidc"

    def __init__(
        self,
        config: OidcSettings | None = None,
        http_get_json: HttpGetJson | None = None,
        http_post_form: HttpPostForm | None = None,
    ) -> None:
        self.config = config or OidcSettings.from_settings()
        self._get = http_get_json or _http_get_json
        self._post = http_post_form or _http_post_form
        self._metadata: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.config.label

    def is_configured(self) -> bool:
        return bool(self.config.issuer and self.config.client_id)

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = self._get(self.config.issuer + "/.well-known/openid-configuration")
        return self._metadata

    def authorization_url(self, request: HttpRequest, *, redirect_uri: str, next_url: str) -> str:
        verifier = _b64url(secrets.token_bytes(32))
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        request.session[_SESSION_KEY] = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri,
            "next": next_url,
        }
        challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.config.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.metadata()['authorization_endpoint']}?{query}"

    def complete(self, request: HttpRequest) -> tuple[IdentityProfile, str]:
        """Finish the flow on the callback; returns the identity and where to go next."""
        pending = request.session.pop(_SESSION_KEY, None)
        if not pending or not secrets.compare_digest(
            str(request.GET.get("state", "")), pending["state"]
        ):
            raise IdentityError(_("The sign-in answer does not match a sign-in we started."))
        if request.GET.get("error"):
            raise IdentityError(_("The identity provider refused the sign-in."))
        code = request.GET.get("code")
        if not code:
            raise IdentityError(_("The identity provider sent no authorisation code."))
        tokens = self._post(
            self.metadata()["token_endpoint"],
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending["redirect_uri"],
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
                "code_verifier": pending["verifier"],
            },
        )
        id_token = tokens.get("id_token")
        if not id_token:
            raise IdentityError(_("The identity provider sent no identity token."))
        claims = self._decode(str(id_token), nonce=pending["nonce"])
        return self._profile(claims), pending["next"]

    def _decode(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        keys = jwt.PyJWKSet.from_dict(self._get(self.metadata()["jwks_uri"]))
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = next((k for k in keys.keys if kid is None or k.key_id == kid), None)
            if key is None:
                raise IdentityError(_("The identity token is signed with an unknown key."))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=["RS256", "ES256", "PS256"],
                audience=self.config.client_id,
                issuer=self.config.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise IdentityError(_("The identity token is not valid.")) from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise IdentityError(_("The identity token is not valid."))
        return claims

    def _profile(self, claims: dict[str, Any]) -> IdentityProfile:
        personal_id = str(claims.get(self.config.personal_id_claim, "")).strip()
        parse_personal_id(personal_id)
        birth = claims.get("birthdate")
        gender = str(claims.get("gender", "")).lower()
        address = claims.get("address")
        return IdentityProfile(
            personal_id=personal_id,
            full_name=str(claims.get("name", "")),
            date_of_birth=date.fromisoformat(birth) if birth else None,
            sex={"male": "male", "female": "female", "nam": "male", "nữ": "female"}.get(gender, ""),
            permanent_address=str(address.get("formatted", ""))
            if isinstance(address, dict)
            else "",
            phone=str(claims.get("phone_number", "")),
            email=str(claims.get("email", "")),
        )


def identity_providers() -> list[IdentityProvider]:
    """The providers citizens may sign in with here (the demo's only in the demo)."""
    candidates: list[IdentityProvider] = [DemoRegistryProvider(), OidcProvider()]
    return [provider for provider in candidates if provider.is_configured()]
