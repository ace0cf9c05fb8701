"""Web pages of the accounts module: sign-in (with second factor), account, tokens,
and officials' look-up of a citizen's record."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tinhso.accounts import totp
from tinhso.accounts.access import personal_data_access_record
from tinhso.accounts.forms import CitizenLookupForm, LoginForm, OtpForm, TokenCreateForm
from tinhso.accounts.models import TotpDevice, User, UserKind
from tinhso.accounts.selectors import (
    api_tokens_of,
    citizen_data_memberships,
    citizen_find,
    data_accesses_for,
    memberships_of,
)
from tinhso.accounts.services import (
    LoginResult,
    LoginStatus,
    api_token_create,
    api_token_revoke,
    client_ip,
    login_check,
    login_second_factor,
    totp_enrol_confirm,
    totp_enrol_start,
    totp_is_enrolled,
)

_PENDING_USER = "tinhso_2fa_user"
_PENDING_NEXT = "tinhso_2fa_next"
_LOOKUP_MEMBERSHIPS = "tinhso_lookup_agency"


def _signed_in(request: HttpRequest) -> User:
    """The signed-in user (views using it are behind login_required)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _refused(
    request: HttpRequest, template: str, context: dict[str, object], result: LoginResult
) -> HttpResponse:
    status = 429 if result.status is LoginStatus.LOCKED else 400
    context["error"] = result.message
    response = render(request, template, context, status=status)
    if result.status is LoginStatus.LOCKED:
        response["Retry-After"] = str(result.retry_after)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, reverse("accounts:account"))
    form = LoginForm(request.POST if request.method == "POST" else None)
    from tinhso.accounts.eid import identity_providers

    # The electronic identities this installation offers (the demo's only in the demo).
    providers = {provider.slug: provider for provider in identity_providers()}
    context: dict[str, object] = {
        "form": form,
        "next": next_url,
        "oidc_label": providers["oidc"].label if "oidc" in providers else "",
        "eid_demo": "demo" in providers,
    }
    if request.method != "POST":
        return render(request, "accounts/login.html", context)
    if not form.is_valid():
        return render(request, "accounts/login.html", context, status=400)
    result = login_check(
        request=request,
        username=form.cleaned_data["username"],
        password=form.cleaned_data["password"],
    )
    if result.status is LoginStatus.OTP_REQUIRED and result.user is not None:
        request.session.cycle_key()
        request.session[_PENDING_USER] = result.user.pk
        request.session[_PENDING_NEXT] = next_url
        return redirect("accounts:login_otp")
    if result.status is not LoginStatus.OK or result.user is None:
        return _refused(request, "accounts/login.html", context, result)
    login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(next_url)


