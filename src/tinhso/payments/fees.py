"""A dossier's fee from its procedure's schedule (catalog `fees`): fixed, per copy or per
item (the count read from an e-form field), less the exemption of the applicant's category
with its legal basis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

# Categories exempted from (or given a reduction of) fees and charges, as the schedules name
# them (Thông tư 106/2021/TT-BTC and the provinces' resolutions).
EXEMPTION_CATEGORIES = {
    "ho_ngheo": _("Poor household"),
    "ho_can_ngheo": _("Near-poor household"),
    "nguoi_co_cong": _("Person with merit to the revolution"),
    "nguoi_khuyet_tat": _("Person with a disability"),
    "tre_em": _("Child under 16"),
    "nguoi_cao_tuoi": _("Elderly person"),
}
MAX_COUNT = 100


@dataclass(frozen=True)
class FeeLine:
    name: str
    unit_amount: int
    quantity: int
    per: str
    amount: int
    exempted: int
    legal_basis: str
    exemption_basis: str


@dataclass(frozen=True)
class FeeQuote:
    lines: list[FeeLine]
    exemption: str

    @property
    def total(self) -> int:
        return sum(line.amount - line.exempted for line in self.lines)

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(line) for line in self.lines]


def _count(form_data: Mapping[str, Any], field: str, default: int) -> int:
    try:
        value = int(form_data.get(field, default) or 0)
    except (TypeError, ValueError):
        value = default
    return max(0, min(MAX_COUNT, value))


def fee_quote(procedure: Any, form_data: Mapping[str, Any], exemption: str = "") -> FeeQuote:
    """What the applicant owes for `procedure` with this form, line by line."""
    exemption = exemption if exemption in EXEMPTION_CATEGORIES else ""
    lines = []
    for item in procedure.fees or []:
        unit = int(item.get("amount", 0))
        # Per copy or item: the count from the form (`count_field`, copies by default); a line
        # that names its own field and finds nothing there does not apply.
        quantity = (
            _count(form_data, item.get("count_field", "so_ban"), 0 if "count_field" in item else 1)
            if item.get("per")
            else 1
        )
        if quantity == 0:
            continue
        amount = unit * quantity
        exempted, basis = 0, ""
        for rule in item.get("exemptions", []):
            if exemption and rule["category"] == exemption:
                exempted, basis = amount * int(rule["percent"]) // 100, rule["legal_basis"]
        lines.append(
            FeeLine(
                name=item["name"], unit_amount=unit, quantity=quantity, per=item.get("per", ""),
                amount=amount, exempted=exempted, legal_basis=item.get("legal_basis", ""),
                exemption_basis=basis,
            )
        )  # fmt: skip
    return FeeQuote(lines=lines, exemption=exemption)
