"""Sheets of traceability stamps to print and cut: A4 portrait, a grid of COLUMNS × ROWS
labels (4 × 8, 32 a page) of LABEL_W × LABEL_H mm, edge to edge, cut along the grid.

Each label has the QR code of its GS1 Digital Link URI at the top, drawn as vectors
(`_Page.qr_code`, error correction M) in a square of QR_AREA mm that holds the symbol and
its quiet zone of 4 modules, both sized to the symbol's modules: the symbol is 18 mm or more
from version 4 on (every stamp's link, which is over 50 characters), which phones read from
a hand's distance. Under it, the serial number, then up to MAX_LINES caption lines (the
product's name in bold, "Lô …", "NSX … · HSD …"), each set smaller down to CAPTION_MIN_PT
when it is too wide for the label (LABEL_W - 2 × TEXT_PAD, 43 mm), then cut with an
ellipsis. Text is set in the project's
Vietnamese face (core.pdf), the whole font when a line has a character outside its
repertoire.

Cut marks: thin lines in the page's margins, outside the grid, in line with every column
and row boundary (the left and right edges of each column at the top and bottom of the
grid, the top and bottom edges of each row at its left and right); nothing is drawn on the
labels' edges themselves, so a cut slightly off leaves no line on a label."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from tinhso.core.pdf import (
    FACES,
    FAMILY,
    FONTS,
    FULL_FAMILY,
    in_repertoire,
    page_bytes,
    plain_page,
)
from tinhso.core.qr import qr_matrix

COLUMNS = 4
ROWS = 8
PER_PAGE = COLUMNS * ROWS
LABEL_W = 46.0  # mm
LABEL_H = 34.0
GRID_LEFT = (210.0 - COLUMNS * LABEL_W) / 2  # 13 mm
GRID_TOP = (297.0 - ROWS * LABEL_H) / 2  # 12.5 mm
QR_AREA = 22.5  # the symbol and its quiet zone
QR_TOP = 0.6  # from the label's top edge to the quiet zone's
QUIET_MODULES = 4
TEXT_PAD = 1.5  # white on each side of the text
SERIAL_PT = 6.0
CAPTION_PT = 6.0
CAPTION_MIN_PT = 5.5  # a caption line too wide is set smaller, down to this, then cut
LINE_H = 2.45
MAX_LINES = 3  # the serial and 3 lines end 1.1 mm above the label's bottom edge
MARK_GAP = 1.5  # between the grid and a cut mark
MARK_LEN = 5.0
MARK_WIDTH = 0.1
CREATOR = "Tỉnh Số"


@dataclass(frozen=True)
class Label:
    """A stamp: the URI its QR code carries, its serial number printed under the code, and
    its caption lines (at most MAX_LINES)."""

    uri: str
    serial: str
    lines: tuple[str, ...]


class _Sheet:
    """The document being drawn: pages of the grid, fonts chosen for each text."""

    def __init__(self, *, title: str, author: str) -> None:
        self.pdf = plain_page()
        self.pdf.set_title(title)
        self.pdf.set_author(author)
        self.pdf.set_creator(CREATOR)
        self.pdf.set_lang("vi")
        self.room = LABEL_W - 2 * TEXT_PAD  # a line's width (centred: the cell's margin is free)

    def font(self, size: float, text: str, bold: bool = False) -> None:
        """The face for `text`: the repertoire's, or the whole font when `text` has a
        character outside it (as OfficialDocument._text)."""
        style = "B" if bold else ""
        family = FAMILY
        if not in_repertoire(text):
            family = FULL_FAMILY
            if f"{FULL_FAMILY.lower()}{style}" not in self.pdf.fonts:
                self.pdf.add_font(FULL_FAMILY, style, str(FONTS / FACES[style]))
        self.pdf.set_font(family, style, size)

    def fitted(self, text: str, smallest: float | None = None) -> str:
        """`text` on one line (spaces collapsed, NFC) within a label's width in the current
        font: set smaller down to `smallest` pt if need be, then cut with an ellipsis."""
        pdf = self.pdf
        text = unicodedata.normalize("NFC", " ".join(text.split()))
        width = pdf.width_of(text)
        if width <= self.room:
            return text
        if smallest is not None:
            size = max(smallest, pdf.font_size_pt * self.room / width)
            pdf.set_font_size(int(size * 10) / 10)  # rounded down: it fits
            if pdf.width_of(text) <= self.room:
                return text
        low, high = 0, len(text)  # the longest start of `text` that fits with the ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            if pdf.width_of(text[:middle].rstrip() + "…") <= self.room:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + "…"

    def page(self) -> None:
        """A new page with its cut marks."""
        pdf = self.pdf
        pdf.add_page()
        right = GRID_LEFT + COLUMNS * LABEL_W
        bottom = GRID_TOP + ROWS * LABEL_H
        pdf.set_line_width(MARK_WIDTH)
        for column in range(COLUMNS + 1):
            x = GRID_LEFT + column * LABEL_W
            pdf.line(x, GRID_TOP - MARK_GAP - MARK_LEN, x, GRID_TOP - MARK_GAP)
            pdf.line(x, bottom + MARK_GAP, x, bottom + MARK_GAP + MARK_LEN)
        for row in range(ROWS + 1):
            y = GRID_TOP + row * LABEL_H
            pdf.line(GRID_LEFT - MARK_GAP - MARK_LEN, y, GRID_LEFT - MARK_GAP, y)
            pdf.line(right + MARK_GAP, y, right + MARK_GAP + MARK_LEN, y)

    def label(self, label: Label, x: float, y: float) -> None:
        """`label` with its top left corner at (x, y)."""
        pdf = self.pdf
        code = qr_matrix(label.uri, error="m", micro=False)
        modules = len(code)
        symbol = QR_AREA * modules / (modules + 2 * QUIET_MODULES)
        quiet = (QR_AREA - symbol) / 2
        pdf.qr_code(code, x + (LABEL_W - QR_AREA) / 2 + quiet, y + QR_TOP + quiet, symbol)
        top = y + QR_TOP + QR_AREA
        self.font(SERIAL_PT, label.serial)
        pdf.set_xy(x + TEXT_PAD, top)
        pdf.cell(LABEL_W - 2 * TEXT_PAD, LINE_H, self.fitted(label.serial), align="C")
        for index, line in enumerate(label.lines):
            self.font(CAPTION_PT, line, bold=index == 0)
            pdf.set_xy(x + TEXT_PAD, top + (index + 1) * LINE_H)
            fitted = self.fitted(line, smallest=CAPTION_MIN_PT)
            pdf.cell(LABEL_W - 2 * TEXT_PAD, LINE_H, fitted, align="C")


def label_sheet_pdf(labels: Iterable[Label], *, title: str, author: str) -> bytes:
    """The PDF of `labels` in order, PER_PAGE a page, left to right and top to bottom, cut
    marks on every page (one page of cut marks when there is no label). `title` and `author`
    go in the document's properties, its language is Vietnamese. ValueError for a label with
    more than MAX_LINES caption lines."""
    sheet = _Sheet(title=title, author=author)
    count = 0
    for count, label in enumerate(labels, start=1):
        if len(label.lines) > MAX_LINES:
            raise ValueError(f"a label has at most {MAX_LINES} caption lines: {label.lines!r}")
        place = (count - 1) % PER_PAGE
        if place == 0:
            sheet.page()
        row, column = divmod(place, COLUMNS)
        sheet.label(label, GRID_LEFT + column * LABEL_W, GRID_TOP + row * LABEL_H)
    if count == 0:
        sheet.page()
    return page_bytes(sheet.pdf)
