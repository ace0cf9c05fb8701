"""Payment figures of an agency for a period (Decision 766/QĐ-TTg scores online payment):
dossiers paid online, the amount collected, and the share of cashless payment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Sum

from tinhso.agencies.models import Agency
from tinhso.dossiers.models import DossierEvent
from tinhso.payments.models import Payment, PaymentState


def payment_figures(agency: Agency, begin: datetime, finish: datetime) -> dict[str, Any]:
    paid = Payment.objects.filter(
        agency__path__startswith=agency.path, state=PaymentState.SUCCEEDED,
        paid_at__gte=begin, paid_at__lte=finish,
    )  # fmt: skip
    online = paid.aggregate(dossiers=Count("dossier", distinct=True), amount=Sum("paid_amount"))
    # "Payment received" recorded by an official: paid at the counter, not through the bank.
    other = (
        DossierEvent.objects.filter(
            dossier__receiving_agency__path__startswith=agency.path, action="paid",
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
