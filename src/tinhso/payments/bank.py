"""An embedded simulated bank for the demo and the tests: it reads a VietQR as a banking
app does (its CRC checked), "pays" it, and notifies the platform exactly as a bank would:
an HTTP POST of a JSON body signed with HMAC-SHA256."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tinhso.payments.services import HmacProvider, webhook_secret
from tinhso.payments.vietqr import vietqr_parse

# (url, body, headers) → (HTTP status, response body)
Transport = Callable[[str, bytes, dict[str, str]], tuple[int, str]]


def http_transport(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    if not url.startswith(("http://", "https://")):
        raise ValueError("the callback address must be http(s)")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def callback_url() -> str:
    return settings.TINHSO_PUBLIC_URL + reverse("api-v1:payment_callback")


class SimulatedBank:
    def __init__(self, transport: Transport = http_transport, secret: bytes | None = None):
        self.transport = transport
        self.signer = HmacProvider("bank", secret if secret is not None else webhook_secret())

    def notify(
        self,
        *,
        reference: str,
        amount: int,
        transaction_id: str | None = None,
        status: str = "succeeded",
        occurred_at: datetime | None = None,
    ) -> tuple[int, str]:
        body = json.dumps(
            {
                "transaction_id": transaction_id or "FT" + secrets.token_hex(8).upper(),
                "reference": reference,
                "amount": amount,
                "status": status,
                "occurred_at": (occurred_at or timezone.now()).isoformat(),
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Signature": self.signer.sign(body)}
        return self.transport(callback_url(), body, headers)

    def pay(self, payload: str, *, amount: int | None = None, **kw: object) -> tuple[int, str]:
        """Pay a VietQR (the amount it asks for, unless told otherwise)."""
        qr = vietqr_parse(payload.strip())
        return self.notify(reference=qr.reference, amount=qr.amount if amount is None else amount,
                           **kw)  # type: ignore[arg-type]  # fmt: skip
