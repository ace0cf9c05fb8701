"""Vietnamese administrative documents as PDF (layout of Decree 30/2020/NĐ-CP): the
agency heading and the national heading side by side, number and place-date line, title,
body, tables and signature blocks. Text is real text in an embedded Unicode font (DejaVu
Serif, shipped in core/fonts), so it can be copied, searched and read by screen readers.

Fonts cost more than the rest of a form when parsed or cut for each one (ADR 0024, ADR
0030): each face is reduced once per process to the characters of Vietnamese text
(`REPERTOIRE`, about 260 glyphs), parsed once, and its PDF objects (the font program
compressed, widths, ToUnicode and CIDToGIDMap) built once; every document embeds that
program as it is (`_Producer`), so no document cuts a subset. A string with a character
outside the repertoire is written in the whole font, which fpdf2 subsets for that document
only. Lines are broken here (`_Page.lines`) from the face's widths: fpdf2's
`multi_cell` measured every character through its text-fragment machinery, a third of a
form's time.

A document's first digital signature can be written with it (`output_to_sign`, ADR 0034):
the signature field, its widget and its signature dictionary are laid out by fpdf2 with
room for the CMS container, the visible stamp is drawn on the page, and the caller (the
signing module, through pyHanko) hashes the byte range and puts the container into that
room. Later signatures are incremental updates by pyHanko.
"""

from __future__ import annotations

import copy
import io
import threading
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fontTools import subset as ft_subset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.annotations import PDFAnnotation
from fpdf.enums import Align, AnnotationFlag, CharVPos, SignatureFlag, TextMode, XPos, YPos
from fpdf.errors import FPDFException
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import AcroForm, CIDSystemInfo, OutputProducer, PDFFont
from fpdf.syntax import Name, PDFArray, PDFContentStream, PDFDate, PDFObject, PDFString, Raw

from tinhso.core.qr import qr_matrix

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVuSerif"
FULL_FAMILY = "DejaVuSerifFull"
FACES = {"": "DejaVuSerif.ttf", "B": "DejaVuSerif-Bold.ttf"}
# What Vietnamese text uses: ASCII, Latin-1 (× ° ² « » and the French-style letters of
# names), the letters Ă Đ Ĩ Ũ Ơ Ư, the Vietnamese block of Latin Extended Additional (Ạ…ỹ),
# the five tone marks as combining characters (text typed on some phones), dashes, quotes,
# ellipsis, bullet, € № (DejaVu Serif has no ₫: amounts are written "đồng").
REPERTOIRE = (
    (0x20, 0x7E), (0xA0, 0xFF), (0x102, 0x103), (0x110, 0x111), (0x128, 0x129),
    (0x168, 0x169), (0x1A0, 0x1A1), (0x1AF, 0x1B0), (0x300, 0x301), (0x303, 0x303),
    (0x309, 0x309), (0x323, 0x323), (0x1EA0, 0x1EF9), (0x2013, 0x2014), (0x2018, 0x2019),
    (0x201C, 0x201D), (0x2022, 0x2022), (0x2026, 0x2026), (0x20AC, 0x20AC), (0x2116, 0x2116),
)  # fmt: skip
_IN_REPERTOIRE = frozenset(c for low, high in REPERTOIRE for c in range(low, high + 1))
_IN_REPERTOIRE |= {0x0A, 0x0D, 0x09}  # line breaks and tabs are layout, not glyphs
_REPERTOIRE_CHARS = frozenset(map(chr, _IN_REPERTOIRE))
_FACE_LOCK = threading.Lock()


def in_repertoire(text: str) -> bool:
    return _REPERTOIRE_CHARS.issuperset(text)


@cache
def _repertoire_bytes(filename: str) -> bytes:
    """The face reduced to the repertoire (about 260 glyphs of 3,500), as a TTF."""
    options = ft_subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM", "MATH"]
    options.hinting = False
    options.notdef_outline = True
    face = ttLib.TTFont(str(FONTS / filename), recalcTimestamp=False)
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(_IN_REPERTOIRE))
    subsetter.subset(face)
    out = io.BytesIO()
    face.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class _Preset:
    """A face as every document embeds it: parsed once, every character of the repertoire
    given its code in a fixed order, and the PDF font objects' contents built once."""

    face: TTFFont
    codes: SubsetMap  # codes of every repertoire character; a document copies it
    count: int  # how many glyphs have codes: a document that adds one goes to fpdf2
    program: bytes  # the TTF, compressed
    program_length: int
    widths: str  # /W
    to_unicode: bytes  # compressed CMap
    cid_to_gid: bytes  # compressed
    # Each character of the repertoire that has a glyph, and the code it is written with
    # (as `str.translate` takes them); `coded` the same characters.
    translation: dict[int, str]
    coded: frozenset[str]


