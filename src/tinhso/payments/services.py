"""Writes of the payments module: asking for a fee, taking the bank's notifications,
refunds, expiry. Every change runs in one transaction with its PaymentEvent and audit
entry; money is credited once per bank transaction (a unique row), never when the amount
differs, and money that arrives late or twice is recorded and flagged for refund."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.audit import audit_record
from tinhso.core.errors import DomainError
from tinhso.core.input import moment_problem
from tinhso.core.locks import lock_rows
from tinhso.core.notifications import notify
from tinhso.core.rollups import Changes
from tinhso.core.words import grouped
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.rollups import rollups_add, rollups_apply
from tinhso.payments.fees import fee_quote
from tinhso.payments.models import (
    OPEN_STATES,
    BankNotification,
    BankTransaction,
    Outcome,
    Payment,
    PaymentAccount,
    PaymentEvent,
    PaymentState,
    Refund,
    Review,
)

log = logging.getLogger(__name__)
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely


class PaymentError(DomainError):
    """A payment refused: no fee, already paid, no account to receive it, a refund the
    payment cannot take (422 `payment_refused`)."""

    code = "payment_refused"


def _event(payment: Payment, before: str, note: str = "", actor: User | None = None) -> None:
    PaymentEvent.objects.create(
        payment=payment, from_state=before, to_state=payment.state, note=note[:500], actor=actor
    )


def payment_account_for(agency: Agency) -> PaymentAccount:
    """The agency's collection account, or the nearest parent agency's."""
    ids = [int(part) for part in agency.path.strip("/").split("/") if part]
    accounts = {a.agency_id: a for a in PaymentAccount.objects.filter(agency_id__in=ids)}
    for agency_id in reversed(ids):
        if agency_id in accounts:
            return accounts[agency_id]
    raise PaymentError(_("%(agency)s has no account to receive fees.") % {"agency": agency})


def _reference() -> str:
    return "TS" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def payments_cancel_open(*, dossier: Dossier, reason: str, actor: User | None = None) -> int:
    """A dossier that ends (withdrawn, stopped, refused) asks for no more money: its open
    payments are cancelled (money that still arrives is held for refund)."""
    cancelled = 0
    # The dossier's row before its payments' (core.locks): a bank credit takes them in the
    # same order, so the two never wait for each other in a circle.
    [_dossier], payments = lock_rows(
        Dossier.objects.filter(pk=dossier.pk),
        Payment.objects.filter(dossier=dossier, state__in=OPEN_STATES),
    )
    for payment in payments:
        before, payment.state = payment.state, PaymentState.CANCELLED
        payment.save(update_fields=["state"])
        _event(payment, before, reason, actor)
        cancelled += 1
    return cancelled


def payment_expire_due(*, now: datetime | None = None) -> int:
    """Pending payments past their expiry become expired (each with its event)."""
    now = now or timezone.now()
    expired = 0
    for payment in Payment.objects.filter(state__in=OPEN_STATES, expires_at__lt=now):
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if locked.state in OPEN_STATES and locked.expires_at < now:
                before, locked.state = locked.state, PaymentState.EXPIRED
                locked.save(update_fields=["state"])
                _event(locked, before, "expired")
                expired += 1
    return expired


def payment_request(
    *, dossier: Dossier, actor: User | None, exemption: str = "", now: datetime | None = None
) -> Payment:
    """The dossier's fee as a payment waiting for the applicant, with its VietQR. An open,
    unexpired payment of the same amount is returned instead of a second one."""
    now = now or timezone.now()
    agency = dossier.receiving_agency
    if agency is None or dossier.code is None:
        raise PaymentError(_("Only a submitted dossier can be paid for."))
    quote = fee_quote(
        dossier.procedure, dossier.form_data or {},
        exemption or str((dossier.form_data or {}).get("doi_tuong_mien_giam", "")),
    )  # fmt: skip
    if quote.total <= 0:
        raise PaymentError(_("This dossier has no fee to pay."))
    if Payment.objects.filter(dossier=dossier, state=PaymentState.SUCCEEDED).exists():
        raise PaymentError(_("The fee of this dossier is already paid."))
    account = payment_account_for(agency)
    hours = int(getattr(settings, "TINHSO_PAYMENT_EXPIRY_HOURS", 72))
    with transaction.atomic():
        Dossier.objects.select_for_update().filter(pk=dossier.pk).first()
        open_one = (
            Payment.objects.filter(
                dossier=dossier, state__in=OPEN_STATES, expires_at__gt=now, amount=quote.total
            )
            .order_by("-created_at")
            .first()
        )
        if open_one is not None:
            return open_one
        payment = Payment.objects.create(
            reference=_reference(), dossier=dossier, agency=agency, amount=quote.total,
            breakdown={"lines": quote.as_json(), "exemption": quote.exemption},
            state=PaymentState.PENDING, bank_bin=account.bank_bin,
            account_number=account.account_number, created_at=now,
            expires_at=now + timedelta(hours=hours),
        )  # fmt: skip
        _event(payment, PaymentState.CREATED, "VietQR issued", actor)
        audit_record(
            actor=actor, action="payment.requested", obj=payment,
            data={"reference": payment.reference, "dossier": dossier.code,
                  "amount": payment.amount},
        )  # fmt: skip
        notify(
            user=dossier.applicant,
            subject=_("Dossier %(code)s: fee to pay") % {"code": dossier.code},
            body=_(
                "Pay %(amount)s đồng with reference %(ref)s from any banking app (scan the "
                "VietQR on your dossier's page) before %(until)s."
            )
            % {
                "amount": grouped(payment.amount),
                "ref": payment.reference,
                "until": timezone.localtime(payment.expires_at).strftime("%d/%m/%Y %H:%M"),
            },
        )
    return payment


# --- the bank's notifications ------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """What a bank says about one transaction."""

    transaction_id: str
    reference: str
    amount: int
    status: str  # succeeded | failed
    occurred_at: datetime


class PaymentProvider(Protocol):
    """A bank or payment intermediary that notifies the platform of transactions."""

    name: str

    def authenticate(self, body: bytes, headers: Mapping[str, str]) -> bool: ...

    def parse(self, body: bytes) -> Notice: ...


class HmacProvider:
    """Notifications signed with HMAC-SHA256 over the raw body, in the header
    `X-Signature: sha256=<hex>`; the body is JSON {transaction_id, reference, amount,
    status, occurred_at}."""

    def __init__(self, name: str, secret: bytes) -> None:
        self.name = name
        self.secret = secret

    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def authenticate(self, body: bytes, headers: Mapping[str, str]) -> bool:
        # Compared as bytes: a header may hold any character, and compare_digest refuses
        # non-ASCII text.
        given = headers.get("X-Signature", "").encode("utf-8", "surrogateescape")
        return bool(given) and hmac.compare_digest(given, self.sign(body).encode())

    def parse(self, body: bytes) -> Notice:
        """The notice in a body, or ValueError / KeyError / TypeError saying why it is
        malformed. Every value must fit where it is recorded: an amount the database can
        hold, a time a real place could have (core.input.moment_problem), text without
        NUL characters."""
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        amount = data["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValueError("amount must be a positive integer")
        if amount > AMOUNT_MAX:
            raise ValueError("amount is larger than any amount can be")
        occurred = parse_datetime(_text(data, "occurred_at"))
        if occurred is None or occurred.tzinfo is None:
            raise ValueError("occurred_at must be an ISO 8601 time with its offset")
        problem = moment_problem(occurred)
        if problem is not None:
            raise ValueError(f"occurred_at: {problem}")
        status = _text(data, "status", "succeeded")
        if status not in {"succeeded", "failed"}:
            raise ValueError("status must be succeeded or failed")
        transaction_id = _text(data, "transaction_id")[:64]
        if not transaction_id:
            raise ValueError("transaction_id is empty")
        return Notice(
            transaction_id=transaction_id, reference=_text(data, "reference")[:64],
            amount=amount, status=status, occurred_at=occurred.astimezone(UTC),
        )  # fmt: skip


# The largest amount the records can hold (BigIntegerField): no bank transfers more.
AMOUNT_MAX = 2**63 - 1


def _text(data: dict[str, Any], key: str, default: str | None = None) -> str:
    """A text or number field of a notification (KeyError if missing and no default)."""
    value = data[key] if default is None else data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} must be text")
    text = str(value)
    if "\x00" in text:
        raise ValueError(f"{key} holds a NUL character")
    return text


def webhook_secret() -> bytes:
    """The key the bank signs its notifications with: TINHSO_BANK_WEBHOOK_SECRET, or one
    derived from SECRET_KEY (the demo's simulated bank uses the same)."""
    if settings.TINHSO_BANK_WEBHOOK_SECRET:
        return str(settings.TINHSO_BANK_WEBHOOK_SECRET).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"tinhso-bank-webhook", "sha256").digest()


