"""Payment pages: the payment notice with its VietQR, the receipt, paying again, the
accountant's page (payments, every bank notification, refunds) and the simulated bank."""

from __future__ import annotations

import json

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tinhso.accounts.models import User
from tinhso.accounts.policies import may, signed_in
from tinhso.core.errors import refusals_shown
from tinhso.dossiers.selectors import dossiers_of_citizen
from tinhso.payments.fees import EXEMPTION_CATEGORIES
from tinhso.payments.models import Payment, Review
from tinhso.payments.selectors import (
    accountant_agencies,
    notifications_for_accountant,
    payments_for_accountant,
)
from tinhso.payments.services import (
    payment_read_record,
    payment_request,
    refund_record,
)


def _payment(request: HttpRequest, reference: str, record: str) -> Payment:
    """The payment if the user may see it (404 otherwise, so a reference reveals nothing);
    an official's look is logged where the applicant can see it."""
    payment = (
        Payment.objects.select_related("dossier__procedure", "agency", "receipt")
        .filter(reference=reference[:20])
        .first()
    )
    viewer = signed_in(request.user)
    if payment is None or viewer is None or not may(viewer, "payment.read", payment):
        raise Http404
    payment_read_record(viewer=viewer, payment=payment, record=record)
    return payment


def qr_svg(payload: str) -> str:
    """The VietQR as inline SVG (a few kilobytes: light on a 3G phone)."""
    return segno.make(payload, error="m").svg_inline(scale=5, border=2, title="VietQR")


@login_required
def notice(request: HttpRequest, reference: str) -> HttpResponse:
    """The payment notice: amount, breakdown, account, reference, and the VietQR."""
    payment = _payment(request, reference, "payment")
    is_open = payment.is_payable()
    return render(
        request,
        "payments/notice.html",
        {
            "payment": payment,
            "is_open": is_open,
            "qr": qr_svg(payment.vietqr()) if is_open else "",
            "lines": payment.breakdown.get("lines", []),
            "exemption": EXEMPTION_CATEGORIES.get(payment.breakdown.get("exemption", ""), ""),
            "simulated_bank": settings.TINHSO_DEMO,
        },
    )


@login_required
def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    from tinhso.signing.services import signed_content

    payment = _payment(request, reference, "receipt")
    if payment.receipt is None:
        if payment.receipt_issuing_id is None:
            raise Http404
        # Being issued after the crediting commit (ADR 0023): say so, and when to try again.
        response = render(request, "payments/receipt_pending.html", {"payment": payment},
                          status=409)  # fmt: skip
        response["Retry-After"] = "10"
        return response
    response = HttpResponse(signed_content(payment.receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="bien-lai-{payment.reference}.pdf"'
    return response


@login_required
@require_POST
@refusals_shown("dossiers:mine_detail", "public_id")
def pay(request: HttpRequest, public_id: str) -> HttpResponse:
    """The citizen asks for a VietQR for their dossier's fee (a new one once expired)."""
    citizen = signed_in(request.user)
    if citizen is None:
        raise Http404
    dossier = dossiers_of_citizen(citizen).filter(public_id=public_id).first()
    if dossier is None:
        raise Http404
    payment = payment_request(dossier=dossier, actor=citizen)
    return redirect("payments:notice", reference=payment.reference)


def _accountant(request: HttpRequest) -> User:
    """The signed-in accountant (policy `payments.keep`), or 403."""
    user = signed_in(request.user)
    if user is None or not accountant_agencies(user):
        raise PermissionDenied(_("This page is for the agency's accountants."))
    return user


@login_required
def accountant(request: HttpRequest) -> HttpResponse:
    """Payments of the accountant's agencies (those held for review first) and every bank
    notification, forged and replayed ones included."""
    _accountant(request)
    payments = payments_for_accountant(request.user).order_by("-created_at")
    held = payments.exclude(review=Review.NONE)
    return render(
        request,
        "payments/accountant.html",
        {
            "held": list(held[:100]),
            "payments": list(payments[:200]),
            "notifications": list(
                notifications_for_accountant(request.user).select_related("payment")[:200]
            ),
        },
    )


@login_required
@require_POST
@refusals_shown("payments:accountant")
def refund(request: HttpRequest, reference: str) -> HttpResponse:
    accountant = _accountant(request)
    payment = payments_for_accountant(accountant).filter(reference=reference[:20]).first()
    if payment is None:
        raise Http404
    try:
        amount = int(request.POST.get("amount", ""))
        refund_record(
            payment=payment, amount=amount, reason=request.POST.get("reason", ""),
            actor=accountant,
        )  # fmt: skip
    except ValueError:
        messages.error(request, _("The amount is a whole number of đồng."))
    else:
        messages.success(request, _("The refund is recorded."))
    return redirect("payments:accountant")


@login_required
@require_POST
def reconcile_view(request: HttpRequest) -> HttpResponse:
    """The accountant uploads a day's bank statement of their agency's account; the page
    lists every difference."""
    from datetime import date

    from tinhso.payments.reconcile import StatementError, reconcile_day

    _accountant(request)
    upload = request.FILES.get("statement")
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
        if upload is None or (upload.size or 0) > 5 * 1024 * 1024:
            raise StatementError(_("Choose the statement file (CSV, at most 5 MB)."))
        # Their agency's collection account only: another agency's payments are not theirs.
        report = reconcile_day(day, upload.read(), accountant_agencies(request.user))
    except ValueError as exc:  # a bad date or a StatementError
        messages.error(request, str(exc) if isinstance(exc, StatementError)
                       else _("Give the day as YYYY-MM-DD."))  # fmt: skip
        return redirect("payments:accountant")
    return render(request, "payments/reconciliation.html", {"report": report})


@require_http_methods(["GET", "POST"])
def simulated_bank(request: HttpRequest) -> HttpResponse:
    """A stand-in for a banking app (only in the demo, TINHSO_DEMO): paste or follow a
    VietQR, pay it, and the bank notifies the platform over HTTP."""
    from tinhso.payments.bank import SimulatedBank
    from tinhso.payments.vietqr import VietQRError, vietqr_parse

    if not settings.TINHSO_DEMO:
        raise Http404
    context: dict[str, object] = {"payload": request.GET.get("qr", "")[:512]}
    status = 200
    if request.method == "POST":
        payload = request.POST.get("payload", "").strip()[:512]
        context["payload"] = payload
        try:
            qr = vietqr_parse(payload)
            amount_text = request.POST.get("amount", "").strip()
            amount = int(amount_text) if amount_text else qr.amount
            code, answer = SimulatedBank().pay(payload, amount=amount)
            context["result"] = {"status": code, "answer": json.loads(answer or "{}"),
                                 "amount": amount, "reference": qr.reference}  # fmt: skip
        except (VietQRError, ValueError) as exc:
            context["error"], status = _("This is not a valid VietQR: %(e)s") % {"e": exc}, 422
        except OSError as exc:
            context["error"], status = (
                _("The bank could not reach the platform: %(e)s") % {"e": exc},
                502,
            )
    return render(request, "payments/bank.html", context, status=status)
