"""Vietnamese administrative documents as PDF (layout of Decree 30/2020/NĐ-CP): the
agency heading and the national heading side by side, number and place-date line, title,
body, tables and signature blocks. Text is real text in an embedded Unicode font (DejaVu
Serif, shipped in core/fonts), so it can be copied, searched and read by screen readers.

Fonts cost more than the rest of a form when parsed for each one (ADR 0024): each face is
reduced once per process to the Vietnamese repertoire (`REPERTOIRE`) and parsed once; a
document gets a copy of that parsed face with its own glyph subset. A string with a
character outside the repertoire is written in the whole font, added to that document only.
"""

from __future__ import annotations

import copy
import io
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import segno
from fontTools import subset as ft_subset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVuSerif"
FULL_FAMILY = "DejaVuSerifFull"
FACES = {"": "DejaVuSerif.ttf", "B": "DejaVuSerif-Bold.ttf"}
# What Vietnamese text uses (the stamp font's repertoire too, core/fonts/README): Latin,
# Latin-1, Latin Extended-A/B, combining marks, Latin Extended Additional, punctuation,
# ₫ € №.
REPERTOIRE = (
    (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
    (0x20AB, 0x20AC), (0x2116, 0x2116),
)  # fmt: skip
_IN_REPERTOIRE = frozenset(c for low, high in REPERTOIRE for c in range(low, high + 1))
_IN_REPERTOIRE |= {0x0A, 0x0D, 0x09}  # line breaks and tabs are layout, not glyphs
_FACE_LOCK = threading.Lock()


def in_repertoire(text: str) -> bool:
    return all(ord(c) in _IN_REPERTOIRE for c in text)


@cache
def _repertoire_bytes(filename: str) -> bytes:
    """The face reduced to the repertoire (about 1,000 glyphs of 3,500), as a TTF."""
    options = ft_subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM"]
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    face = ttLib.TTFont(str(FONTS / filename), recalcTimestamp=False)
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(_IN_REPERTOIRE))
    subsetter.subset(face)
    out = io.BytesIO()
    face.save(out)
    return out.getvalue()


def _parsed_face(style: str) -> TTFFont:
    """The repertoire face parsed (metrics, character map) once per process."""
    with _FACE_LOCK:
        return _parsed_face_locked(style)


@cache
def _parsed_face_locked(style: str) -> TTFFont:
    data = _repertoire_bytes(FACES[style])
    return TTFFont(FPDF(), io.BytesIO(data), f"{FAMILY.lower()}{style}", style)  # type: ignore[arg-type]


def _face_for(pdf: FPDF, style: str) -> TTFFont:
    """A document's own copy of the parsed face: shared metrics, its own subset of glyphs
    and its own font program (fpdf2 cuts the subset out of it when writing)."""
    shared = _parsed_face(style)
    face = copy.copy(shared)
    face.i = len(pdf.fonts) + 1
    face.cw = defaultdict(shared.cw.default_factory, shared.cw)  # type: ignore[attr-defined]
    face.desc = copy.copy(shared.desc)  # fpdf2 numbers it and names its font file when writing
    face.ttfont = ttLib.TTFont(
        io.BytesIO(_repertoire_bytes(FACES[style])), recalcTimestamp=False, lazy=True
    )
    face.missing_glyphs = []
    face.biggest_size_pt = 0
    face.subset = SubsetMap(face)
    return face


LEFT_COLUMN = 80.0
MM = 72 / 25.4  # PDF points per millimetre
QR_SIZE = 20.0


@dataclass(frozen=True)
class SignatureBlock:
    """A signature block: the role line, the signer's name, and (for a digital signature)
    the name of the slot the signature's visible box goes into."""

    role: str
    name: str
    slot: str = ""