def provider() -> HmacProvider:
    """The bank whose notifications the platform takes (HMAC-SHA256 signed)."""
    return HmacProvider("bank", webhook_secret())


@dataclass(frozen=True)
class Received:
    status: int
    outcome: str


def notification_receive(
    *, body: bytes, headers: Mapping[str, str], remote_addr: str = "",
    bank: PaymentProvider | None = None,
) -> Received:  # fmt: skip
    """Take one notification: refuse it unless signed (401), record it whatever it is, and
    credit a payment only once, only with the right amount, only before its expiry."""
    bank = bank or provider()
    # Kept as received, except that a NUL byte (which no text column can hold) becomes
    # U+FFFD, as undecodable bytes do.
    text = body[:10000].decode("utf-8", "replace").replace("\x00", "\ufffd")

    def record(outcome: str, notice: Notice | None = None, payment: Payment | None = None) -> None:
        BankNotification.objects.create(
            provider=bank.name, signature_valid=outcome != Outcome.REJECTED, outcome=outcome,
            body=text, remote_addr=remote_addr, payment=payment,
            **({"transaction_id": notice.transaction_id, "reference": notice.reference,
                "amount": notice.amount, "status": notice.status,
                "occurred_at": notice.occurred_at} if notice else {}),
        )  # fmt: skip

    if not bank.authenticate(body, headers):
        record(Outcome.REJECTED)
        log.warning("bank notification with a bad signature from %s", remote_addr)
        return Received(401, Outcome.REJECTED)
    try:
        notice = bank.parse(body)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        record(Outcome.MALFORMED)
        log.warning("malformed bank notification: %s", exc)
        return Received(400, Outcome.MALFORMED)
    try:
        with transaction.atomic():
            outcome, payment = _apply(bank.name, notice)
            record(outcome, notice, payment)
    except IntegrityError:
        # The same transaction, recorded a moment ago by a concurrent delivery.
        record(Outcome.DUPLICATE, notice)
        return Received(200, Outcome.DUPLICATE)
    return Received(200, outcome)


