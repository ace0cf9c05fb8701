"""Writes of the accounts module: users, memberships, sign-in, second factor, API tokens."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts import totp
from tinhso.accounts.identity import parse_personal_id
from tinhso.accounts.models import (
    ApiToken,
    Membership,
    SignInAttempt,
    SignInGuard,
    SignInScope,
    TotpDevice,
    User,
    UserKind,
)
from tinhso.agencies.models import Agency
from tinhso.core.audit import audit_record
from tinhso.core.errors import DomainError
from tinhso.core.privacy import mask_personal_id
from tinhso.core.roles import validate_role

# --- Users ----------------------------------------------------------------------------


def citizen_create(
    *,
    actor: User | None,
    personal_id: str,
    full_name: str,
    date_of_birth: date | None = None,
    sex: str = "",
    phone: str = "",
    email: str = "",
    permanent_address: str = "",
    password: str | None = None,
) -> User:
    """Create a citizen account whose username is the personal identification number.
    The number's encoded sex and year of birth must agree with the profile."""
    info = parse_personal_id(personal_id)
    if date_of_birth is not None and date_of_birth.year != info.birth_year:
        raise ValidationError(
            {
                "date_of_birth": _(
                    "The year of birth does not match the personal identification number."
                )
            }
        )
    if sex and sex != info.sex:
        raise ValidationError(
            {"sex": _("The sex does not match the personal identification number.")}
        )
    user = User(
        username=personal_id,
        kind=UserKind.CITIZEN,
        personal_id=personal_id,
        full_name=full_name,
        date_of_birth=date_of_birth,
        sex=sex or info.sex,
        phone=phone,
        email=email,
        permanent_address=permanent_address,
    )
    return _user_save_new(actor=actor, user=user, password=password)


def official_create(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    email: str = "",
    phone: str = "",
    password: str | None = None,
    is_superuser: bool = False,
) -> User:
    """An official's account (roles come from memberships, `membership_grant`); audited.
    A superuser is also staff: the province administrator in the admin."""
    user = User(
        username=username,
        kind=UserKind.OFFICIAL,
        full_name=full_name,
        email=email,
        phone=phone,
        is_staff=is_superuser,
        is_superuser=is_superuser,
    )
    return _user_save_new(actor=actor, user=user, password=password)


def _user_save_new(*, actor: User | None, user: User, password: str | None) -> User:
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        audit_record(
            actor=actor,
            action="user.created",
            obj=user,
            data={
                "kind": user.kind,
                "username": mask_personal_id(user.username)
                if user.kind == UserKind.CITIZEN
                else user.username,
            },
        )
    return user


def membership_grant(
    *, actor: User | None, user: User, agency: Agency, role: str, title: str = ""
) -> Membership:
    """Give an official a role in an agency (idempotent: an existing one is re-activated)."""
    if user.kind != UserKind.OFFICIAL:
        raise ValidationError(_("Only officials can hold a role in an agency."))
    validate_role(role)
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, agency=agency, role=role, defaults={"title": title}
        )
        if not created and not membership.is_active:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="membership.granted",
            obj=membership,
            data={"user": user.username, "agency": agency.code, "role": role},
        )
    return membership


# --- Sign-in ---------------------------------------------------------------------------


# Every limited key (an account name, a personal ID, a client address) has a SignInGuard
# row that each attempt locks first. An attempt that is checked (a password, a one-time
# code) is counted *before* the check and forgotten again if it was right: counting after
# the check let a burst of concurrent wrong passwords all pass the "not locked yet" test
# and be checked (40 at once got 8 checks, not 5).


@dataclass(frozen=True)
class AttemptLimit:
    """At most `most` attempts on one key within `window`. Past that the key is refused:
    for `lock` when set (a lock-out after failures), otherwise until the oldest attempt
    leaves the window (a rate)."""

    scope: str
    most: int
    window: timedelta
    lock: timedelta | None = None


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def _guard(scope: str, key: str) -> SignInGuard:
    """The key's guard row, created on first use and locked until the transaction ends."""
    guard, _created = SignInGuard.objects.select_for_update().get_or_create(scope=scope, key=key)
    return guard


def _attempts(limit: AttemptLimit, key: str, now: datetime) -> QuerySet[SignInAttempt]:
    return SignInAttempt.objects.filter(scope=limit.scope, key=key, at__gt=now - limit.window)