class _Page(FPDF):
    """FPDF with the verification QR code in the footer of the first page."""

    verification_url = ""

    def footer(self) -> None:
        if not self.verification_url or self.page_no() != 1:
            return
        top = self.h - 8 - QR_SIZE
        png = io.BytesIO()
        segno.make(self.verification_url, error="m").save(png, kind="png", scale=4, border=0)
        self.image(png, x=self.l_margin, y=top, w=QR_SIZE, h=QR_SIZE)
        self.set_xy(self.l_margin + QR_SIZE + 3, top + 3)
        self.set_font(FAMILY, "", 8)
        self.multi_cell(
            self.w - self.l_margin - self.r_margin - QR_SIZE - 3,
            4,
            "Văn bản điện tử được ký số. Quét mã QR hoặc truy cập địa chỉ sau để xác thực "
            f"chữ ký số:\n{self.verification_url}",
        )


def vn_date_line(place: str, moment: datetime) -> str:
    return f"{place}, ngày {moment:%d} tháng {moment:%m} năm {moment:%Y}"


class OfficialDocument:
    """Build one A4 document, top to bottom."""

    def __init__(
        self,
        *,
        superior: str,
        agency: str,
        number: str,
        place: str,
        date: datetime,
        title: str,
        subtitle: str = "",
        producer: str = "Tỉnh Số",
        landscape: bool = False,
        verification_url: str = "",
        number_note: str = "",
        banner: str = "",
    ) -> None:
        """`number_note`: a line under the number (a register's book, "Quyển số: 01/2026");
        `banner`: a line above everything, in red (a preview's "not a valid document")."""
        self.pdf = _Page(orientation="L" if landscape else "P", format="A4", unit="mm")
        self.pdf.verification_url = verification_url
        # Where the visible signatures go: slot name → (page from 0, x, y, w, h) in mm.
        self.slots: dict[str, tuple[int, float, float, float, float]] = {}
        self.pdf.set_margins(20, 15, 15)
        self.pdf.set_auto_page_break(
            auto=True, margin=18 + (QR_SIZE + 6 if verification_url else 0)
        )
        for style in FACES:
            self.pdf.fonts[f"{FAMILY.lower()}{style}"] = _face_for(self.pdf, style)
        self.pdf.set_title(title)
        self.pdf.set_author(agency)
        self.pdf.set_creator(producer)
        self.pdf.set_lang("vi")
        self.pdf.add_page()
        if banner:
            self._text(9, bold=True, text=banner)
            self.pdf.set_text_color(180, 0, 0)
            self.pdf.multi_cell(0, 5, banner, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.pdf.set_text_color(0, 0, 0)
            self.pdf.ln(2)
        self._heading(superior, agency, number, place, date, number_note)
        self._title(title, subtitle)

    def _text(self, size: float, bold: bool = False, text: str = "") -> None:
        """Set the font for `text`: the repertoire face, or the whole font when the text
        has a character outside the repertoire."""
        style = "B" if bold else ""
        family = FAMILY
        if text and not in_repertoire(text):
            family = FULL_FAMILY
            if f"{FULL_FAMILY.lower()}{style}" not in self.pdf.fonts:
                self.pdf.add_font(FULL_FAMILY, style, str(FONTS / FACES[style]))
        self.pdf.set_font(family, style, size)

    def _heading(
        self, superior: str, agency: str, number: str, place: str, date: datetime, note: str = ""
    ) -> None:
        pdf = self.pdf
        top = pdf.get_y()
        right_x = pdf.l_margin + LEFT_COLUMN
        right_w = pdf.w - pdf.r_margin - right_x
        self._text(10, text=superior)
        pdf.multi_cell(
            LEFT_COLUMN, 5, superior.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self._text(10, bold=True, text=agency)
        pdf.multi_cell(
            LEFT_COLUMN, 5, agency.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        line_y = pdf.get_y() + 1
        pdf.line(
            pdf.l_margin + LEFT_COLUMN / 2 - 12, line_y, pdf.l_margin + LEFT_COLUMN / 2 + 12, line_y
        )
        pdf.set_y(line_y + 2)
        self._text(10, text=number)
        pdf.cell(LEFT_COLUMN, 5, f"Số: {number}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if note:
            self._text(10, text=note)
            pdf.cell(LEFT_COLUMN, 5, note, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        left_bottom = pdf.get_y()
        pdf.set_xy(right_x, top)
        self._text(10, bold=True)
        pdf.cell(
            right_w,
            5,
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            align="C",
            new_x=XPos.LEFT,
            new_y=YPos.NEXT,
        )
        pdf.set_x(right_x)
        self._text(11, bold=True)
        pdf.cell(
            right_w, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
        )
        motto_w = pdf.get_string_width("Độc lập - Tự do - Hạnh phúc")
        y = pdf.get_y() + 0.5
        pdf.line(right_x + (right_w - motto_w) / 2, y, right_x + (right_w + motto_w) / 2, y)
        pdf.set_xy(right_x, y + 4)
        self._text(10, text=place)
        pdf.cell(right_w, 5, vn_date_line(place, date), align="C")
        pdf.set_y(max(left_bottom, pdf.get_y() + 5) + 6)

    def _title(self, title: str, subtitle: str) -> None:
        self._text(13, bold=True, text=title)
        self.pdf.multi_cell(0, 7, title.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self._text(11, text=subtitle)
            self.pdf.multi_cell(0, 6, subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(4)

    def paragraph(self, text: str, *, bold: bool = False, size: float = 11) -> None:
        self._text(size, bold, text)
        self.pdf.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def field(self, label: str, value: str) -> None:
        """ "Label: value" on a line, the value wrapping under itself; a label longer than
        half the line takes a line of its own, the value under it."""
        self._text(11, bold=True, text=label)
        width = self.pdf.get_string_width(label + ": ") + 1
        line = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin
        if width > line / 2:
            self.pdf.multi_cell(0, 6, label + ":", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            self.pdf.cell(width, 6, label + ":")
        self._text(11, text=value)
        self.pdf.multi_cell(0, 6, value or "…", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
        self._text(9.5, text="".join(headers) + "".join("".join(row) for row in rows))
        with self.pdf.table(
            col_widths=widths, text_align="LEFT", line_height=5, first_row_as_headings=True
        ) as table:
            header = table.row()
            for text in headers:
                header.cell(text)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)
        self.pdf.ln(3)

    def signatures(self, blocks: list[SignatureBlock]) -> None:
        """Side-by-side signature blocks, kept whole on one page; a block with a slot gets a
        box for the visible digital signature between its role lines and the signer's name.
        A role may have several lines ("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH")."""
        pdf = self.pdf
        lines = max((len(b.role.splitlines()) for b in blocks if b.role), default=0)
        role_h = 6 * lines + (5 if lines else 0)
        needed = role_h + 2 + 21 + 2 + 12 + 4
        if pdf.get_y() + needed > pdf.h - pdf.b_margin:
            pdf.add_page()
        width = (pdf.w - pdf.l_margin - pdf.r_margin) / max(1, len(blocks))
        top = pdf.get_y() + 4
        box_top = top + role_h + 2
        for index, block in enumerate(blocks):
            x = pdf.l_margin + index * width
            pdf.set_xy(x, top)
            if block.role:
                self._text(11, bold=True, text=block.role)
                pdf.multi_cell(
                    width, 6, block.role.upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
                )
                self._text(9)
                pdf.set_x(x)
                pdf.cell(width, 5, "(Ký số)" if block.slot else "(Ký, ghi rõ họ tên)", align="C")
            if block.slot:
                box_w = min(width - 4, 78.0)
                self.slots[block.slot] = (pdf.page_no() - 1, x + (width - box_w) / 2, box_top,
                                          box_w, 21.0)  # fmt: skip
            if block.name:
                pdf.set_xy(x, box_top + 23)
                self._text(11, bold=True, text=block.name)
                pdf.multi_cell(width, 6, block.name, align="C")
        pdf.set_y(box_top + 35)

    def slot_box(self, name: str) -> tuple[int, tuple[int, int, int, int]]:
        """A slot as pyHanko wants it: page, and (x1, y1, x2, y2) in points from the bottom
        left of the page."""
        page, x, y, w, h = self.slots[name]
        height = self.pdf.h
        return page, (
            round(x * MM), round((height - y - h) * MM), round((x + w) * MM),
            round((height - y) * MM),
        )  # fmt: skip

    def footer_note(self, text: str) -> None:
        self._text(8.5, text=text)
        self.pdf.multi_cell(0, 4.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