def _preset(style: str) -> _Preset:
    with _FACE_LOCK:
        return _preset_locked(style)


def _compressed_stream(data: bytes, **entries: object) -> PDFContentStream:
    stream = PDFContentStream(contents=data)
    stream.filter = Name("FlateDecode")
    for key, value in entries.items():
        setattr(stream, key, value)
    return stream


@cache
def _preset_locked(style: str) -> _Preset:
    data = _repertoire_bytes(FACES[style])
    face = TTFFont(FPDF(), io.BytesIO(data), f"{FAMILY.lower()}{style}", style)  # type: ignore[arg-type]
    codes = SubsetMap(face)
    for char in sorted(_IN_REPERTOIRE):
        if char in face.glyph_ids:
            codes.pick(char)
    glyphs = sorted((code, glyph) for glyph, code in codes.items() if glyph is not None)
    widths = " ".join(f"{code} [{glyph.glyph_width}]" for code, glyph in glyphs)
    cmap = [
        f"<{code:04X}> <{''.join(f'{u:04X}' for u in glyph.unicode)}>"
        for code, glyph in glyphs
        if isinstance(glyph.unicode, tuple) and glyph.unicode
    ]
    blocks = "".join(
        f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n"
        for chunk in (cmap[i : i + 100] for i in range(0, len(cmap), 100))
    )
    to_unicode = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    )
    program = ttLib.TTFont(io.BytesIO(data), lazy=True)  # ids by name, as fpdf2 finds them
    gids = bytearray(2 * (glyphs[-1][0] + 1))
    for code, glyph in glyphs:
        gids[2 * code : 2 * code + 2] = program.getGlyphID(glyph.glyph_name).to_bytes(2, "big")
    translation = {}
    for char in sorted(_IN_REPERTOIRE):
        picked = codes.pick(char)  # given above: picked again, nothing changes
        if picked:
            translation[char] = chr(picked)
    SubsetMap.pick.cache_clear()
    SubsetMap.get_glyph.cache_clear()
    return _Preset(
        face=face, codes=codes, count=len(codes), program=zlib.compress(data, 9),
        program_length=len(data), widths=f"[{widths}]",
        to_unicode=zlib.compress(to_unicode.encode("latin-1"), 9),
        cid_to_gid=zlib.compress(bytes(gids), 9), translation=translation,
        coded=frozenset(map(chr, translation)),
    )  # fmt: skip


def _face_for(pdf: FPDF, style: str) -> TTFFont:
    """A document's own copy of the preset face: shared metrics and program, its own copy of
    the codes (fpdf2 adds to it when a character outside the repertoire slips through, and
    the document then cuts its own subset)."""
    preset = _preset(style)
    shared = preset.face
    face = copy.copy(shared)
    face.i = len(pdf.fonts) + 1
    face.cw = defaultdict(shared.cw.default_factory, shared.cw)  # type: ignore[attr-defined]
    face.desc = copy.copy(shared.desc)  # numbered and named when the document is written
    face.missing_glyphs = []
    face.biggest_size_pt = 0
    codes = copy.copy(preset.codes)
    codes.font = face
    codes._reserved = list(preset.codes._reserved)
    codes._char_id_per_glyph = dict(preset.codes._char_id_per_glyph)
    face.subset = codes
    if isinstance(pdf, _Page):
        pdf.preset_codes[face.fontkey] = preset
    return face


