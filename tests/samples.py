"""Files for the upload tests, made here in code (never downloaded): valid PDFs and images,
and hostile ones built with pypdf, Pillow or by hand."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from tinhso.dossiers.demo import simple_pdf

EXE = b"MZ\x90\x00" + b"\x00" * 56 + b"\x40\x00\x00\x00PE\x00\x00" + b"This program cannot be run."


def pdf(lines: tuple[str, ...] = ("GIAY CHUNG SINH",)) -> bytes:
    """A small valid PDF (the demo's own builder)."""
    return simple_pdf(list(lines))


def pypdf_pdf(build: Callable[[PdfWriter], None] | None = None, *, pages: int = 1) -> bytes:
    """A PDF written by pypdf, changed by `build` before it is written."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if build is not None:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def action(kind: str, **entries: object) -> DictionaryObject:
    made = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        made[NameObject(f"/{key}")] = (
            TextStringObject(value) if isinstance(value, str) else value  # type: ignore[assignment]
        )
    return made


def open_action(act: DictionaryObject) -> Callable[[PdfWriter], None]:
    def build(writer: PdfWriter) -> None:
        writer.root_object[NameObject("/OpenAction")] = writer._add_object(act)

    return build


def page_action(act: DictionaryObject) -> Callable[[PdfWriter], None]:
    """`act` runs when the first page opens (its additional actions, /AA /O)."""

    def build(writer: PdfWriter) -> None:
        writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): act})

    return build


def link_action(act: DictionaryObject) -> Callable[[PdfWriter], None]:
    """A link annotation on the first page whose action is `act`."""

    def build(writer: PdfWriter) -> None:
        link = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (0, 0, 100, 100)]),
                NameObject("/A"): act,
            }
        )
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])

    return build


def names_tree_js(writer: PdfWriter) -> None:
    """Document-level JavaScript (the catalogue's /Names /JavaScript tree), run on opening."""
    script = writer._add_object(action("/JavaScript", JS="app.alert(1)"))
    writer.root_object[NameObject("/Names")] = DictionaryObject(
        {
            NameObject("/JavaScript"): DictionaryObject(
                {NameObject("/Names"): ArrayObject([TextStringObject("x"), script])}
            )
        }
    )


def xfa_form(writer: PdfWriter) -> None:
    packet = DecodedStreamObject()
    packet.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
        {
            NameObject("/Fields"): ArrayObject(),
            NameObject("/XFA"): writer._add_object(packet),
        }
    )


def inflating_stream(writer: PdfWriter) -> None:
    """A page whose content stream inflates from ~80 KB to 80 MB (a decompression bomb)."""
    bomb = DecodedStreamObject()
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    bomb._data = zlib.compress(b" " * (80 * 1024 * 1024), 9)
    writer.pages[0][NameObject("/Contents")] = writer._add_object(bomb)


def raw_pdf(bodies: list[bytes], *, hidden: bytes = b"") -> bytes:
    """A PDF written by hand from object bodies (object 1 is the catalogue); `hidden` goes
    between the first two objects with the cross-reference offsets still right."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
        if number == 1:
            out += hidden
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


PAGE_BODIES = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def zip_polyglot() -> bytes:
    """A PDF that is also a ZIP archive (holding a program): the archive sits in a stream,
    and its comment runs over the rest of the PDF, so ZIP readers find its end record."""
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as made:
        made.writestr("run.exe", EXE)
    data = archive.getvalue()

    def build(comment_length: int) -> bytes:
        made = data[:-2] + comment_length.to_bytes(2, "little")
        body = b"<< /Length %d >>\nstream\n" % len(made) + made + b"\nendstream"
        return raw_pdf([*PAGE_BODIES, body])

    draft = build(0)
    return build(len(draft) - (draft.index(data[:-2]) + len(data)))


def png(size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "white").save(out, "PNG")
    return out.getvalue()


def jpeg(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG", quality=80)
    return out.getvalue()