def _refused_for(guard: SignInGuard, limit: AttemptLimit, now: datetime) -> int:
    """Seconds the key is refused for (0: it may be tried now). Call with the guard locked."""
    if guard.locked_until is not None:
        if guard.locked_until > now:
            return _seconds(guard.locked_until - now)
        # The lock has run out, and the failures that caused it are forgiven with it.
        guard.locked_until = None
        guard.save(update_fields=["locked_until"])
        SignInAttempt.objects.filter(scope=limit.scope, key=guard.key).delete()
    recent = _attempts(limit, guard.key, now)
    if recent.count() < limit.most:
        return 0
    if limit.lock is not None:
        # The limit is reached by attempts still being checked: refused as if locked.
        return _seconds(limit.lock)
    oldest = recent.order_by("at").values_list("at", flat=True).first()
    return _seconds(oldest + limit.window - now) if oldest else 1


def signin_locked_for(*, limit: AttemptLimit, key: str) -> int:
    """Seconds a lock-out keeps the key refused (0: not locked). A read, kept beside the
    writes whose rules it shares."""
    now = timezone.now()
    guard = SignInGuard.objects.filter(scope=limit.scope, key=key).first()
    if guard is not None and guard.locked_until is not None:
        return _seconds(guard.locked_until - now) if guard.locked_until > now else 0
    if limit.lock is not None and _attempts(limit, key, now).count() >= limit.most:
        return _seconds(limit.lock)
    return 0


def signin_attempt_take(*, limit: AttemptLimit, key: str, ip: str | None) -> tuple[int | None, int]:
    """Count one attempt on `key` if the limit allows it: returns the attempt's id and 0,
    or None and the seconds to wait. Attempts on one key are counted one at a time."""
    now = timezone.now()
    with transaction.atomic():
        guard = _guard(limit.scope, key)
        wait = _refused_for(guard, limit, now)
        if wait:
            return None, wait
        SignInAttempt.objects.filter(
            scope=limit.scope, key=key, at__lte=now - limit.window
        ).delete()
        attempt = SignInAttempt.objects.create(scope=limit.scope, key=key, ip=ip, at=now)
    return attempt.pk, 0


def signin_attempt_forget(*, attempt_id: int) -> None:
    """An attempt counted before its check turned out not to be a failure."""
    SignInAttempt.objects.filter(pk=attempt_id).delete()


def signin_attempt_failed(
    *,
    limit: AttemptLimit,
    key: str,
    audit_action: str,
    audit_object_id: str = "",
    audit_data: dict[str, Any] | None = None,
) -> int:
    """A counted attempt failed its check: once the failures reach the limit, lock the key
    (audited). Returns the seconds the key is locked for, 0 when it is not."""
    assert limit.lock is not None  # noqa: S101 (only lock-out limits have failures)
    now = timezone.now()
    with transaction.atomic():
        guard = _guard(limit.scope, key)
        if guard.locked_until is not None and guard.locked_until > now:
            return _seconds(guard.locked_until - now)
        failures = _attempts(limit, key, now).count()
        if failures < limit.most:
            return 0
        guard.locked_until = now + limit.lock
        guard.save(update_fields=["locked_until"])
        audit_record(
            actor=None,
            action=audit_action,
            object_type="accounts.user",
            object_id=audit_object_id,
            data={
                **(audit_data or {}),
                "failures": failures,
                "until": guard.locked_until.isoformat(),
            },
        )
    return _seconds(limit.lock)


def signin_attempts_clear(*, scope: str, key: str) -> None:
    """A right password or code: the key's counted failures and any lock end."""
    SignInAttempt.objects.filter(scope=scope, key=key).delete()
    SignInGuard.objects.filter(scope=scope, key=key, locked_until__isnull=False).update(
        locked_until=None
    )


