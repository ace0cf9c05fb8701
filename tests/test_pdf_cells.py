"""The short way `_Page.cell` takes for a line of plain text writes exactly what fpdf2's
own `cell` writes: whole documents made both ways are the same bytes (core.pdf, issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fpdf import FPDF

from tinhso.core import pdf as core_pdf
from tinhso.core.pdf import OfficialDocument, SignatureBlock, plain_page

MOMENT = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


def _official() -> bytes:
    doc = OfficialDocument(
        superior="UBND TỈNH THANH HÓA", agency="Ủy ban nhân dân phường Hạc Thành",
        number="15/QĐ-UBND", place="Hạc Thành", date=MOMENT, title="Quyết định",
        subtitle="Về việc công nhận sản phẩm OCOP (đợt 2) năm 2026",
        verification_url="https://dichvucong.thanhhoa.gov.vn/xac-thuc/AbCdEf0123456789/",
        number_note="Quyển số: 01/2026", banner="HỎA TỐC",
    )  # fmt: skip
    doc.pdf.set_creation_date(MOMENT)
    for n in range(14):
        doc.field(f"Mục {n + 1}", "Nội dung (có ngoặc) và \\dấu gạch; trình bày như thật. " * 3)
    doc.paragraph("Ελληνικά and a word-that-is-far-too-long-to-fit-" * 4, bold=True)
    doc.paragraph("Dòng thứ nhất\nDòng thứ hai\r\n{nb} trang", size=10)
    doc.table(
        ["STT", "Tên giấy tờ", "Số lượng"],
        [[str(i), f"Bản sao giấy khai sinh số {i} của người được đăng ký", "01"]
         for i in range(60)],
        [15, 120, 30],
    )  # fmt: skip
    doc.signatures([
        SignatureBlock("Người nhận", "Phạm Thị Lan", slot="seal"),
        SignatureBlock("KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", "Đỗ Minh Tuấn", slot="personal"),
    ])  # fmt: skip
    doc.closing(["UBND tỉnh (để b/c)", "Sở Tư pháp", "Lưu: VT"],
                SignatureBlock("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "Lê Văn A", slot="x"))  # fmt: skip
    doc.footer_note("Ghi chú: giấy này có giá trị trong 30 ngày.")
    return doc.output()


def _sheet() -> bytes:
    from fpdf.enums import XPos, YPos

    pdf = plain_page()
    pdf.set_creation_date(MOMENT)
    pdf.add_page()
    pdf.set_font(core_pdf.FAMILY, "", 8)
    for row in range(30):
        pdf.set_xy(10, 10 + row * 9)
        pdf.cell(60, 4, f"TS-2026-{row:06d}", align="C")
        pdf.cell(0, 4, "Gạo ST25 Hoằng Hóa", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return core_pdf.page_bytes(pdf)


@pytest.mark.parametrize("make", [_official, _sheet])
def test_short_cells_write_what_fpdf2_writes(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    short = make()
    monkeypatch.setattr(core_pdf._Page, "cell", FPDF.cell)
    assert make() == short
