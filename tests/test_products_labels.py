"""Sheets of stamps (products.labels) as a printer gets them: rasterised at 300 dpi by
poppler's pdftoppm, every QR code read back by zbar's zbarimg, the text read back by
pdftotext. No database."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import segno
from PIL import Image
from pypdf import PdfReader

from tinhso.products.gs1 import dl_parse, dl_uri, gtin_from_prefix, serial_new
from tinhso.products.labels import (
    COLUMNS,
    GRID_LEFT,
    GRID_TOP,
    LABEL_H,
    LABEL_W,
    MAX_LINES,
    PER_PAGE,
    QR_AREA,
    Label,
    label_sheet_pdf,
)

BASE = "https://tinhso.example"
TOOLS = ("pdftoppm", "zbarimg", "pdftotext")
DPI = 300


def _labels(count: int) -> list[Label]:
    labels = []
    for index in range(count):
        gtin = gtin_from_prefix("8931234", index % 7)
        lot = f"L2026-{index % 3:02d}.A_{index}"
        serial = serial_new()
        lines: tuple[str, ...] = (
            "Mật ong hoa cà phê Buôn Ma Thuột, loại đặc biệt, chai thủy tinh 500 ml",
            f"Lô {lot}",
            "NSX 01/11/2026 · HSD 31/12/2027",
        )
        if index == 5:  # a character outside the repertoire: set in the whole font
            lines = ("Trà Shan tuyết → hộp 100 g", "Lô A · HSD 01/06/2027")
        labels.append(Label(uri=dl_uri(BASE, gtin, lot, serial), serial=serial, lines=lines))
    return labels


def _tools() -> dict[str, str]:
    """Where poppler's and zbar's programs are; the test is skipped without them."""
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    return {tool: path for tool, path in found.items() if path is not None}


def test_every_qr_code_of_a_sheet_reads_back(tmp_path: Path) -> None:
    """Each label's square of the page at 300 dpi, cut out, holds its own URI: zbar reads
    every one. (zbar given a whole page of 32 codes misses one now and then, confusing the
    finder patterns of neighbouring codes: a limit of its search, not of the codes.)"""
    tools = _tools()
    labels = _labels(40)
    pdf = label_sheet_pdf(labels, title="Tem truy xuất nguồn gốc", author="HTX Mật ong Ea Tu")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # 32 and 8
    assert PER_PAGE == 32
    assert reader.metadata is not None
    assert reader.metadata.title == "Tem truy xuất nguồn gốc"
    assert reader.metadata.author == "HTX Mật ong Ea Tu"
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    sheet, page = str(tmp_path / "sheet.pdf"), str(tmp_path / "page")
    subprocess.run([tools["pdftoppm"], "-r", str(DPI), "-png", sheet, page], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2
    px = DPI / 25.4  # pixels a millimetre
    decoded: list[str] = []
    for index in range(len(labels)):
        row, column = divmod(index % PER_PAGE, COLUMNS)
        x, y = GRID_LEFT + column * LABEL_W, GRID_TOP + row * LABEL_H
        with Image.open(pages[index // PER_PAGE]) as image:
            box = (
                round(x * px),
                round(y * px),
                round((x + LABEL_W) * px),
                round((y + LABEL_H) * px),
            )
            image.crop(box).save(tmp_path / "label.png")
        out = subprocess.run(
            [tools["zbarimg"], "--raw", "-q", str(tmp_path / "label.png")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        decoded += out.stdout.splitlines() or ["(not read)"]
    assert decoded == [label.uri for label in labels]
    for uri, label in zip(decoded, labels, strict=True):
        assert dl_parse(uri.removeprefix(BASE)).serial == label.serial
    # Each symbol is 18 mm or more, its quiet zone of 4 modules within QR_AREA.
    for label in labels:
        modules = len(segno.make(label.uri, error="m", micro=False).matrix)
        assert QR_AREA * modules / (modules + 8) >= 18


def test_the_text_of_a_sheet_is_real_text(tmp_path: Path) -> None:
    tools = _tools()
    labels = _labels(6)
    # 44.3 mm wide at 6 pt, on a label of 43: set smaller rather than cut.
    slightly_wide = "Lô: L2026-11 · HSD: 31/12/2027 · 500 ml"
    labels[2] = replace(labels[2], lines=("Mật ong", slightly_wide))
    (tmp_path / "sheet.pdf").write_bytes(label_sheet_pdf(labels, title="Tem", author="HTX"))
    out = subprocess.run(
        [tools["pdftotext"], "-layout", str(tmp_path / "sheet.pdf"), "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = out.stdout
    for label in labels:
        assert label.serial in text
    assert "Mật ong hoa cà phê Buôn Ma Thuột,…" in text  # set smaller, then cut
    assert text.count("NSX 01/11/2026 · HSD 31/12/2027") == 4
    assert "Trà Shan tuyết → hộp 100 g" in text
    assert "Lô A · HSD 01/06/2027" in text
    assert slightly_wide in text


def test_a_long_lot_and_both_dates_fit_on_a_label(tmp_path: Path) -> None:
    tools = _tools()
    lines = (
        "Mật ong hoa cà phê",
        "Lô L2026-11-ABCDEFGHIJK",  # 20 characters, as long as a lot may be
        "NSX 01/11/2026 · HSD 31/12/2027",
    )
    uri = dl_uri(BASE, "09312345678907", "L2026-11-ABCDEFGHIJK", "S1")
    pdf = label_sheet_pdf([Label(uri=uri, serial="S1", lines=lines)], title="Tem", author="HTX")
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    out = subprocess.run(
        [tools["pdftotext"], str(tmp_path / "sheet.pdf"), "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split("\n")[:4] == ["S1", *lines]


def test_a_sheet_without_labels_is_one_page_of_cut_marks() -> None:
    reader = PdfReader(io.BytesIO(label_sheet_pdf([], title="Tem", author="HTX")))
    assert len(reader.pages) == 1


def test_a_label_has_at_most_three_caption_lines() -> None:
    label = Label(uri=dl_uri(BASE, "09312345678907", "L1", "S1"), serial="S1", lines=("a",) * 3)
    assert MAX_LINES == 3
    label_sheet_pdf([label], title="Tem", author="HTX")
    with pytest.raises(ValueError, match="caption lines"):
        label_sheet_pdf([replace(label, lines=("a",) * 4)], title="Tem", author="HTX")


def test_a_generator_of_labels_is_drawn_page_after_page() -> None:
    pdf = label_sheet_pdf(iter(_labels(PER_PAGE * 2 + 1)), title="Tem", author="HTX")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
