"""The OCOP score sheet (Decision 148/QĐ-TTg of 24 February 2023): three parts — A, the
product and the community's strength (40 points), B, marketing capacity (25), C, product
quality (35) — each a list of criteria with their most points; the total (of 100) gives the
star band: 5 stars from 90, 4 from 70, 3 from 50; below 50 the product is not certified.

The criteria below are the sheet's headings shared by every product group (the decision's
annex details each criterion's levels per group; the council scores a level's points)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Criterion:
    code: str
    part: str
    name: str
    points: int  # the most it scores


@dataclass(frozen=True)
class Part:
    code: str
    name: str
    points: int


PARTS = (
    Part("A", "Sản phẩm và sức mạnh cộng đồng", 40),
    Part("B", "Khả năng tiếp thị", 25),
    Part("C", "Chất lượng sản phẩm", 35),
)

CRITERIA = (
    Criterion("A1", "A", "Nguồn nguyên liệu và vùng nguyên liệu", 5),
    Criterion("A2", "A", "Sử dụng nguyên liệu, lao động địa phương", 5),
    Criterion("A3", "A", "Hình thức tổ chức sản xuất, vai trò của cộng đồng", 6),
    Criterion("A4", "A", "Quản lý chất lượng, truy xuất nguồn gốc", 8),
    Criterion("A5", "A", "Kế toán, quản lý hoạt động sản xuất, kinh doanh", 4),
    Criterion("A6", "A", "Bao bì, nhãn hàng hóa và bảo vệ môi trường", 6),
    Criterion("A7", "A", "Tính sáng tạo, câu chuyện sản phẩm", 6),
    Criterion("B1", "B", "Tổ chức phân phối, số lượng kênh bán hàng", 8),
    Criterion("B2", "B", "Quảng bá sản phẩm, thương mại điện tử", 7),
    Criterion("B3", "B", "Tiêu thụ sản phẩm, tăng trưởng doanh thu", 6),
    Criterion("B4", "B", "Quy mô sản xuất, lợi nhuận", 4),
    Criterion("C1", "C", "Tính đặc biệt, cảm quan của sản phẩm", 10),
    Criterion("C2", "C", "Tiêu chuẩn sản phẩm đã công bố, chỉ tiêu an toàn", 10),
    Criterion("C3", "C", "Kiểm nghiệm chất lượng định kỳ", 7),
    Criterion("C4", "C", "Khả năng xuất khẩu, tiềm năng thị trường", 8),
)

BY_CODE = {c.code: c for c in CRITERIA}
assert all(sum(c.points for c in CRITERIA if c.part == p.code) == p.points for p in PARTS)  # noqa: S101


def stars_for(total: int) -> int | None:
    """The star band of a total (None: below 3 stars, not certified)."""
    if total >= 90:
        return 5
    if total >= 70:
        return 4
    if total >= 50:
        return 3
    return None


class SheetError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def sheet_check(raw: Mapping[str, object]) -> dict[str, int]:
    """The council's points, one per criterion, each a whole number from 0 to its most;
    SheetError naming every criterion that is missing or wrong."""
    scores: dict[str, int] = {}
    problems: dict[str, str] = {}
    for criterion in CRITERIA:
        value = raw.get(criterion.code)
        text = str(value).strip() if value is not None else ""
        if not text:
            problems[criterion.code] = _("Give the points of this criterion.")
            continue
        try:
            points = int(text)
        except ValueError:
            problems[criterion.code] = _("Points are a whole number.")
            continue
        if not 0 <= points <= criterion.points:
            problems[criterion.code] = _("From 0 to %(n)d points.") % {"n": criterion.points}
            continue
        scores[criterion.code] = points
    unknown = set(raw) - set(BY_CODE)
    if unknown:
        problems["_"] = _("Criteria not on the sheet: %(c)s") % {"c": ", ".join(sorted(unknown))}
    if problems:
        raise SheetError(problems)
    return scores


def points_adding_up_to(total: int) -> dict[str, int]:
    """Points per criterion that add up to `total` (0–100), in proportion to each
    criterion's most (the demo's scores, and the tests')."""
    points = [total * c.points // 100 for c in CRITERIA]
    index = 0
    while sum(points) < total:
        if points[index] < CRITERIA[index].points:
            points[index] += 1
        index = (index + 1) % len(CRITERIA)
    return {c.code: p for c, p in zip(CRITERIA, points, strict=True)}


def part_totals(scores: Mapping[str, int]) -> dict[str, int]:
    return {p.code: sum(scores.get(c.code, 0) for c in CRITERIA if c.part == p.code) for p in PARTS}
