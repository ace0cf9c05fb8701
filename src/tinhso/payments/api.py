"""Payments over the API: ask for a dossier's fee as a VietQR (Idempotency-Key), read a
payment, and the bank's notification endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from tinhso.accounts.api import _caller, bearer
from tinhso.accounts.policies import may
from tinhso.core.api import ErrorOut
from tinhso.core.idempotency import idempotency_key, idempotency_run
from tinhso.dossiers.selectors import dossier_by_code
from tinhso.payments.models import Payment
from tinhso.payments.services import (
    notification_receive,
    payment_read_record,
    payment_request,
)

router = Router(tags=["payments"], auth=bearer)


class PaymentIn(Schema):
    dossier: str = Field(min_length=5, max_length=64, description="the dossier's code")
    exemption: str = Field(
        "", max_length=32, description="the applicant's exemption category, if any"
    )


class FeeLineOut(Schema):
    name: str
    unit_amount: int
    quantity: int
    per: str
    amount: int
    exempted: int
    legal_basis: str
    exemption_basis: str


class PaymentOut(Schema):
    reference: str
    dossier: str
    amount: int = Field(description="VND")
    breakdown: list[FeeLineOut]
    exemption: str
    state: str
    expires_at: datetime
    paid_at: datetime | None
    bank_bin: str
    account_number: str
    vietqr: str = Field(description="the EMVCo payload to show as a QR code")
    receipt: str | None = Field(None, description="verification id of the signed receipt")
    receipt_status: str = Field(
        description="none, issuing (rendered and signed in the background, in a moment) or issued"
    )

    @staticmethod
    def resolve_dossier(obj: Payment) -> str:
        return obj.dossier.code or ""

    @staticmethod
    def resolve_breakdown(obj: Payment) -> list[dict[str, Any]]:
        return list(obj.breakdown.get("lines", []))

    @staticmethod
    def resolve_exemption(obj: Payment) -> str:
        return str(obj.breakdown.get("exemption", ""))

    @staticmethod
    def resolve_vietqr(obj: Payment) -> str:
        return obj.vietqr()

    @staticmethod
    def resolve_receipt_status(obj: Payment) -> str:
        if obj.receipt_id:
            return "issued"
        return "issuing" if obj.receipt_issuing_id else "none"

    @staticmethod
    def resolve_receipt(obj: Payment) -> str | None:
        return obj.receipt.public_id if obj.receipt_id else None  # type: ignore[union-attr]


@router.post(
    "",
    response={201: PaymentOut, 200: PaymentOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              422: ErrorOut},
    summary="Ask for a dossier's fee as a VietQR (send an Idempotency-Key header to retry)",
)  # fmt: skip
def payments_create(request: HttpRequest, payload: PaymentIn) -> Status[object]:
    user = _caller(request)
    dossier = dossier_by_code(payload.dossier)
    # The applicant, or an official who handles the dossier and reads its data; anyone
    # else learns nothing, not even that the code exists.
    if dossier is None or not may(user, "dossier.read_personal_data", dossier):
        return Status(404, {"detail": _("No dossier has this code."), "code": "not_found"})
    outcome = idempotency_run(
        user=user, operation="payments.create", key=idempotency_key(request),
        request=payload.dict(),
        create=lambda: payment_request(dossier=dossier, actor=user, exemption=payload.exemption),
    )  # fmt: skip
    return Status(201 if outcome.created else 200, outcome.result)


# Read from the raw body (the signature covers its exact bytes), so described here.
NOTIFICATION_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["transaction_id", "reference", "amount", "occurred_at"],
                "properties": {
                    "transaction_id": {"type": "string", "maxLength": 64},
                    "reference": {"type": "string", "maxLength": 64},
                    "amount": {"type": "integer", "minimum": 1, "description": "VND"},
                    "status": {"type": "string", "enum": ["succeeded", "failed"]},
                    "occurred_at": {"type": "string", "format": "date-time"},
                },
            }
        }
    },
}


class CallbackOut(Schema):
    result: str
    detail: str | None = None


@router.post(
    "/callback",
    auth=None,
    response={200: CallbackOut, 400: CallbackOut, 401: CallbackOut},
    url_name="payment_callback",
    summary="The bank's notification (HMAC-SHA256 over the raw body in X-Signature)",
    openapi_extra={"requestBody": NOTIFICATION_BODY},
    description=(
        "JSON body `{transaction_id, reference, amount, status: succeeded|failed, "
        "occurred_at}`, header `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. "
        "401 when unsigned or forged, 400 when malformed, 200 for everything recorded: "
        "`credited`, `duplicate` (a replay), or held for the accountant."
    ),
)
def bank_callback(request: HttpRequest) -> Status[object]:
    received = notification_receive(
        body=request.body,
        headers={"X-Signature": request.headers.get("X-Signature", "")},
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )
    messages = {
        401: _("The notification's signature is missing or wrong."),
        400: _("The notification is malformed."),
    }
    return Status(
        received.status, {"result": received.outcome, "detail": messages.get(received.status)}
    )


# Declared after /callback: Django matches paths in order, and /{reference} would take it.
@router.get(
    "/{reference}",
    response={200: PaymentOut, 401: ErrorOut, 404: ErrorOut},
    summary="A payment: its state, breakdown, VietQR and receipt",
)
def payment_get(request: HttpRequest, reference: str) -> Status[object]:
    payment = (
        Payment.objects.select_related("dossier", "receipt").filter(reference=reference).first()
    )
    caller = _caller(request)
    if payment is None or not may(caller, "payment.read", payment):
        return Status(404, {"detail": _("No payment has this reference."), "code": "not_found"})
    payment_read_record(viewer=caller, payment=payment, record="payment", channel="api")
    return Status(200, payment)
