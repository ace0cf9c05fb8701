"""Certificates ending soon: every hour (the products' hourly chain) each current OCOP
certificate that ends within REMIND_DAYS and was not mentioned yet is told to its
producer, once, so they apply again in time (a product whose certificate ends shows no
stars)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.notifications import notify
from tinhso.products.models import Certificate

REMIND_DAYS = 90
BATCH = 500


@dataclass(frozen=True)
class CertificateReminded(Event):
    kind = "ocop.reminded"
    certificate: Certificate

    def audit(self) -> AuditItem:
        c = self.certificate
        data = {"number": c.number, "valid_until": c.valid_until.isoformat()}
        return AuditItem(action="ocop.remind", obj=c, data=data)


def certificates_remind(now: datetime | None = None) -> int:
    """Tell the producers whose current certificates end within REMIND_DAYS; returns how
    many were told. Each in its own transaction, marked first (a run repeated, or two at
    once, tell no one twice)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = (
        Certificate.objects.filter(
            reminded_at__isnull=True, valid_until__gte=today,
            valid_until__lte=today + timedelta(days=REMIND_DAYS), product__certificate=F("pk"),
        ).order_by("valid_until").values_list("pk", flat=True)[:BATCH]
    )  # fmt: skip
    told = 0
    for pk in list(due):
        with transaction.atomic():
            if not Certificate.objects.filter(pk=pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            certificate = Certificate.objects.select_related("product__producer__owner").get(pk=pk)
            product = certificate.product
            until = f"{certificate.valid_until:%d/%m/%Y}"
            notify(
                user=product.producer.owner,
                subject=_("The OCOP certificate of %(product)s ends on %(until)s")
                % {"product": product.name, "until": until},
                body=_("Certificate %(number)s of %(product)s is valid until %(until)s. Apply "
                       "again for a rating in time: after that day the product shows no stars.")
                % {"number": certificate.number, "product": product.name, "until": until},
                link=f"/ocop/co-so/san-pham/{product.pk}/dang-ky-ocop/",
            )  # fmt: skip
            event_emit(CertificateReminded(certificate=certificate))
        told += 1
    return told