class _Producer(OutputProducer):
    """fpdf2's writer, except that a preset face whose codes a document did not extend is
    written from its preset objects instead of being cut into a subset."""

    def _add_fonts(self, *args: Any) -> dict[int, Any]:
        fonts = self.fpdf.fonts
        preset: dict[str, tuple[TTFFont, _Preset]] = {}
        for key, font in fonts.items():
            style = key.removeprefix(FAMILY.lower())
            if key.startswith(FAMILY.lower()) and style in FACES and isinstance(font, TTFFont):
                shape = _preset(style)
                if len(font.subset) == shape.count and not font.missing_glyphs:
                    preset[key] = (font, shape)
                else:  # fpdf2 cuts this document's subset out of its own program
                    data = _repertoire_bytes(FACES[style])
                    font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False)
        for key in preset:  # fpdf2 writes every font of its registry: lend it the others
            del fonts[key]
        try:
            objects = super()._add_fonts(*args)
        finally:
            fonts.update({key: font for key, (font, _shape) in preset.items()})
        for font, shape in preset.values():
            objects[font.i] = self._add_preset(font, shape)
        SubsetMap.pick.cache_clear()  # fpdf2's caches hold every document's codes otherwise
        SubsetMap.get_glyph.cache_clear()
        return objects

    def _add_annotations_as_objects(self) -> Any:
        """A signature dictionary is an indirect object of its own (the widget's /V)."""
        found = super()._add_annotations_as_objects()
        widgets = getattr(self.fpdf, "signature_widgets", [])
        for widget in widgets:
            if isinstance(widget.v, PDFObject):
                self._add_pdf_obj(widget.v, "annotations")
        for page in self.fpdf.pages.values():  # a field's widget names its page (/P)
            for annotation in page.annots or ():
                if any(annotation is widget for widget in widgets):
                    annotation.p = page
        return found

    def _finalize_catalog(self, catalog_obj: Any, *args: Any, **kwargs: Any) -> None:
        """fpdf2 lists only a signed field in the AcroForm; the empty fields kept for
        later signatures are fields too (pyHanko finds them there by name)."""
        super()._finalize_catalog(catalog_obj, *args, **kwargs)
        widgets = getattr(self.fpdf, "signature_widgets", [])
        if widgets:
            catalog_obj.acro_form = AcroForm(
                fields=PDFArray(widgets),
                sig_flags=SignatureFlag.SIGNATURES_EXIST + SignatureFlag.APPEND_ONLY,
            )
        if any(isinstance(widget.v, _Signature) for widget in widgets):
            # ETSI EN 319 142-1: a PAdES signature declares the ESIC extension (PDF 1.7).
            catalog_obj.extensions = Raw(
                "<< /ESIC << /Type /DeveloperExtensions /BaseVersion /1.7 /ExtensionLevel 1 >> >>"
            )

    def _add_preset(self, font: TTFFont, shape: _Preset) -> PDFFont:
        name = f"MPDFAA+{font.name}"
        composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2", base_font=name, d_w=font.desc.missing_width, w=shape.widths
        )
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = _compressed_stream(shape.to_unicode)
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system = CIDSystemInfo()
        self._add_pdf_obj(system, "fonts")
        cid_font.c_i_d_system_info = system
        descriptor = font.desc
        descriptor.font_name = Name(name)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_to_gid = _compressed_stream(shape.cid_to_gid)
        self._add_pdf_obj(cid_to_gid, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid
        program = _compressed_stream(shape.program, length1=shape.program_length)
        self._add_pdf_obj(program, "fonts")
        descriptor.font_file2 = program  # type: ignore[attr-defined]
        return composite


LEFT_COLUMN = 80.0
MM = 72 / 25.4  # PDF points per millimetre
QR_SIZE = 20.0


@dataclass(frozen=True)
class SignatureField:
    """A signature field: its name and where its widget lies (page from 0; x1, y1, x2, y2
    in points from the bottom left of the page)."""

    name: str
    page: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class SignatureToWrite:
    """The signature written with the document: its field, the signature dictionary's
    entries (ISO 32000-1 §12.8.1; /SubFilter ETSI.CAdES.detached, ETSI EN 319 142-1), the
    lines of the visible stamp, and the bytes the CMS container may take."""

    field: SignatureField
    moment: datetime
    name: str
    reason: str
    location: str
    stamp: tuple[str, ...]
    room: int


_BYTE_RANGE_ROOM = "[0000000000 0000000000 0000000000 0000000000]"


@dataclass(frozen=True)
class PreparedPdf:
    """A document written with its signature dictionary, the byte range filled in and the
    /Contents hex string still zeros: `signed_parts` are what the signature covers (all
    but that string), `with_contents` puts the DER container in."""

    data: bytes
    byte_range: tuple[int, int, int, int]

    def signed_parts(self) -> tuple[memoryview, memoryview]:
        view = memoryview(self.data)
        a, b, c, d = self.byte_range
        return view[a : a + b], view[c : c + d]

    def with_contents(self, der: bytes) -> bytes:
        start, end = self.byte_range[1] + 1, self.byte_range[2] - 1  # inside < >
        digits = der.hex().encode("ascii")
        if len(digits) > end - start:
            raise ValueError(f"the signature ({len(der)} bytes) exceeds its room")
        return self.data[:start] + digits.ljust(end - start, b"0") + self.data[end:]


class _Signature(PDFObject):
    """The signature dictionary (an indirect object, as validators expect), as PAdES wants
    it, with room for `room` bytes of container."""

    def __init__(self, spec: SignatureToWrite) -> None:
        super().__init__()
        self.type = Name("Sig")
        self.filter = Name("Adobe.PPKLite")
        self.sub_filter = Name("ETSI.CAdES.detached")
        self.m = PDFDate(spec.moment, with_tz=True)
        self.name = PDFString(spec.name) if spec.name else None
        self.reason = PDFString(spec.reason) if spec.reason else None
        self.location = PDFString(spec.location) if spec.location else None
        self.byte_range = _BYTE_RANGE_ROOM
        self.contents = "<" + "0" * (2 * spec.room) + ">"


@dataclass(frozen=True)
class SignatureBlock:
    """A signature block: the role line, the signer's name, and (for a digital signature)
    the name of the slot the signature's visible box goes into."""

    role: str
    name: str
    slot: str = ""


_PLAIN_ALIGN = (Align.L, Align.C, Align.R)
_PLAIN_X = (XPos.RIGHT, XPos.LEFT, XPos.LMARGIN)
_PLAIN_Y = (YPos.TOP, YPos.NEXT)


class _Page(FPDF):
    """FPDF with the verification QR code in the footer of the first page, and lines broken
    from the current face's widths (`block`)."""

    verification_url = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signature_widgets: list[PDFAnnotation] = []
        # The preset faces this document uses, by font key (`_face_for`): the codes of
        # their repertoire characters are the preset's whatever else the document adds.
        self.preset_codes: dict[str, _Preset] = {}

    def cell(
        self,
        w: float | None = None,
        h: float | None = None,
        text: str = "",
        border: Any = 0,
        ln: Any = "DEPRECATED",
        align: str | Align = Align.L,
        fill: bool = False,
        link: Any = "",
        center: bool = False,
        markdown: bool = False,
        new_x: str | XPos = XPos.RIGHT,
        new_y: str | YPos = YPos.TOP,
        **deprecated: Any,
    ) -> bool:
        """fpdf2's `cell`, with a short way for what forms are made of: a line of plain
        text in a TrueType face, no border, fill or link, left, centred or right. fpdf2
        builds text fragments and a graphics state for every cell, half of a form's layout
        (issue 15); this writes the very operators fpdf2 writes for such a cell
        (tests/test_pdf_cells.py compares whole documents byte for byte)."""
        font = self.current_font
        align, new_x, new_y = Align.coerce(align), XPos.coerce(new_x), YPos.coerce(new_y)
        if (
            deprecated or not text or w is None or h is None or border or fill or link
            or center or markdown or ln != "DEPRECATED" or self.page == 0
            or not isinstance(font, TTFFont) or font.is_symbol or font.color_font
            or self.text_shaping or self._fallback_font_ids or self.underline
            or self.strikethrough or self.char_spacing or self.font_stretching != 100
            or self.text_mode != TextMode.FILL or self.char_vpos != CharVPos.LINE
            or self._record_text_quad_points or self.text_color != self.fill_color
            or (self.str_alias_nb_pages and self.str_alias_nb_pages in text)
            or align not in _PLAIN_ALIGN or new_x not in _PLAIN_X or new_y not in _PLAIN_Y
        ):  # fmt: skip
            return super().cell(
                w, h, text, border, ln, align, fill, link, center, markdown, new_x, new_y,
                **deprecated,
            )  # fmt: skip
        if w == 0:
            w = self.w - self.r_margin - self.x
        size = self.font_size_pt
        if size > font.biggest_size_pt:  # as get_text_width, without a call per character
            font.biggest_size_pt = size
        width = sum(map(font.cw.__getitem__, map(ord, text))) * size * 0.001 / self.k
        broke = self._perform_page_break_if_need_be(h)
        if align == Align.R:
            dx = w - self.c_margin - width
        elif align == Align.C:
            dx = (w - width) / 2
        else:
            dx = self.c_margin
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(font, self.font_size_pt))
        preset = self.preset_codes.get(font.fontkey)
        if preset is not None and preset.coded.issuperset(text):
            codes = text.translate(preset.translation)
        else:  # a character the preset did not code: fpdf2 picks (and records) it
            pick = font.subset.pick
            codes = "".join(chr(code) for code in map(pick, map(ord, text)) if code)
        k = self.k
        self._out(
            f"BT {(self.x + dx) * k:.2f} "
            f"{(self.h - self.y - 0.5 * h - 0.3 * self.font_size) * k:.2f} Td "
            f"({font.escape_text(codes)}) Tj ET"
        )
        self._lasth = h
        if new_x == XPos.RIGHT:
            self.x += w
        elif new_x == XPos.LMARGIN:
            self.x = self.l_margin
        if new_y == YPos.NEXT:
            self.y += h
        return broke

    def _widths(self) -> dict[int, float]:
        font = self.current_font
        if not isinstance(font, TTFFont):  # a form is set in TrueType faces only
            raise TypeError(f"not a TrueType face: {font}")
        return font.cw

    def width_of(self, text: str) -> float:
        """The width of `text` in the current font, in mm (no spacing or stretching set)."""
        widths = self._widths()
        return sum(map(widths.__getitem__, map(ord, text))) * self.font_size_pt * 0.001 / self.k

    def lines(self, text: str, room: float) -> list[str]:
        """`text` broken into lines at most `room` mm wide: at spaces, a word wider than a
        line at any character; each "\n" starts a line."""
        widths = self._widths()
        scale = self.font_size_pt * 0.001 / self.k
        room = room / scale  # compare in the font's units
        space = widths[32]
        out: list[str] = []
        # As multi_cell: carriage returns dropped (browsers send CRLF), no line after a last
        # line break.
        text = text.replace("\r", "")
        text = text.removesuffix("\n")
        for paragraph in text.split("\n"):
            line: list[str] = []
            used = 0.0
            for word in paragraph.split(" "):
                wide = sum(map(widths.__getitem__, map(ord, word)))
                if line and used + space + wide <= room:
                    line.append(word)
                    used += space + wide
                    continue
                if line:
                    out.append(" ".join(line))
                while wide > room and len(word) > 1:  # a word longer than the line
                    cut, taken = 0, 0.0
                    while cut < len(word) - 1 and taken + widths[ord(word[cut])] <= room:
                        taken += widths[ord(word[cut])]
                        cut += 1
                    out.append(word[: max(cut, 1)])
                    word = word[max(cut, 1) :]
                    wide = sum(map(widths.__getitem__, map(ord, word)))
                line, used = [word], wide
            out.append(" ".join(line))
        return out

    def block(
        self, w: float, h: float, text: str, align: str = "L", new_x: XPos = XPos.RIGHT
    ) -> None:
        """What `multi_cell(w, h, text, align=align, new_x=new_x, new_y=YPos.NEXT)` draws:
        lines under each other from the current x (w = 0: to the right margin)."""
        left = self.get_x()
        width = w or (self.w - self.r_margin - left)
        for line in self.lines(text, width - 2 * self.c_margin):
            self.set_x(left)
            self.cell(width, h, line, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT)
        if new_x is XPos.LMARGIN:
            self.set_x(self.l_margin)
        elif new_x is XPos.RIGHT:
            self.set_x(left + width)
        else:
            self.set_x(left)

    def qr_code(self, rows: Sequence[bytes | bytearray], x: float, y: float, size: float) -> None:
        """`code` drawn as vectors, `size` mm square with its top left corner at (x, y): one
        filled path of a rectangle per run of dark modules in a row. Sharp at any zoom and
        in print, and cheap: as a picture it was written to PNG, read back by PIL and
        re-encoded by fpdf2, a fifth of a form's time (issue 15). The quiet zone is the
        page's white around it (callers keep 4 modules clear)."""
        unit = size / len(rows) * self.k  # points per module
        left, top = x * self.k, (self.h - y) * self.k
        path = []
        for r, row in enumerate(rows):
            c, n = 0, len(row)
            while c < n:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < n and row[c]:
                    c += 1
                path.append(
                    f"{left + start * unit:.3f} {top - (r + 1) * unit:.3f} "
                    f"{(c - start) * unit:.3f} {unit:.3f} re"
                )
        # Saved and restored graphics state: the black fill does not leak into the page.
        self._out("q 0 g " + " ".join(path) + " f Q")

    def footer(self) -> None:
        if not self.verification_url or self.page_no() != 1:
            return
        top = self.h - 8 - QR_SIZE
        self.qr_code(qr_matrix(self.verification_url), self.l_margin, top, QR_SIZE)
        self.set_xy(self.l_margin + QR_SIZE + 3, top + 3)
        self.set_font(FAMILY, "", 8)
        self.block(
            self.w - self.l_margin - self.r_margin - QR_SIZE - 3,
            4,
            "Văn bản điện tử được ký số. Quét mã QR hoặc truy cập địa chỉ sau để xác thực "
            f"chữ ký số:\n{self.verification_url}",
        )


