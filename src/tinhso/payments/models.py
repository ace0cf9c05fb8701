"""Fees paid for dossiers: payments by VietQR, the bank's notifications, refunds."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


class PaymentState(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Waiting for payment")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


OPEN_STATES = (PaymentState.CREATED, PaymentState.PENDING)


class Review(models.TextChoices):
    """Why a payment waits for the accountant: money arrived that cannot simply be
    credited."""

    NONE = "", _("None")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount does not match")
    PAID_AFTER_EXPIRY = "paid_after_expiry", _("Paid after expiry: refund")
    PAID_TWICE = "paid_twice", _("Paid twice: refund")


REVIEW_FOR_PAYER: dict[str, StrOrPromise] = {
    Review.AMOUNT_MISMATCH: _(
        "Your transfer arrived, but its amount differs from the fee: the accountant is "
        "reviewing it and will contact you. Do not pay again."
    ),
    Review.PAID_AFTER_EXPIRY: _(
        "Your transfer arrived after this payment had expired: the accountant is reviewing "
        "it and will refund it."
    ),
    Review.PAID_TWICE: _(
        "This fee was paid twice: the accountant is reviewing the second transfer and will "
        "refund it."
    ),
}


class PaymentAccount(models.Model):
    """The account an agency's fees are paid into (a collection account at a bank or the
    State Treasury)."""

    agency = models.OneToOneField(
        "agencies.Agency", on_delete=models.CASCADE, related_name="payment_account"
    )
    bank_bin = models.CharField(_("bank BIN"), max_length=6)
    bank_name = models.CharField(_("bank"), max_length=128)
    account_number = models.CharField(_("account number"), max_length=19)
    account_name = models.CharField(_("account holder"), max_length=128)

    def __str__(self) -> str:
        return f"{self.bank_name} {self.account_number}"


class Payment(models.Model):
    """One request to pay a dossier's fee. Its reference travels in the VietQR (tag 62/08)
    and comes back in the bank's notification."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    dossier = models.ForeignKey(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="payments"
    )
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount (VND)"))
    breakdown = models.JSONField(_("breakdown"), default=list)
    state = models.CharField(
        _("state"), max_length=16, choices=PaymentState.choices, default=PaymentState.CREATED
    )
    bank_bin = models.CharField(max_length=6)
    account_number = models.CharField(max_length=19)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_amount = models.BigIntegerField(null=True, blank=True)
    bank_transaction = models.CharField(max_length=64, blank=True)
    review = models.CharField(
        _("needs review"), max_length=24, choices=Review.choices, blank=True, default=""
    )
    receipt = models.OneToOneField(
        "signing.SignedDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment",
    )
    # The receipt being issued after the crediting commit (core.documents, ADR 0023).
    receipt_issuing = models.ForeignKey(
        "core.PendingDocument", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    # The e-receipt's form number, series and number (mẫu số, ký hiệu, số), given when the
    # payment is credited: numbers run from 1 each year per agency (its series carries the
    # year), with no gap.
    receipt_form = models.CharField(_("receipt form"), max_length=20, blank=True)
    receipt_series = models.CharField(_("receipt series"), max_length=20, blank=True)
    receipt_number = models.CharField(_("receipt number"), max_length=12, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["agency", "state"]),
            models.Index(fields=["dossier", "state"]),
        ]

    def __str__(self) -> str:
        return self.reference

    def status_for_payer(self) -> str:
        """The state as the payer reads it: money that arrived but waits for the
        accountant (a wrong amount, too late, twice) is said to have arrived, not to be
        still awaited."""
        if self.review:
            return str(REVIEW_FOR_PAYER.get(self.review) or self.get_review_display())
        return str(self.get_state_display())

    def is_payable(self) -> bool:
        """Whether the payer may still pay it (its notice shows the VietQR): open, not
        waiting for the accountant, not expired."""
        return self.state in OPEN_STATES and not self.review and self.expires_at > timezone.now()

    def vietqr(self) -> str:
        from tinhso.payments.vietqr import VietQR

        return VietQR(self.bank_bin, self.account_number, self.amount, self.reference).payload()


class PaymentEvent(models.Model):
    """A change of a payment's state, or something that happened to it (a notification
    held for review, a refund)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.from_state}→{self.to_state}"


class Outcome(models.TextChoices):
    CREDITED = "credited", _("Credited")
    DUPLICATE = "duplicate", _("Replay: already recorded")
    REJECTED = "rejected", _("Rejected: bad signature")
    MALFORMED = "malformed", _("Rejected: malformed")
    UNKNOWN_REFERENCE = "unknown_reference", _("Held: unknown reference")
    AMOUNT_MISMATCH = "amount_mismatch", _("Held: amount does not match")
    LATE = "late", _("Held: paid after expiry")
    PAID_TWICE = "paid_twice", _("Held: paid twice")
    FAILED = "failed", _("Payment failed")
    OUT_OF_ORDER = "out_of_order", _("Ignored: older than the payment's state")


class BankNotification(models.Model):
    """Every notification the bank endpoint received, valid or not, kept as received: the
    accountant sees forged, replayed and held ones too."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    provider = models.CharField(max_length=32)
    signature_valid = models.BooleanField()
    transaction_id = models.CharField(max_length=64, blank=True, db_index=True)
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    amount = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    body = models.TextField()
    remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} {self.transaction_id} {self.outcome}"


class BankTransaction(models.Model):
    """A bank transaction the platform has taken into account, once: the unique constraint
    is what makes a replayed or concurrent notification credit nothing twice."""

    provider = models.CharField(max_length=32)
    transaction_id = models.CharField(max_length=64)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    amount = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "transaction_id"], name="bank_transaction_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.transaction_id}"


class Refund(models.Model):
    """Money sent back to the payer (paid twice, after expiry, or a wrong amount)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount (VND)"))
    reason = models.CharField(_("reason"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.amount}"