@never_cache
@require_http_methods(["GET", "POST"])
def login_otp_view(request: HttpRequest) -> HttpResponse:
    pending_id = request.session.get(_PENDING_USER)
    pending = User.objects.filter(pk=pending_id, is_active=True).first() if pending_id else None
    if pending is None:
        return redirect("accounts:login")
    form = OtpForm(request.POST if request.method == "POST" else None)
    context: dict[str, object] = {"form": form}
    if request.method != "POST":
        return render(request, "accounts/login_otp.html", context)
    if not form.is_valid():
        return render(request, "accounts/login_otp.html", context, status=400)
    result = login_second_factor(request=request, user=pending, code=form.cleaned_data["code"])
    if result.status is not LoginStatus.OK:
        if result.status is LoginStatus.LOCKED:
            request.session.pop(_PENDING_USER, None)
        return _refused(request, "accounts/login_otp.html", context, result)
    next_url = request.session.pop(_PENDING_NEXT, reverse("accounts:account"))
    request.session.pop(_PENDING_USER, None)
    login(request, pending, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(next_url)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("home")


@login_required
def account_view(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    context = {
        "profile": user,
        "memberships": list(memberships_of(user)),
        "totp_enrolled": totp_is_enrolled(user),
        "tokens": list(api_tokens_of(user)[:20]),
        "token_form": TokenCreateForm(),
        "accesses": list(data_accesses_for(user)[:50]) if user.kind == UserKind.CITIZEN else [],
        "can_lookup": bool(citizen_data_memberships(user)),
        "now_": timezone.now(),
        "notifications": list(user.notifications.filter(channel="inbox")[:20]),
        "stored_papers": list(user.stored_papers.all()[:20]),
    }
    return render(request, "accounts/account.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_enrol_view(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    if user.kind != UserKind.OFFICIAL:
        raise PermissionDenied(_("Only officials enrol a second factor here."))
    if totp_is_enrolled(user):
        messages.info(request, _("Your second factor is already enrolled."))
        return redirect("accounts:account")
    form = OtpForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            totp_enrol_confirm(user=user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
            status = 400
        else:
            messages.success(request, _("Second factor enrolled: signing in now needs a code."))
            return redirect("accounts:account")
    elif request.method == "POST":
        status = 400
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None or request.method == "GET":
        device = totp_enrol_start(user=user)
    uri = totp.provisioning_uri(device.secret, account=user.username, issuer="Tỉnh Số")
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=_("QR code for your authenticator app")
    )
    context = {"form": form, "secret": device.secret, "qr_svg": qr_svg}
    return render(request, "accounts/totp_enrol.html", context, status=status)


@login_required
@require_POST
def token_create_view(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("accounts:account")
    _token, plain = api_token_create(
        user=user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
    )
    response = render(request, "accounts/token_created.html", {"token": plain, "row": _token})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _signed_in(request)
    if api_token_revoke(user=user, token_id=token_id) is None:
        messages.error(request, _("You have no token with this id."))
    else:
        messages.success(request, _("The token has been revoked."))
    return redirect("accounts:account")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def citizen_lookup_view(request: HttpRequest) -> HttpResponse:
    """An official reads a citizen's record. The number travels in a POST body, never in a
    URL, so it stays out of access logs; every look is logged where the citizen sees it."""
    user = _signed_in(request)
    memberships = citizen_data_memberships(user)
    if not memberships:
        raise PermissionDenied(_("Your role does not allow you to view citizens' records."))
    agencies = list(dict.fromkeys((m.agency.code, m.agency.name) for m in memberships))
    form = CitizenLookupForm(request.POST if request.method == "POST" else None, agencies=agencies)
    context: dict[str, object] = {"form": form, "citizen": None}
    if request.method != "POST":
        return render(request, "accounts/citizen_lookup.html", context)
    if not form.is_valid():
        return render(request, "accounts/citizen_lookup.html", context, status=400)
    citizen = citizen_find(personal_id=form.cleaned_data["personal_id"])
    if citizen is None:
        form.add_error("personal_id", _("No citizen has this personal identification number."))
        return render(request, "accounts/citizen_lookup.html", context, status=404)
    agency = next(m.agency for m in memberships if m.agency.code == form.cleaned_data["agency"])
    personal_data_access_record(
        official=user, citizen=citizen, purpose=form.cleaned_data["purpose"], agency=agency
    )
    context["citizen"] = citizen
    return render(request, "accounts/citizen_lookup.html", context)


# --- Electronic identity ---------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def eid_demo_view(request: HttpRequest) -> HttpResponse:
    """Sign in with the demo e-identity: personal ID, then the one-time code. In the demo the
    code is shown on the page (a real provider sends it to the registered phone). The page
    does not exist unless TINHSO_DEMO is on."""
    from tinhso.accounts.eid import DemoRegistryProvider, IdentityError, IdentityLimitedError
    from tinhso.accounts.services import citizen_from_identity

    provider = DemoRegistryProvider()
    if not provider.is_configured():
        raise Http404
    next_url = _safe_next(request, reverse("accounts:account"))
    context: dict[str, object] = {"next": next_url, "step": "id", "personal_id": ""}
    if request.method != "POST":
        return render(request, "accounts/eid_demo.html", context)
    personal_id = request.POST.get("personal_id", "").strip()
    context["personal_id"] = personal_id
    ip = client_ip(request)
    try:
        if request.POST.get("step") == "code":
            context["step"] = "code"
            profile = provider.verify_code(personal_id, request.POST.get("code", ""), ip=ip)
            user = citizen_from_identity(profile=profile, provider=provider.slug)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(next_url)
        context["demo_code"] = provider.issue_code(personal_id, ip=ip)
        context["step"] = "code"
    except IdentityLimitedError as exc:
        context["error"] = str(exc)
        response = render(request, "accounts/eid_demo.html", context, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except (IdentityError, ValidationError) as exc:
        context["error"] = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return render(request, "accounts/eid_demo.html", context, status=400)
    return render(request, "accounts/eid_demo.html", context)


def oidc_start_view(request: HttpRequest) -> HttpResponse:
    from tinhso.accounts.eid import OidcProvider

    provider = OidcProvider()
    if not provider.is_configured():
        raise Http404
    redirect_uri = request.build_absolute_uri(reverse("accounts:oidc_callback"))
    next_url = _safe_next(request, reverse("accounts:account"))
    return HttpResponseRedirect(
        provider.authorization_url(request, redirect_uri=redirect_uri, next_url=next_url)
    )


@never_cache
def oidc_callback_view(request: HttpRequest) -> HttpResponse:
    from tinhso.accounts.eid import IdentityError, OidcProvider
    from tinhso.accounts.services import citizen_from_identity

    provider = OidcProvider()
    if not provider.is_configured():
        raise Http404
    try:
        profile, next_url = provider.complete(request)
    except (IdentityError, ValidationError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return render(
            request,
            "accounts/login.html",
            {
                "form": LoginForm(),
                "error": message,
                "next": reverse("accounts:account"),
                "oidc_label": provider.label,
            },
            status=400,
        )
    user = citizen_from_identity(profile=profile, provider=provider.slug)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(next_url)