class LoginStatus(Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    OTP_REQUIRED = "otp_required"
    OTP_INVALID = "otp_invalid"


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    user: User | None = None
    retry_after: int = 0  # seconds, when locked

    @property
    def message(self) -> str:
        if self.status is LoginStatus.INVALID:
            return _("Wrong user name or password.")
        if self.status is LoginStatus.LOCKED:
            minutes = max(1, -(-self.retry_after // 60))
            return _(
                "Too many wrong attempts: this account is locked for now. "
                "Try again in %(minutes)d minutes."
            ) % {"minutes": minutes}
        if self.status is LoginStatus.OTP_REQUIRED:
            return _("Enter the 6-digit code from your authenticator app.")
        if self.status is LoginStatus.OTP_INVALID:
            return _("The code is wrong or has already been used.")
        return ""


def _login_key(username: str) -> str:
    return username.strip().lower()[:150]


def password_limit() -> AttemptLimit:
    """Wrong passwords (and second-factor codes) per account name and client (ADR 0004):
    a client that guesses is locked out of that name; the others are not."""
    return AttemptLimit(
        scope=SignInScope.PASSWORD,
        most=settings.TINHSO_LOGIN_MAX_FAILURES,
        window=settings.TINHSO_LOGIN_FAILURE_WINDOW,
        lock=settings.TINHSO_LOGIN_LOCK_DURATION,
    )


def password_name_limit() -> AttemptLimit:
    """Wrong passwords per account name from every client together: the ceiling on guesses
    spread over many addresses (ADR 0004), which locks the name for everyone."""
    return AttemptLimit(
        scope=SignInScope.PASSWORD_NAME,
        most=settings.TINHSO_LOGIN_MAX_FAILURES_PER_NAME,
        window=settings.TINHSO_LOGIN_FAILURE_WINDOW,
        lock=settings.TINHSO_LOGIN_LOCK_DURATION,
    )


@dataclass(frozen=True)
class _Counted:
    """A sign-in attempt counted before its check: on the name from this client (`pair`)
    and on the name from every client (`name`), with the two attempts' ids."""

    name: str
    pair: str
    pair_attempt: int
    name_attempt: int


def _login_count(request: HttpRequest | None, username: str) -> _Counted | LoginResult:
    """Count an attempt on both limits, or the refusal when either is locked."""
    name = _login_key(username)
    pair = f"{name[:100]}@{client_network(request) or '-'}"
    ip = client_ip(request)
    pair_attempt, wait = signin_attempt_take(limit=password_limit(), key=pair, ip=ip)
    if pair_attempt is None:
        return LoginResult(LoginStatus.LOCKED, retry_after=wait)
    name_attempt, wait = signin_attempt_take(limit=password_name_limit(), key=name, ip=ip)
    if name_attempt is None:
        signin_attempt_forget(attempt_id=pair_attempt)
        return LoginResult(LoginStatus.LOCKED, retry_after=wait)
    return _Counted(name, pair, pair_attempt, name_attempt)


def _login_failure(counted: _Counted) -> LoginResult:
    """A counted attempt was wrong: the name is locked for this client once its limit is
    reached, and for every client once the name's is."""
    user = User.objects.filter(username__iexact=counted.name).first()
    audited = str(user.pk) if user else ""
    locked = max(
        signin_attempt_failed(
            limit=password_limit(), key=counted.pair, audit_action="account.locked",
            audit_object_id=audited,
        ),
        signin_attempt_failed(
            limit=password_name_limit(), key=counted.name,
            audit_action="account.locked_everywhere", audit_object_id=audited,
        ),
    )  # fmt: skip
    if locked:
        return LoginResult(LoginStatus.LOCKED, retry_after=locked)
    return LoginResult(LoginStatus.INVALID)


def _login_forget(counted: _Counted) -> None:
    """A counted attempt that was not a failure (a right password waiting for its code)."""
    signin_attempt_forget(attempt_id=counted.pair_attempt)
    signin_attempt_forget(attempt_id=counted.name_attempt)


def _login_success(user: User, channel: str, counted: _Counted) -> LoginResult:
    """This client's failures on the name end; those of other clients still count
    against the name's ceiling (a guesser elsewhere is not forgiven by this sign-in)."""
    with transaction.atomic():
        signin_attempts_clear(scope=SignInScope.PASSWORD, key=counted.pair)
        signin_attempt_forget(attempt_id=counted.name_attempt)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        audit_record(actor=user, action="account.signed_in", obj=user, data={"channel": channel})
    return LoginResult(LoginStatus.OK, user=user)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or, when that is one of TINHSO_TRUSTED_PROXIES,
    the nearest address in X-Forwarded-For that is not a trusted proxy (a client can put
    anything at the start of that header, but not after what the proxy appended)."""
    if request is None:
        return None
    address = _ip_or_none(request.META.get("REMOTE_ADDR", ""))
    trusted = set(settings.TINHSO_TRUSTED_PROXIES)
    if address is None or address not in trusted:
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",")]):
        hop_address = _ip_or_none(hop)
        if hop_address is None:
            break
        if hop_address not in trusted:
            return hop_address
        address = hop_address
    return address


def client_network(request: HttpRequest | None) -> str:
    """The client as rates count it: its address (`client_ip`), an IPv6 address by its
    /64, which one device may walk through, an IPv4 address seen through a dual-stack
    socket (::ffff:a.b.c.d) as itself; "" when unknown."""
    address = client_ip(request) or ""
    if ":" not in address:
        return address
    mapped = ipaddress.IPv6Address(address).ipv4_mapped
    if mapped is not None:
        return str(mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def _ip_or_none(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def login_check(
    *,
    request: HttpRequest | None,
    username: str,
    password: str,
    otp: str | None = None,
    channel: str = "web",
) -> LoginResult:
    """Check a user name and password (and the TOTP code once one is enrolled).

    A locked name is refused before the password is looked at. Failures count per name and
    client (TINHSO_LOGIN_MAX_FAILURES), and per name from every client together
    (TINHSO_LOGIN_MAX_FAILURES_PER_NAME), whether or not the account exists, so the answer
    never tells which names exist; someone guessing from one place locks the name for
    themselves, not for its owner elsewhere. The attempt is counted before the password is
    checked, so at most TINHSO_LOGIN_MAX_FAILURES passwords from one client are ever
    checked before the lock-out."""
    counted = _login_count(request, username)
    if isinstance(counted, LoginResult):
        return counted
    user = authenticate(request, username=username, password=password)
    if user is None or not isinstance(user, User):
        return _login_failure(counted)
    if totp_is_enrolled(user):
        if not otp:
            # The password was right; the second step counts on its own.
            _login_forget(counted)
            return LoginResult(LoginStatus.OTP_REQUIRED, user=user)
        if not totp_verify(user=user, code=otp):
            failed = _login_failure(counted)
            if failed.status is LoginStatus.LOCKED:
                return failed
            return LoginResult(LoginStatus.OTP_INVALID, user=user)
    return _login_success(user, channel, counted)


def login_second_factor(*, request: HttpRequest | None, user: User, code: str) -> LoginResult:
    """Second step of a web sign-in whose password was already right."""
    counted = _login_count(request, user.get_username())
    if isinstance(counted, LoginResult):
        return counted
    if not totp_verify(user=user, code=code):
        failed = _login_failure(counted)
        if failed.status is LoginStatus.LOCKED:
            return failed
        return LoginResult(LoginStatus.OTP_INVALID, user=user)
    return _login_success(user, "web", counted)


# --- Second factor (TOTP) ----------------------------------------------------------------


def totp_is_enrolled(user: User) -> bool:
    """Whether the official has confirmed a second factor (signing in then needs a code)."""
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def totp_enrol_start(*, user: User) -> TotpDevice:
    """Make (or remake) an unconfirmed secret for the official to add to their app."""
    if user.kind != UserKind.OFFICIAL:
        raise ValidationError(_("Only officials enrol a second factor here."))
    if totp_is_enrolled(user):
        raise ValidationError(_("A second factor is already enrolled for this account."))
    device, _created = TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": totp.new_secret(), "confirmed_at": None, "last_used_step": 0}
    )
    return device


def totp_enrol_confirm(*, user: User, code: str) -> TotpDevice:
    """Confirm enrolment with a first right code; from now on sign-in needs a code."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.confirmed_at is not None:
            raise ValidationError(_("Start the enrolment again."))
        step = totp.matching_step(device.secret, code)
        if step is None:
            raise ValidationError(_("The code is wrong or has already been used."))
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        audit_record(actor=user, action="account.totp_enrolled", obj=user)
    return device


def totp_verify(*, user: User, code: str) -> bool:
    """True for a right code of a time step not used before (a code cannot be replayed)."""
    with transaction.atomic():
        device = (
            TotpDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            return False
        step = totp.matching_step(device.secret, code)
        if step is None or step <= device.last_used_step:
            return False
        device.last_used_step = step
        device.save(update_fields=["last_used_step"])
    return True


# --- API tokens ---------------------------------------------------------------------------

TOKEN_PREFIX = "tsk_"  # noqa: S105 (a marker that makes leaked tokens easy to scan for)


class TokenProblem(Enum):
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class TokenError(DomainError):
    """No usable access token: answered 401 `token_<problem>` with a WWW-Authenticate
    header (RFC 6750)."""

    status = 401

    def __init__(self, problem: TokenProblem) -> None:
        message = {
            TokenProblem.MISSING: _(
                "This needs an access token: send 'Authorization: Bearer <token>'."
            ),
            TokenProblem.INVALID: _("The access token is not valid."),
            TokenProblem.EXPIRED: _("The access token has expired: request a new one."),
            TokenProblem.REVOKED: _("The access token has been revoked."),
        }[problem]
        super().__init__(message, code=f"token_{problem.value}")
        self.problem = problem

    def headers(self) -> dict[str, str]:
        error = "" if self.problem is TokenProblem.MISSING else ', error="invalid_token"'
        return {"WWW-Authenticate": f'Bearer realm="tinhso"{error}'}


def _token_digest(token: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 is enough to store them safely
    # (no dictionary to guard against, unlike passwords) and keeps look-ups to one index hit.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_token_create(
    *, user: User, name: str = "", days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; returns the stored row and the token itself (shown only now)."""
    days = days or settings.TINHSO_API_TOKEN_DEFAULT_DAYS
    if not 1 <= days <= settings.TINHSO_API_TOKEN_MAX_DAYS:
        raise ValidationError(
            _("A token lasts from 1 to %(max)d days.") % {"max": settings.TINHSO_API_TOKEN_MAX_DAYS}
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=(name or "API").strip()[:100],
            prefix=plain[:10],
            digest=_token_digest(plain),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            actor=user,
            action="api_token.created",
            obj=token,
            data={"name": token.name, "days": days},
        )
    return token, plain


def api_token_authenticate(plain: str | None) -> User:
    """The user a bearer token stands for, or TokenError saying what is wrong with it."""
    if not plain:
        raise TokenError(TokenProblem.MISSING)
    token = (
        ApiToken.objects.select_related("user").filter(digest=_token_digest(plain.strip())).first()
    )
    if token is None or not token.user.is_active:
        raise TokenError(TokenProblem.INVALID)
    if token.revoked_at is not None:
        raise TokenError(TokenProblem.REVOKED)
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenError(TokenProblem.EXPIRED)
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # Written at most once a minute per token, so reads stay reads.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens; None when they have no such token."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            return None
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=user, action="api_token.revoked", obj=token, data={"name": token.name}
            )
    return token


# --- Citizens from their electronic identity --------------------------------------------------


def citizen_from_identity(*, profile: Any, provider: str) -> User:
    """The citizen account for an identity vouched for by a provider: created on first
    sign-in, and its profile refreshed from the identity each time (what the state knows
    wins over anything typed earlier)."""
    from tinhso.accounts.registry import IdentityProfile

    assert isinstance(profile, IdentityProfile)  # noqa: S101 (contract of the callers)
    parse_personal_id(profile.personal_id)
    fields = {
        "full_name": profile.full_name,
        "date_of_birth": profile.date_of_birth,
        "sex": profile.sex,
        "permanent_address": profile.permanent_address,
        "phone": profile.phone,
        "email": profile.email,
    }
    with transaction.atomic():
        user = User.objects.select_for_update().filter(personal_id=profile.personal_id).first()
        if user is None:
            user = User(
                username=profile.personal_id,
                personal_id=profile.personal_id,
                kind=UserKind.CITIZEN,
                **fields,
            )
            user.set_unusable_password()
            user.save()
            action = "user.created"
        else:
            changed = [
                k for k, v in fields.items() if v not in (None, "") and getattr(user, k) != v
            ]
            for key in changed:
                setattr(user, key, fields[key])
            if changed:
                user.save(update_fields=changed)
            action = "account.identity_refreshed"
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        audit_record(
            actor=user,
            action=action if action == "user.created" else "account.signed_in",
            obj=user,
            data={"channel": f"eid:{provider}", "username": mask_personal_id(user.username)},
        )
    return user
