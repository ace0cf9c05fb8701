"""The one-stop forms: issued by the actions, real text with Vietnamese diacritics (read
back by an independent PDF parser), downloadable by those entitled, and the register."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.test import Client
from pypdf import PdfReader

from flows import act, user
from test_submission import submission
from tinhso.dossiers.legal_forms import render_bm05
from tinhso.dossiers.models import DossierEvent
from tinhso.dossiers.services import dossier_submit

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_accepting_issues_bm01_with_the_appointment(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    moment = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    with mock.patch("django.utils.timezone.now", return_value=moment):
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    document = dossier.documents.get()
    assert document.kind == "BM01"
    response = login_client(user("tiepnhan.hacthanh")).get(
        f"/can-bo/ho-so/{dossier.code}/bieu-mau/{document.pk}/"
    )
    assert response["Content-Type"] == "application/pdf"
    text = text_of(b"".join(response.streaming_content))
    receiving = dossier.receiving_agency
    assert receiving.parent is not None
    for expected in [
        receiving.parent.name.upper(),  # the heading: the body above the ward's committee
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        dossier.code,
        "Nguyễn Văn An",
        "Thủ tục đăng ký khai sinh",
        "09 giờ 00 phút, ngày 02/03/2026",  # received
        "09 giờ 00 phút, ngày 03/03/2026",  # due: one working day later
    ]:
        assert expected in text, expected
    # The applicant downloads it from their own dossier; others cannot.
    mine = login_client(citizen).get(f"/ho-so-cua-toi/{dossier.public_id}/bieu-mau/{document.pk}/")
    assert mine.status_code == 200
    assert (
        login_client(user("tiepnhan"))
        .get(f"/can-bo/ho-so/{dossier.code}/bieu-mau/{document.pk}/")
        .status_code
        == 403
    )


def test_supplement_refusal_and_withdrawal_forms(citizen: Any) -> None:
    asked = dossier_submit(submission=submission(citizen))
    act(
        asked,
        "tiepnhan.hacthanh",
        "ask_supplement",
        note="Bổ sung bản sao Giấy chứng sinh có chứng thực",
    )
    assert "Bổ sung bản sao Giấy chứng sinh có chứng thực" in text_of(_bytes(asked.documents.get()))
    refused = dossier_submit(submission=submission(citizen))
    act(refused, "tiepnhan.hacthanh", "refuse", note="Không thuộc thẩm quyền giải quyết của phường")
    text = text_of(_bytes(refused.documents.get()))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Không thuộc thẩm quyền giải quyết của phường" in text
    withdrawn = dossier_submit(submission=submission(citizen))
    act(withdrawn, citizen, "withdraw")
    assert "THÔNG BÁO VỀ VIỆC DỪNG GIẢI QUYẾT HỒ SƠ" in text_of(_bytes(withdrawn.documents.get()))


def _bytes(document: Any) -> bytes:
    from tinhso.core.files import read_bytes

    return read_bytes(document.storage_name)


def test_bm05_records_each_hand_over_early_on_time_or_late(citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    specialist = user("chuyenvien.hacthanh")
    start = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    with mock.patch("django.utils.timezone.now", return_value=start):
        act(dossier, "tiepnhan.hacthanh", "accept")
        act(dossier, "tiepnhan.hacthanh", "assign", assignee=specialist)
    dossier.refresh_from_db()
    late = dossier.step_due_at + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=late):
        act(dossier, specialist, "forward")
    forward = DossierEvent.objects.get(dossier=dossier, action="forward")
    forward.at = late
    forward.save(update_fields=["at"])
    text = text_of(render_bm05(dossier))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    assert "Quá hạn" in text
    assert "Hoàng Văn Nam" in text  # the specialist, as giver or receiver


def test_the_register_bm06_is_an_excel_workbook(
    login_client: Any, citizen: Any, client: Client
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    response = login_client(user("tiepnhan.hacthanh")).get("/can-bo/so-theo-doi/")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[2][1] == "Mã hồ sơ"
    assert rows[3][1] == dossier.code
    assert rows[3][2] == "Thủ tục đăng ký khai sinh"
    assert (
        login_client(user("tiepnhan.hacthanh"))
        .get("/can-bo/so-theo-doi/", {"tu": "hôm qua"})
        .status_code
        == 400
    )
    assert login_client(citizen).get("/can-bo/so-theo-doi/").status_code == 403
    printed = login_client(user("tiepnhan.hacthanh")).get(
        "/can-bo/so-theo-doi/", {"dinh_dang": "pdf"}
    )
    assert printed["Content-Type"] == "application/pdf"
    text = text_of(printed.content)
    assert "SỔ THEO DÕI HỒ SƠ" in text
    assert dossier.code in text.replace("\n", "")


def test_documents_share_one_parsed_font_and_fall_back_to_the_whole_font() -> None:
    """Fonts are reduced to the Vietnamese repertoire and parsed once per process; each
    document embeds that reduced face (never the whole one), and a character outside the
    repertoire (a Greek or Cyrillic letter in a foreign name) is still written, in the whole
    font, subset for that document."""
    from django.utils import timezone

    from tinhso.core.pdf import OfficialDocument, in_repertoire

    def render(value: str) -> bytes:
        doc = OfficialDocument(
            superior="UBND tỉnh Thanh Hóa", agency="UBND phường Hạc Thành", number="1",
            place="Hạc Thành", date=timezone.localtime(), title="Giấy tiếp nhận hồ sơ",
        )  # fmt: skip
        doc.field("Ông/Bà", value)
        return doc.output()

    assert in_repertoire("Nguyễn Thị Ánh Tuyết — “Đường Lê Lợi”, 12 €")
    assert not in_repertoire("Σωκράτης")
    first, second = render("Nguyễn Thị Ánh Tuyết"), render("Trần Văn Ơn")
    assert "Nguyễn Thị Ánh Tuyết" in text_of(first)
    assert "Trần Văn Ơn" in text_of(second)
    reader = PdfReader(io.BytesIO(first))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = sorted(str(f.get_object()["/BaseFont"]) for f in fonts.values())
    assert all("DejaVuSerif" in name for name in names)
    assert len(first) < 40_000  # the reduced faces, not whole ones (the regular: 380 KB)
    # Documents rendered at once on several threads (gunicorn's) each keep their own text.
    names = [f"Nguyễn Văn {letter}" for letter in "ABCDEFGH"]
    with ThreadPoolExecutor(4) as pool:
        rendered = list(pool.map(render, names))
    assert [name in text_of(content) for name, content in zip(names, rendered, strict=True)] == [
        True
    ] * len(names)
    foreign = render("Σωκράτης Παπαδόπουλος")
    assert "Σωκράτης Παπαδόπουλος" in text_of(foreign)
    assert "Ông/Bà" in text_of(foreign)


def test_the_embedded_faces_draw_the_letters_their_text_says() -> None:
    """The preset faces' objects are built once per process, not by fpdf2: for every code a
    form uses, the glyph the CIDToGIDMap picks in the embedded program is the glyph of the
    character its ToUnicode entry names (a wrong map would print other letters under text
    that still copies right)."""
    import re

    from django.utils import timezone
    from fontTools import ttLib

    from tinhso.core.pdf import OfficialDocument

    doc = OfficialDocument(
        superior="UBND tỉnh Thanh Hóa", agency="UBND phường Hạc Thành", number="1",
        place="Hạc Thành", date=timezone.localtime(), title="Giấy tiếp nhận hồ sơ",
    )  # fmt: skip
    doc.field("Ông/Bà", "Nguyễn Thị Ánh Tuyết — “Đường Lê Lợi”, 12.500 đồng, № 7, 25°C, 5 €")
    reader = PdfReader(io.BytesIO(doc.output()))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    checked = 0
    for font in fonts.values():
        font = font.get_object()
        cid_font = font["/DescendantFonts"][0].get_object()
        program = ttLib.TTFont(io.BytesIO(cid_font["/FontDescriptor"]["/FontFile2"].get_data()))
        order, cmap = program.getGlyphOrder(), program.getBestCmap()
        gids = cid_font["/CIDToGIDMap"].get_data()
        to_unicode = font["/ToUnicode"].get_data().decode("latin-1")
        entries = "".join(re.findall(r"beginbfchar(.*?)endbfchar", to_unicode, re.S))
        pairs = re.findall(r"<([0-9A-F]{4})> <([0-9A-F]{4})>", entries)
        assert len(pairs) > 200  # the whole repertoire has codes
        for code_hex, unicode_hex in pairs:
            code, char = int(code_hex, 16), int(unicode_hex, 16)
            if char == 0:  # .notdef
                continue
            gid = int.from_bytes(gids[2 * code : 2 * code + 2], "big")
            assert order[gid] == cmap[char], (hex(char), order[gid], cmap[char])
            checked += 1
        assert str(font["/BaseFont"]).startswith("/MPDFAA+DejaVuSerif")
    assert checked > 400  # both faces


def test_lines_break_at_spaces_within_the_room_and_cut_words_too_long() -> None:
    from tinhso.core.pdf import FAMILY, OfficialDocument

    doc = OfficialDocument(
        superior="UBND tỉnh", agency="UBND xã", number="1", place="Xã",
        date=datetime(2026, 5, 4, tzinfo=UTC), title="Giấy",
    )  # fmt: skip
    pdf = doc.pdf
    pdf.set_font(FAMILY, "", 11)
    text = "Nội dung của giấy tiếp nhận hồ sơ, trình bày như thật, " * 6 + "\nDòng mới"
    lines = pdf.lines(text, 80)
    assert all(pdf.width_of(line) <= 80 for line in lines)
    assert len(lines) > 4
    assert lines[-1] == "Dòng mới"
    assert " ".join(" ".join(lines[:-1]).split()) == " ".join(text.split("\n")[0].split())
    long = "0123456789" * 20  # an address or a code with no space in it
    pieces = pdf.lines(long, 50)
    assert "".join(pieces) == long
    assert len(pieces) > 2
    assert all(pdf.width_of(piece) <= 50 for piece in pieces)
    assert pdf.lines("", 50) == [""]
    # As multi_cell: a textarea's CRLF is a line break, a last line break adds no line.
    assert pdf.lines("Dòng một\r\nDòng hai\r\n", 80) == ["Dòng một", "Dòng hai"]


def test_a_long_table_repeats_its_headings_and_a_row_taller_than_a_page_is_refused() -> None:
    from fpdf.errors import FPDFException

    from tinhso.core.pdf import OfficialDocument

    def document() -> OfficialDocument:
        return OfficialDocument(
            superior="UBND tỉnh", agency="UBND xã", number="1", place="Xã",
            date=datetime(2026, 5, 4, tzinfo=UTC), title="Sổ theo dõi",
        )  # fmt: skip

    doc = document()
    rows = [
        [str(n), "Giấy chứng sinh hoặc văn bản của người làm chứng " * (n % 3)] for n in range(80)
    ]
    doc.table(["STT", "Tên giấy tờ"], rows, [15, 85])
    reader = PdfReader(io.BytesIO(doc.output()))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 1
    assert all("Tên giấy tờ" in text for text in pages)  # the headings on every page
    numbers = {line.split()[0] for text in pages for line in text.splitlines() if line.strip()}
    assert {str(n) for n in range(80)} <= numbers
    doc = document()
    with pytest.raises(FPDFException):
        doc.table(["A", "B"], [["x", "chữ " * 3000]], [50, 50])
    # A row typed outside the repertoire (decomposed accents, as some phones send them, a
    # narrow no-break space, a Turkish name) is written in the whole face, headings too.
    import unicodedata

    doc = document()
    name = unicodedata.normalize("NFD", "Nguyễn Thị Hương")
    doc.table(["Họ và tên", "Ghi chú"], [[name, "12\u202f500 đồng"], ["Ayşe", "—"]], [50, 50])
    text = unicodedata.normalize("NFC", text_of(doc.output()))
    assert "Nguyễn Thị Hương" in text
    assert "Ayşe" in text


def test_the_verification_qr_code_is_drawn_module_for_module(in_ci: bool, tmp_path: Any) -> None:
    """The QR code in a form's footer is drawn as vectors: rasterised by poppler (a renderer
    nobody here wrote) at 300 dpi, the centre of each module is dark exactly where the QR
    symbol of the form's verification address has a dark module, and the 4 modules of quiet
    zone around it are white."""
    import subprocess

    import segno
    from django.utils import timezone
    from PIL import Image

    from test_signing import need
    from tinhso.core.pdf import QR_SIZE, OfficialDocument

    url = "https://dichvucong.thanhhoa.gov.vn/xac-thuc/AbCdEfGh12345678/"
    doc = OfficialDocument(
        superior="UBND tỉnh Thanh Hóa", agency="UBND phường Hạc Thành", number="1",
        place="Hạc Thành", date=timezone.localtime(), title="Giấy tiếp nhận hồ sơ",
        verification_url=url,
    )  # fmt: skip
    doc.field("Ông/Bà", "Nguyễn Thị Ánh Tuyết")
    (tmp_path / "form.pdf").write_bytes(doc.output())
    subprocess.run(
        [need("pdftoppm", in_ci), "-r", "300", "-gray", "-png", "-f", "1", "-l", "1",
         "-singlefile", str(tmp_path / "form.pdf"), str(tmp_path / "page")],
        check=True, timeout=60,
    )  # fmt: skip
    page = Image.open(tmp_path / "page.png").convert("L")
    matrix = segno.make(url, error="m").matrix
    n = len(matrix)
    dots = 300 / 25.4  # pixels per mm
    module = QR_SIZE / n * dots
    left, top = doc.pdf.l_margin * dots, (doc.pdf.h - 8 - QR_SIZE) * dots
    assert module > 5  # several pixels per module: the centres are unambiguous

    def dark(row: int, col: int) -> bool:
        x, y = left + (col + 0.5) * module, top + (row + 0.5) * module
        return page.getpixel((round(x), round(y))) < 128  # type: ignore[operator]

    drawn = [[dark(r, c) for c in range(n)] for r in range(n)]
    assert drawn == [[bool(v) for v in row] for row in matrix]
    around = [(r, c) for r in range(-4, n + 4) for c in range(-4, n + 4)]
    assert not any(dark(r, c) for r, c in around if not (0 <= r < n and 0 <= c < n))
