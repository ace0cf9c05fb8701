"""The products' figures per commune (the producer's) and period, declared to the indicator
registry (GET /api/v1/figures, under "products"): producers and products registered, the
products certified now by stars, certificates expiring within 90 days of the period's end,
and from the rollups (core.rollups) stamps issued, scans (rolled hourly from the scans) and
counterfeit signals raised, and certificates granted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from django.db.models import Count, F, Q
from ninja import Field, Schema

from tinhso.core.indicators import FigureSet, FigureValue, Indicator, Scope, Unit
from tinhso.core.rollups import rollup_sum
from tinhso.products.models import Certificate, Producer, Product, ProductRollup

EXPIRING_DAYS = 90
COUNTERS = ("stamps_issued", "scans", "signals", "certificates")

INDICATORS = (
    Indicator("producers", "Chủ thể sản xuất", "Producers", Unit.COUNT),
    Indicator("products", "Sản phẩm", "Products", Unit.COUNT),
    Indicator("ocop_3", "Sản phẩm OCOP 3 sao", "3-star OCOP products", Unit.COUNT),
    Indicator("ocop_4", "Sản phẩm OCOP 4 sao", "4-star OCOP products", Unit.COUNT),
    Indicator("ocop_5", "Sản phẩm OCOP 5 sao", "5-star OCOP products", Unit.COUNT),
    Indicator("certificates_granted", "Giấy chứng nhận OCOP đã cấp", "OCOP certificates granted",
              Unit.COUNT),
    Indicator("certificates_expiring", "Giấy chứng nhận sắp hết hạn (90 ngày)",
              "Certificates expiring within 90 days", Unit.COUNT),
    Indicator("stamps_issued", "Tem truy xuất đã cấp", "Traceability stamps issued", Unit.COUNT),
    Indicator("scans", "Lượt quét tem", "Stamp scans", Unit.COUNT),
    Indicator("signals", "Cảnh báo nghi hàng giả", "Counterfeit signals", Unit.COUNT),
)  # fmt: skip


class ProductsFiguresOut(Schema):
    producers: int = Field(description="producers registered by the period's end")
    products: int = Field(description="products registered by the period's end")
    ocop_3: int = Field(description="products holding a current 3-star certificate at the end")
    ocop_4: int = Field(description="products holding a current 4-star certificate at the end")
    ocop_5: int = Field(description="products holding a current 5-star certificate at the end")
    certificates_granted: int = Field(description="OCOP certificates granted in the period")
    certificates_expiring: int = Field(description="current certificates ending within 90 days")
    stamps_issued: int = Field(description="stamps issued in the period")
    scans: int = Field(description="stamp scans in the period (counted hourly)")
    signals: int = Field(description="counterfeit signals raised in the period")


def products_figures(scope: Scope) -> Mapping[str, FigureValue]:
    totals = rollup_sum(ProductRollup, scope.agencies.within("agency"), scope.start, scope.end,
                        COUNTERS)  # fmt: skip
    where = scope.agencies.within("commune")
    end_moment = scope.begin + timedelta(days=(scope.end - scope.start).days + 1)
    producers = Producer.objects.filter(where, created_at__lt=end_moment).count()
    products = Product.objects.filter(
        scope.agencies.within("producer__commune"), created_at__lt=end_moment
    ).count()
    current = Certificate.objects.filter(
        scope.agencies.within("product__producer__commune"), issued_on__lte=scope.end,
        valid_until__gte=scope.end,
    )  # fmt: skip
    # One query: the products certified now by stars (a product's current certificate),
    # and the certificates ending within EXPIRING_DAYS.
    shown = Q(product__certificate=F("pk"))
    counted = current.aggregate(
        ocop_3=Count("pk", filter=shown & Q(stars=3)),
        ocop_4=Count("pk", filter=shown & Q(stars=4)),
        ocop_5=Count("pk", filter=shown & Q(stars=5)),
        expiring=Count("pk", filter=Q(valid_until__lte=scope.end + timedelta(days=EXPIRING_DAYS))),
    )
    return {
        "producers": producers,
        "products": products,
        "ocop_3": counted["ocop_3"],
        "ocop_4": counted["ocop_4"],
        "ocop_5": counted["ocop_5"],
        "certificates_granted": totals["certificates"],
        "certificates_expiring": counted["expiring"],
        "stamps_issued": totals["stamps_issued"],
        "scans": totals["scans"],
        "signals": totals["signals"],
    }


FIGURES = FigureSet(
    module="products",
    indicators=INDICATORS,
    compute=products_figures,
    schema=ProductsFiguresOut,
    section="products",
)
