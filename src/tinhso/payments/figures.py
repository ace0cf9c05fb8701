"""Payment figures of an agency set for a period (Decision 766/QĐ-TTg scores online
payment): dossiers paid online, the amount collected, and the share of cashless payment.
Declared to the indicator registry (core.indicators) by PaymentsConfig.ready(); GET
/api/v1/figures shows them under "payments"."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import OuterRef, Subquery, Sum
from ninja import Field, Schema

from tinhso.core.indicators import FigureSet, FigureValue, Indicator, Scope, Unit
from tinhso.core.rollups import Changes
from tinhso.dossiers.models import DossierEvent
from tinhso.dossiers.rollups import rollup_totals, rollups_add
from tinhso.payments.models import Payment, PaymentState

INDICATORS = (
    Indicator("paid_online", "Hồ sơ thanh toán trực tuyến", "Dossiers paid online", Unit.DOSSIERS),
    Indicator(
        "paid_otherwise",
        "Hồ sơ thanh toán bằng hình thức khác",
        "Dossiers paid otherwise",
        Unit.DOSSIERS,
    ),
    Indicator("amount_collected", "Số tiền thu trực tuyến", "Amount collected online", Unit.VND),
    Indicator(
        "cashless_share", "Tỷ lệ thanh toán không dùng tiền mặt", "Cashless share", Unit.RATIO
    ),
)


class PaymentFiguresOut(Schema):
    paid_online: int = Field(description="dossiers whose fee was paid through the bank (VietQR)")
    paid_otherwise: int = Field(description="dossiers whose payment an official recorded")
    amount_collected: int = Field(description="VND paid online")
    cashless_share: float | None


def payment_figures(scope: Scope) -> Mapping[str, FigureValue]:
    """The payment figures of the agencies of `scope` for its period, from the rollups
    (dossiers.rollups, kept by the crediting transaction and the official's "paid"): a
    dossier counts as paid online on the day of its first bank payment; paid otherwise when
    an official recorded its payment."""
    flows = rollup_totals(scope).flows
    online, other = flows["paid_online"], flows["paid_otherwise"]
    total = online + other
    return {
        "paid_online": online,
        "paid_otherwise": other,
        "amount_collected": flows["amount_collected"],
        "cashless_share": round(online / total, 4) if total else None,
    }


def payment_figures_direct(scope: Scope) -> Mapping[str, FigureValue]:
    """The same figures counted from the payments and the history (a scan)."""
    begin, finish = scope.begin, scope.finish
    first_paid = (
        Payment.objects.filter(dossier=OuterRef("dossier"), state=PaymentState.SUCCEEDED)
        .order_by("paid_at", "pk")
        .values("pk")[:1]
    )
    paid = Payment.objects.filter(
        scope.agencies.within("agency"), state=PaymentState.SUCCEEDED,
        paid_at__gte=begin, paid_at__lte=finish,
    )  # fmt: skip
    online = paid.filter(pk=Subquery(first_paid)).count()
    amount = paid.aggregate(amount=Sum("paid_amount"))["amount"] or 0
    other = DossierEvent.objects.filter(
        scope.agencies.within("dossier__receiving_agency"), action="paid",
        actor__isnull=False, at__gte=begin, at__lte=finish,
    ).count()  # fmt: skip
    total = online + other
    return {
        "paid_online": online,
        "paid_otherwise": other,
        "amount_collected": amount,
        "cashless_share": round(online / total, 4) if total else None,
    }


def payments_rebuild(changes: Changes) -> None:
    """The payments' part of a rebuild of the rollups (dossiers.rollups_rebuild)."""
    seen: set[int] = set()
    for dossier, agency, paid_at, amount in (
        Payment.objects.filter(state=PaymentState.SUCCEEDED, paid_at__isnull=False)
        .order_by("dossier_id", "paid_at", "pk")
        .values_list("dossier_id", "agency_id", "paid_at", "paid_amount")
        .iterator(chunk_size=5000)
    ):
        if paid_at is None:  # excluded by the query; for the type checker
            continue
        rollups_add(changes, agency, paid_at, {
            "paid_online": int(dossier not in seen), "amount_collected": amount or 0,
        })  # fmt: skip
        seen.add(dossier)


FIGURES = FigureSet(
    module="payments",
    indicators=INDICATORS,
    compute=payment_figures,
    schema=PaymentFiguresOut,
    section="payments",
)