def plain_page(*, landscape: bool = False) -> _Page:
    """An empty A4 document in mm for other modules to draw on (the products' label
    sheets): the faces of FAMILY registered as OfficialDocument registers them, margins 0,
    no automatic page break, no verification footer. The caller adds its pages; `page_bytes`
    writes it."""
    pdf = _Page(orientation="L" if landscape else "P", format="A4", unit="mm")
    pdf.set_margins(0, 0, 0)
    pdf.set_auto_page_break(auto=False)
    for style in FACES:
        pdf.fonts[f"{FAMILY.lower()}{style}"] = _face_for(pdf, style)
    return pdf


def page_bytes(pdf: _Page) -> bytes:
    """The PDF of a document from `plain_page`, its faces written as OfficialDocument's are."""
    return bytes(pdf.output(output_producer_class=_Producer))


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
            self.pdf.block(0, 5, banner, align="C", new_x=XPos.LMARGIN)
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
        self._text(10, text=superior.upper())
        pdf.block(LEFT_COLUMN, 5, superior.upper(), align="C", new_x=XPos.LMARGIN)
        self._text(10, bold=True, text=agency.upper())
        pdf.block(LEFT_COLUMN, 5, agency.upper(), align="C", new_x=XPos.LMARGIN)
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
        motto_w = pdf.width_of("Độc lập - Tự do - Hạnh phúc")
        y = pdf.get_y() + 0.5
        pdf.line(right_x + (right_w - motto_w) / 2, y, right_x + (right_w + motto_w) / 2, y)
        pdf.set_xy(right_x, y + 4)
        self._text(10, text=place)
        pdf.cell(right_w, 5, vn_date_line(place, date), align="C")
        pdf.set_y(max(left_bottom, pdf.get_y() + 5) + 6)

    def _title(self, title: str, subtitle: str) -> None:
        if not title and not subtitle:  # a công văn: its subject is under its number
            self.pdf.ln(2)
            return
        self._text(13, bold=True, text=title.upper())
        self.pdf.block(0, 7, title.upper(), align="C", new_x=XPos.LMARGIN)
        if subtitle:
            self._text(11, text=subtitle)
            self.pdf.block(0, 6, subtitle, align="C", new_x=XPos.LMARGIN)
        self.pdf.ln(4)

    def paragraph(self, text: str, *, bold: bool = False, size: float = 11) -> None:
        self._text(size, bold, text)
        self.pdf.block(0, 6, text, new_x=XPos.LMARGIN)
        self.pdf.ln(1)

    def field(self, label: str, value: str) -> None:
        """ "Label: value" on a line, the value wrapping under itself; a label longer than
        half the line takes a line of its own, the value under it."""
        self._text(11, bold=True, text=label)
        width = self.pdf.width_of(label + ": ") + 1
        line = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin
        if width > line / 2:
            self.pdf.block(0, 6, label + ":", new_x=XPos.LMARGIN)
        else:
            self.pdf.cell(width, 6, label + ":")
        self._text(11, text=value)
        self.pdf.block(0, 6, value or "…", new_x=XPos.LMARGIN)

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
        """A ruled table across the text's width (`widths` are proportions), the headings in
        bold and again on top of every page it runs onto; each cell's lines broken from the
        face's widths (`_Page.lines`) and centred in the row's height."""
        pdf = self.pdf
        scale = (pdf.w - pdf.l_margin - pdf.r_margin) / sum(widths)
        columns = [w * scale for w in widths]
        line_h = 5.0
        room = pdf.page_break_trigger - pdf.t_margin  # a page's height for the table

        def laid(values: list[str], bold: bool) -> tuple[list[list[str]], float]:
            # Each row in the face that has its characters (the whole one if need be).
            self._text(9.5, bold=bold, text="".join(values))
            cells = [
                pdf.lines(value, width - 2 * pdf.c_margin)
                for value, width in zip(values, columns, strict=False)
            ]
            return cells, line_h * max((len(lines) for lines in cells), default=1)

        def draw(values: list[str], bold: bool, cells: list[list[str]], height: float) -> None:
            self._text(9.5, bold=bold, text="".join(values))
            x, y = pdf.l_margin, pdf.get_y()
            for lines, width in zip(cells, columns, strict=False):
                pdf.rect(x, y, width, height)
                top = y + (height - line_h * len(lines)) / 2
                for index, line in enumerate(lines):
                    pdf.set_xy(x, top + index * line_h)
                    pdf.cell(width, line_h, line)
                x += width
            pdf.set_xy(pdf.l_margin, y + height)

        head_cells, head_h = laid(headers, True)
        first = laid(rows[0], False) if rows else ([], 0.0)
        if pdf.get_y() + head_h + first[1] > pdf.page_break_trigger:
            pdf.add_page()  # the headings never alone at the foot of a page
        draw(headers, True, head_cells, head_h)
        for values in rows:
            cells, height = laid(values, False)
            if head_h + height > room:
                # As fpdf2's own tables do: the caller lays the paper out another way.
                raise FPDFException("A table row is taller than a page.")
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
                draw(headers, True, head_cells, head_h)
            draw(values, False, cells, height)
        pdf.ln(3)

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
                self._text(11, bold=True, text=block.role.upper())
                pdf.block(width, 6, block.role.upper(), align="C", new_x=XPos.LEFT)
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
                pdf.block(width, 6, block.name, align="C")
        pdf.set_y(box_top + 35)

    def closing(self, places: list[str], block: SignatureBlock) -> None:
        """Decree 30's foot: the recipients ("Nơi nhận:", a line each) on the left and the
        signature block on the right, side by side, kept on one page."""
        pdf = self.pdf
        roles = block.role.splitlines()
        needed = max(6 * len(roles) + 5 + 2 + 21 + 2 + 12, 6 + 5 * len(places)) + 4
        if pdf.get_y() + needed > pdf.h - pdf.b_margin:
            pdf.add_page()
        top = pdf.get_y() + 4
        left_w = LEFT_COLUMN
        right_x = pdf.l_margin + left_w
        right_w = pdf.w - pdf.r_margin - right_x
        pdf.set_xy(pdf.l_margin, top)
        self._text(11, bold=True)
        pdf.cell(left_w, 6, "Nơi nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for place in places:
            self._text(10, text=place)
            pdf.block(left_w, 5, place, new_x=XPos.LMARGIN)
        left_bottom = pdf.get_y()
        pdf.set_xy(right_x, top)
        self._text(11, bold=True, text=block.role.upper())
        pdf.block(right_w, 6, block.role.upper(), align="C", new_x=XPos.LEFT)
        self._text(9)
        pdf.set_x(right_x)
        pdf.cell(right_w, 5, "(Ký số)" if block.slot else "(Ký, ghi rõ họ tên)", align="C",
                 new_x=XPos.LEFT, new_y=YPos.NEXT)  # fmt: skip
        box_top = pdf.get_y() + 2
        if block.slot:
            box_w = min(right_w - 4, 78.0)
            self.slots[block.slot] = (pdf.page_no() - 1, right_x + (right_w - box_w) / 2,
                                      box_top, box_w, 21.0)  # fmt: skip
        if block.name:
            pdf.set_xy(right_x, box_top + 23)
            self._text(11, bold=True, text=block.name)
            pdf.block(right_w, 6, block.name, align="C")
        pdf.set_y(max(left_bottom, box_top + 35))

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
        self.pdf.block(0, 4.5, text, new_x=XPos.LMARGIN)

    def output(self) -> bytes:
        return bytes(self.pdf.output(output_producer_class=_Producer))

    def output_to_sign(
        self, signature: SignatureToWrite, reserved: list[SignatureField] | tuple[()] = ()
    ) -> PreparedPdf:
        """The document with `signature`'s field, widget, dictionary and visible stamp,
        and empty fields `reserved` for signatures to come, ready for the container."""
        self.pdf._set_min_pdf_version("1.7")  # PAdES (ETSI EN 319 142-1)
        self._stamp(signature.field, signature.stamp)
        self._widget(signature.field, _Signature(signature))
        for field in reserved:
            self._widget(field, None)
        data = self.output()
        room = b"<" + b"0" * (2 * signature.room) + b">"
        start = data.find(room)
        marker = _BYTE_RANGE_ROOM.encode("ascii")
        at = data.find(marker)
        if start < 0 or at < 0 or data.find(room, start + 1) >= 0 or data.find(marker, at + 1) >= 0:
            raise FPDFException("the signature's room is not found once in the document")
        end = start + len(room)
        byte_range = (0, start, end, len(data) - end)
        filled = "[{} {} {} {}]".format(*byte_range).ljust(len(marker)).encode("ascii")
        data = data[:at] + filled + data[at + len(marker) :]
        return PreparedPdf(data, byte_range)

    def _widget(self, field: SignatureField, value: _Signature | None) -> None:
        x1, y1, x2, y2 = field.box
        widget = PDFAnnotation(
            "Widget", x=x1, y=y2, width=x2 - x1, height=y2 - y1, field_type="Sig",
            flags=(AnnotationFlag.PRINT,), title=field.name, value=value,
            appearance_stream=b"",  # the stamp is on the page, under the widget
        )  # fmt: skip
        self.pdf.pages[field.page + 1].add_annotation(widget)
        self.pdf.signature_widgets.append(widget)

    def _stamp(self, field: SignatureField, lines: tuple[str, ...]) -> None:
        """The visible signature: a red frame with the lines, in the field's box, drawn in
        a saved graphics state on the field's page; the document's own state (page,
        position, font, colours, line width, page breaks) is put back afterwards."""
        pdf = self.pdf
        saved = (
            pdf.page, pdf.x, pdf.y, pdf.auto_page_break, pdf.b_margin, pdf.font_family,
            pdf.font_style, pdf.font_size_pt, pdf.current_font, pdf.current_font_is_set_on_page,
            pdf.line_width, pdf.draw_color, pdf.text_color,
        )  # fmt: skip
        pdf.set_auto_page_break(False)
        pdf.page = field.page + 1
        pdf._out("q")
        pdf.current_font_is_set_on_page = False  # which font this page last set is not known
        page_height = pdf.pages[pdf.page].dimensions()[1] / pdf.k
        x1, y1, x2, y2 = field.box
        x, top, width, height = x1 / MM, page_height - y2 / MM, (x2 - x1) / MM, (y2 - y1) / MM
        pdf.set_draw_color(191, 26, 26)
        pdf.set_line_width(0.35)
        pdf.rect(x, top, width, height)
        pdf.set_text_color(0, 0, 0)
        room, joined, size = width - 3, "".join(lines), 7.0
        while True:  # smaller until the lines fit the frame, down to 4 pt
            self._text(size, text=joined)
            broken = [part for line in lines for part in pdf.lines(line, room)]
            step = size * 1.25 / MM
            if len(broken) * step <= height - 2 or size <= 4:
                break
            size -= 0.5
        fits = max(1, int((height - 2) // step))
        if len(broken) > fits:  # still too long at 4 pt: what fits, and an ellipsis
            broken = broken[:fits]
            last = broken[-1]
            while last and pdf.width_of(last + "…") > room:
                last = last[:-1]
            broken[-1] = last + "…"
        y = top + (height - step * len(broken)) / 2
        for line in broken:
            pdf.set_xy(x + 1.5, y)
            pdf.cell(room, step, line)
            y += step
        pdf._out("Q")
        (
            pdf.page, pdf.x, pdf.y, auto, margin, pdf.font_family, pdf.font_style,
            pdf.font_size_pt, pdf.current_font, pdf.current_font_is_set_on_page,
            pdf.line_width, pdf.draw_color, pdf.text_color,
        ) = saved  # fmt: skip
        pdf.set_auto_page_break(auto, margin)
