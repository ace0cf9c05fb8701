"""Payment figures of an agency set for a period (Decision 766/QĐ-TTg scores online
payment): dossiers paid online, the amount collected, and the share of cashless payment.
Declared to the indicator registry (core.indicators) by PaymentsConfig.ready(); GET
/api/v1/figures shows them under "payments"."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, Sum
from ninja import Field, Schema

from tinhso.core.indicators import FigureSet, FigureValue, Indicator, Scope, Unit
from tinhso.dossiers.models import DossierEvent
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
    """The payment figures of the agencies of `scope` for its period."""
    begin, finish = scope.begin, scope.finish
    paid = Payment.objects.filter(
        scope.agencies.within("agency"), state=PaymentState.SUCCEEDED,
        paid_at__gte=begin, paid_at__lte=finish,
    )  # fmt: skip
    online = paid.aggregate(dossiers=Count("dossier", distinct=True), amount=Sum("paid_amount"))
    # "Payment received" recorded by an official: paid at the counter, not through the bank.
    other = (
        DossierEvent.objects.filter(
            scope.agencies.within("dossier__receiving_agency"), action="paid",
            actor__isnull=False, at__gte=begin, at__lte=finish,
        )
        .values("dossier")
        .distinct()
        .count()
    )  # fmt: skip
    total = online["dossiers"] + other
    return {
        "paid_online": online["dossiers"],
        "paid_otherwise": other,
        "amount_collected": online["amount"] or 0,
        "cashless_share": round(online["dossiers"] / total, 4) if total else None,
    }


FIGURES = FigureSet(
    module="payments",
    indicators=INDICATORS,
    compute=payment_figures,
    schema=PaymentFiguresOut,
    section="payments",
)