def _apply(provider_name: str, notice: Notice) -> tuple[str, Payment | None]:
    found = Payment.objects.filter(reference=notice.reference).values_list("pk", "dossier_id")
    payment = None
    if found:
        payment_id, dossier_id = found[0]
        # The dossier before the payment (core.locks), as a withdrawal takes them.
        _dossier, payments = lock_rows(
            Dossier.objects.filter(pk=dossier_id), Payment.objects.filter(pk=payment_id)
        )
        payment = payments[0]
    known = BankTransaction.objects.filter(
        provider=provider_name, transaction_id=notice.transaction_id
    ).first()
    if known is not None:
        return Outcome.DUPLICATE, payment
    if notice.status == "failed":
        if payment is None:
            return Outcome.UNKNOWN_REFERENCE, None
        if payment.state in OPEN_STATES:
            before, payment.state = payment.state, PaymentState.FAILED
            payment.save(update_fields=["state"])
            _event(payment, before, f"bank: transaction {notice.transaction_id} failed")
            return Outcome.FAILED, payment
        return Outcome.OUT_OF_ORDER, payment
    # Money arrived: record the transaction once (the unique row), whatever happens next.
    BankTransaction.objects.create(
        provider=provider_name, transaction_id=notice.transaction_id, payment=payment,
        amount=notice.amount, occurred_at=notice.occurred_at,
    )  # fmt: skip
    if payment is None:
        return Outcome.UNKNOWN_REFERENCE, None
    if payment.state == PaymentState.SUCCEEDED:
        return _hold(payment, Review.PAID_TWICE, notice, Outcome.PAID_TWICE)
    if notice.amount != payment.amount:
        return _hold(payment, Review.AMOUNT_MISMATCH, notice, Outcome.AMOUNT_MISMATCH)
    if notice.occurred_at > payment.expires_at or payment.state in (
        PaymentState.EXPIRED, PaymentState.CANCELLED,
    ):  # fmt: skip
        return _hold(payment, Review.PAID_AFTER_EXPIRY, notice, Outcome.LATE)
    _credit(payment, notice)
    return Outcome.CREDITED, payment


