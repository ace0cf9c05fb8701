"""The documents' figures per agency and period, declared to the indicator registry
(GET /api/v1/figures, under "documents"), from the rollups kept by the events
(core.rollups): documents issued, personally signed, sealed, sent electronically; received,
electronically; incoming documents handled on time and late; and the shares the province
reports (personally signed, sealed, on time)."""

from __future__ import annotations

from collections.abc import Mapping

from ninja import Field, Schema

from tinhso.core.indicators import FigureSet, FigureValue, Indicator, Scope, Unit
from tinhso.core.rollups import rollup_sum
from tinhso.documents.models import DocumentRollup

COUNTERS = (
    "issued",
    "issued_personal",
    "issued_sealed",
    "issued_electronic",
    "received",
    "received_electronic",
    "handled_on_time",
    "handled_late",
)

INDICATORS = (
    Indicator("issued", "Văn bản đi đã phát hành", "Documents issued", Unit.COUNT),
    Indicator(
        "issued_electronic", "Văn bản đi gửi điện tử", "Documents sent electronically", Unit.COUNT
    ),
    Indicator("received", "Văn bản đến", "Documents received", Unit.COUNT),
    Indicator(
        "received_electronic",
        "Văn bản đến qua trục liên thông",
        "Documents received electronically",
        Unit.COUNT,
    ),
    Indicator(
        "personal_share", "Tỷ lệ văn bản ký số cá nhân", "Share personally signed", Unit.RATIO
    ),
    Indicator("sealed_share", "Tỷ lệ văn bản ký số cơ quan", "Share sealed", Unit.RATIO),
    Indicator(
        "handled_on_time", "Văn bản đến xử lý đúng hạn", "Incoming handled on time", Unit.COUNT
    ),
    Indicator("handled_late", "Văn bản đến xử lý quá hạn", "Incoming handled late", Unit.COUNT),
    Indicator("on_time_share", "Tỷ lệ xử lý đúng hạn", "Share handled on time", Unit.RATIO),
)


class DocumentsFiguresOut(Schema):
    issued: int = Field(description="outgoing documents issued in the period")
    issued_electronic: int = Field(description="of them sent electronically (edXML)")
    received: int = Field(description="incoming documents arrived in the period")
    received_electronic: int = Field(description="of them by the electronic exchange")
    personal_share: float | None = Field(
        description="share (0–1) of issued documents personally signed"
    )
    sealed_share: float | None = Field(
        description="share (0–1) of issued documents sealed digitally"
    )
    handled_on_time: int = Field(description="incoming documents finished by their due time")
    handled_late: int = Field(description="incoming documents finished after it")
    on_time_share: float | None = Field(
        description="share (0–1) of those finished that were on time"
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def documents_figures(scope: Scope) -> Mapping[str, FigureValue]:
    t = rollup_sum(
        DocumentRollup, scope.agencies.within("agency"), scope.start, scope.end, COUNTERS
    )
    finished = t["handled_on_time"] + t["handled_late"]
    return {
        "issued": t["issued"],
        "issued_electronic": t["issued_electronic"],
        "received": t["received"],
        "received_electronic": t["received_electronic"],
        "personal_share": _share(t["issued_personal"], t["issued"]),
        "sealed_share": _share(t["issued_sealed"], t["issued"]),
        "handled_on_time": t["handled_on_time"],
        "handled_late": t["handled_late"],
        "on_time_share": _share(t["handled_on_time"], finished),
    }


FIGURES = FigureSet(
    module="documents",
    indicators=INDICATORS,
    compute=documents_figures,
    schema=DocumentsFiguresOut,
    section="documents",
)