def _hold(payment: Payment, review: str, notice: Notice, outcome: str) -> tuple[str, Payment]:
    payment.review = review
    payment.save(update_fields=["review"])
    _event(
        payment, payment.state,
        f"held for review: {review}, {notice.amount} đ, transaction {notice.transaction_id}",
    )  # fmt: skip
    audit_record(
        actor=None, action="payment.held", obj=payment,
        data={"reference": payment.reference, "review": review, "amount": notice.amount,
              "transaction": notice.transaction_id},
    )  # fmt: skip
    return outcome, payment


def _credit(payment: Payment, notice: Notice) -> None:
    from tinhso.dossiers.transitions import TransitionError, dossier_trigger
    from tinhso.payments.receipts import receipt_number_take, receipt_queue

    before = payment.state
    payment.state = PaymentState.SUCCEEDED
    payment.paid_at = notice.occurred_at
    payment.paid_amount = notice.amount
    payment.bank_transaction = notice.transaction_id
    numbered = receipt_number_take(payment)
    payment.save(update_fields=["state", "paid_at", "paid_amount", "bank_transaction", *numbered])
    _event(payment, before, f"bank transaction {notice.transaction_id}")
    # The figures (dossiers.rollups): the dossier paid online if it is its first payment.
    first = not (
        Payment.objects.filter(dossier_id=payment.dossier_id, state=PaymentState.SUCCEEDED)
        .exclude(pk=payment.pk)
        .exists()
    )
    changes: Changes = {}
    rollups_add(changes, payment.agency_id, notice.occurred_at, {
        "paid_online": int(first), "amount_collected": notice.amount,
    })  # fmt: skip
    rollups_apply(changes)
    # The receipt is rendered and sealed after commit (ADR 0023).
    receipt_queue(payment=payment)
    audit_record(
        actor=None, action="payment.succeeded", obj=payment,
        data={"reference": payment.reference, "amount": notice.amount,
              "transaction": notice.transaction_id},
    )  # fmt: skip
    dossier = Dossier.objects.get(pk=payment.dossier_id)
    notify(
        user=dossier.applicant,
        subject=_("Dossier %(code)s: fee received") % {"code": dossier.code},
        body=_("We received %(amount)s đồng (reference %(ref)s). Your receipt is on the page.")
        % {"amount": grouped(notice.amount), "ref": payment.reference},
    )
    # Waiting for the payment, the dossier moves on by itself: its workflow's action that
    # answers "payment.paid" (none elsewhere: a fee paid up front changes nothing).
    try:
        with transaction.atomic():
            dossier_trigger(
                dossier=dossier, trigger="payment.paid", note=f"Đã nộp phí: {payment.reference}"
            )
    except TransitionError as exc:
        log.info("dossier %s not moved by its payment: %s", dossier.code, exc.message)


def refund_record(*, payment: Payment, amount: int, reason: str, actor: User) -> Refund:
    """The accountant records money sent back; the review is closed."""
    if amount <= 0 or not reason.strip():
        raise PaymentError(_("Give the amount and the reason of the refund."))
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        received = sum(
            t.amount for t in locked.transactions.all()
        ) - sum(r.amount for r in locked.refunds.all())  # fmt: skip
        if amount > received:
            raise PaymentError(_("More than was received cannot be refunded."))
        refund = Refund.objects.create(
            payment=locked, amount=amount, reason=reason.strip()[:500], created_by=actor
        )
        locked.review = Review.NONE
        locked.save(update_fields=["review"])
        _event(locked, locked.state, f"refunded {amount} đ: {reason.strip()}", actor)
        audit_record(
            actor=actor, action="payment.refunded", obj=locked,
            data={"reference": locked.reference, "amount": amount},
        )  # fmt: skip
    return refund


def payment_read_record(
    *, viewer: User, payment: Payment, record: str, channel: str = "web"
) -> None:
    """Log an official's look at a payment (its notice, exemption and breakdown) or its
    receipt (the payer's name) where the applicant can see it; the applicant's own looks
    are not logged."""
    from tinhso.accounts.access import personal_data_access_record

    if getattr(viewer, "pk", None) == payment.dossier.applicant_id:
        return
    purposes = {
        "payment": _("Opened payment %(reference)s of dossier %(code)s"),
        "receipt": _("Opened the receipt of payment %(reference)s (dossier %(code)s)"),
    }
    personal_data_access_record(
        official=viewer,
        citizen=payment.dossier.applicant,
        purpose=purposes[record] % {"reference": payment.reference, "code": payment.dossier.code},
        agency=payment.agency,
        record=record,
        channel=channel,
    )
