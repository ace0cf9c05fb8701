"""Deep checks of uploaded PDFs and images, before anything is stored.

Reading the first bytes (core.files.sniff) says what a file claims to be; these checks say
whether it is only that, and harmless. A file is accepted only when:

* it parses fully: a PDF with pypdf (cross-reference, catalogue, page tree, every object,
  every compressed stream decoded within a budget), an image with Pillow (every frame
  decoded), within limits (pages, pixels, decoded bytes) that stop decompression bombs;
* it is nothing else at the same time (a polyglot): nothing before the PDF header or the
  image signature, nothing after the PDF's last ``%%EOF`` or the image's end, no bytes
  between a PDF's objects that are not PDF syntax, not also a ZIP archive, and the image
  format Pillow finds is the one the signature announced;
* a PDF carries no active content (``ACTIVE_ACTIONS``, ``ACTIVE_KEYS``; ADR 0016 explains the
  list): no JavaScript anywhere, no action that starts a program, submits or imports data, or
  opens another file, no embedded files, no XFA form, no rich media or 3D content;
* a PDF is not password-protected (its content could not be inspected).

Each refusal is a ValidationError naming the file, with a code the API returns.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    read_object,
)

PDF_MAX_PAGES = 2000
# Decoded stream bytes allowed per byte of file, and at least this many in all: ordinary PDFs
# expand a few times; a decompression bomb expands a thousandfold.
PDF_MAX_EXPANSION = 20
PDF_MIN_DECODED_BUDGET = 64 * 1024 * 1024
# All frames together: a 600 dpi A4 scan is 35 million pixels.
IMAGE_MAX_PIXELS = 50_000_000

# Actions (the /S of an action dictionary) that run code or leave the document.
ACTIVE_ACTIONS: dict[str, Any] = {
    "/JavaScript": gettext_lazy("JavaScript"),
    "/Launch": gettext_lazy("an action that starts a program"),
    "/SubmitForm": gettext_lazy("a form that sends data elsewhere"),
    "/ImportData": gettext_lazy("an action that imports data"),
    "/GoToR": gettext_lazy("a link that opens another file"),
    "/GoToE": gettext_lazy("a link that opens another file"),
    "/Rendition": gettext_lazy("multimedia content"),
    "/RichMediaExecute": gettext_lazy("multimedia content"),
}
# Keys that, wherever they appear, carry code, other files or interactive content.
ACTIVE_KEYS: dict[str, Any] = {
    "/JS": gettext_lazy("JavaScript"),
    "/JavaScript": gettext_lazy("JavaScript"),
    "/EmbeddedFiles": gettext_lazy("an embedded file"),
    "/EmbeddedFile": gettext_lazy("an embedded file"),
    "/XFA": gettext_lazy("an XFA form"),
    "/RichMediaContent": gettext_lazy("multimedia content"),
}
# Subtypes (annotations, streams) of the same kinds.
ACTIVE_SUBTYPES: dict[str, Any] = {
    "/FileAttachment": gettext_lazy("an embedded file"),
    "/RichMedia": gettext_lazy("multimedia content"),
    "/Movie": gettext_lazy("multimedia content"),
    "/Sound": gettext_lazy("multimedia content"),
    "/Screen": gettext_lazy("multimedia content"),
    "/3D": gettext_lazy("3D content"),
}
# Image codecs are left encoded (their data is pixels, not structure); everything else is
# decoded, which checks it and counts against the budget.
_IMAGE_FILTERS = frozenset({"/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode"})

_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_OBJECT_HEADER = re.compile(rb"(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+obj")
_XREF_SUBSECTION = re.compile(rb"(\d{1,10})[ \t]+(\d{1,10})[ \t]*(?:\r\n|\r|\n)")
_XREF_ENTRY = re.compile(rb"\d{10} \d{5} [nf](?: \r| \n|\r\n|\r|\n)")
_STARTXREF = re.compile(rb"startxref[\x00\t\n\x0c\r ]+\d{1,10}")
_ZIP_END = b"PK\x05\x06"

log = logging.getLogger(__name__)


class _Refused(Exception):  # noqa: N818 (a refusal, raised and caught inside this module)
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


# --- PDF ------------------------------------------------------------------------------------


def pdf_check(content: bytes, *, name: str) -> None:
    """Refuse a PDF that does not parse, is also something else, carries active content, is
    password-protected or exceeds the limits. Raises ValidationError naming `name`."""
    try:
        _pdf_inspect(content, name)
    except _Refused as refused:
        raise ValidationError(refused.message, code=refused.code) from None
    except ValidationError:
        raise
    except Exception as exc:
        # Anything pypdf (or zlib, or struct) cannot read is a damaged file: the reason is
        # of no use to the citizen, who needs only to know the file cannot be accepted.
        log.info("PDF %s refused as malformed: %s: %s", name, type(exc).__name__, exc)
        raise ValidationError(
            _("%(name)s is not a valid PDF file (it is damaged or incomplete).") % {"name": name},
            code="file_malformed",
        ) from None


def _foreign(name: str) -> _Refused:
    return _Refused(
        _(
            "%(name)s contains data that is not part of the PDF (for example a program added "
            "to it); attach the original document."
        )
        % {"name": name},
        "file_polyglot",
    )


def _pdf_inspect(content: bytes, name: str) -> None:
    if not _PDF_HEADER.match(content):
        raise _foreign(name)
    if _is_zip(content):
        raise _foreign(name)
    end = content.rfind(b"%%EOF")
    if end < 0:
        raise ValueError("no %%EOF")
    if content[end + 5 :].strip(_PDF_WHITESPACE):
        raise _foreign(name)
    with apply_configuration(jbig2dec_binary=None):
        reader = PdfReader(io.BytesIO(content), strict=True)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Refused(
                _("%(name)s is protected by a password; attach a copy without one.")
                % {"name": name},
                "file_encrypted",
            )
        walked = list(_walk(content, reader, name))
        pages = len(reader.pages)
        if pages == 0:
            raise ValueError("no pages")
        if pages > PDF_MAX_PAGES:
            raise _Refused(
                _("%(name)s has %(pages)d pages; a PDF may have at most %(limit)d.")
                % {"name": name, "pages": pages, "limit": PDF_MAX_PAGES},
                "file_too_many_pages",
            )
        for page in reader.pages:
            page.mediabox  # noqa: B018 (reading it resolves and checks the page's box)
        budget = _Budget(max(PDF_MIN_DECODED_BUDGET, PDF_MAX_EXPANSION * len(content)), name)
        for obj in _listed_objects(reader):
            _check_active(obj, name)
            if isinstance(obj, StreamObject):
                budget.decode(obj)
        for obj, listed in walked:
            # Objects no cross-reference lists any more (replaced by an incremental update)
            # are not shown, but they are in the file: they are held to the same rules.
            if not listed:
                _check_active(obj, name)


def _is_zip(content: bytes) -> bool:
    """True if a ZIP reader would open `content`: its end-of-central-directory record (found
    from the end, as ZIP readers do) reaches exactly to the end of the file."""
    start = content.rfind(_ZIP_END, max(0, len(content) - 65557))
    while start >= 0:
        if len(content) >= start + 22:
            (comment_length,) = struct.unpack_from("<H", content, start + 20)
            if start + 22 + comment_length == len(content):
                return True
        start = content.rfind(_ZIP_END, max(0, len(content) - 65557), start)
    return False


def _skip_space(content: bytes, pos: int) -> int:
    """Past whitespace and comments (a comment runs to the end of its line)."""
    size = len(content)
    while pos < size:
        byte = content[pos]
        if byte in _PDF_WHITESPACE:
            pos += 1
        elif byte == 0x25:  # %
            while pos < size and content[pos] not in b"\r\n":
                pos += 1
        else:
            break
    return pos


def _walk(content: bytes, reader: PdfReader, name: str) -> Iterator[tuple[Any, bool]]:
    """Read the file from start to end as PDF syntax (indirect objects, cross-reference
    tables, trailers, startxref, comments, whitespace) and yield each object read, and
    whether the cross-reference lists it there. Any other byte is data hidden in the file:
    refused as a polyglot."""
    stream = io.BytesIO(content)
    pos = _skip_space(content, 0)
    size = len(content)
    while pos < size:
        header = _OBJECT_HEADER.match(content, pos)
        if header is not None:
            stream.seek(_skip_space(content, header.end()))
            obj = read_object(stream, reader)
            end = _skip_space(content, stream.tell())
            if not content.startswith(b"endobj", end):
                raise _foreign(name)
            number, generation = int(header.group(1)), int(header.group(2))
            listed = reader.xref.get(generation, {}).get(number) == pos
            if (
                listed
                and not reader.is_encrypted
                and reader.cache_get_indirect_object(generation, number) is None
            ):
                # The object the cross-reference lists: pypdf need not read it again.
                reader.cache_indirect_object(generation, number, obj)
            pos = _skip_space(content, end + 6)
            yield obj, listed
        elif content.startswith(b"xref", pos):
            pos = _skip_space(content, pos + 4)
            while (subsection := _XREF_SUBSECTION.match(content, pos)) is not None:
                pos = subsection.end()
                for _entry in range(int(subsection.group(2))):
                    entry = _XREF_ENTRY.match(content, pos)
                    if entry is None:
                        raise _foreign(name)
                    pos = entry.end()
                pos = _skip_space(content, pos)
        elif content.startswith(b"trailer", pos):
            stream.seek(_skip_space(content, pos + 7))
            if not isinstance(read_object(stream, reader), DictionaryObject):
                raise _foreign(name)
            pos = _skip_space(content, stream.tell())
        elif (startxref := _STARTXREF.match(content, pos)) is not None:
            pos = _skip_space(content, startxref.end())
        else:
            raise _foreign(name)


def _listed_objects(reader: PdfReader) -> Iterator[Any]:
    """Every object the cross-reference lists, those inside object streams included."""
    for generation, entries in reader.xref.items():
        for number in entries:
            yield reader.get_object(IndirectObject(number, generation, reader))
    for number in reader.xref_objStm:
        yield reader.get_object(IndirectObject(number, 0, reader))


def _check_active(root: Any, name: str) -> None:
    """Look through one object (its nested dictionaries and arrays, not following indirect
    references: every object is visited on its own) for active content."""
    pending = [root]
    while pending:
        obj = pending.pop()
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                what = ACTIVE_KEYS.get(key)
                if what is None and key == "/S" and isinstance(value, NameObject):
                    what = ACTIVE_ACTIONS.get(value)
                if what is None and key == "/Subtype" and isinstance(value, NameObject):
                    what = ACTIVE_SUBTYPES.get(value)
                if what is not None:
                    raise _Refused(
                        _(
                            "%(name)s contains active content (%(what)s), which is not "
                            "accepted; print it to a new PDF and attach that."
                        )
                        % {"name": name, "what": what},
                        "file_active_content",
                    )
                pending.append(value)
        elif isinstance(obj, ArrayObject):
            pending.extend(obj)


@dataclass
class _Budget:
    left: int
    name: str

    def decode(self, stream: StreamObject) -> None:
        filters = stream.get("/Filter")
        names = (
            [filters]
            if isinstance(filters, NameObject)
            else list(filters)
            if isinstance(filters, ArrayObject)
            else []
        )
        if any(f in _IMAGE_FILTERS for f in names):
            return
        limit = max(0, self.left)
        with apply_configuration(
            zlib_maximum_output_length=limit,
            lzw_maximum_output_length=limit,
            run_length_maximum_output_length=limit,
            array_based_stream_maximum_output_length=limit,
        ):
            try:
                data = stream.get_data()
            except LimitReachedError:
                raise self._bomb() from None
        self.left -= len(data)
        if self.left < 0:
            raise self._bomb()

    def _bomb(self) -> _Refused:
        return _Refused(
            _("%(name)s expands to too much data when opened; it cannot be accepted.")
            % {"name": self.name},
            "file_decompression_bomb",
        )


# --- Images ---------------------------------------------------------------------------------

# The Pillow formats each sniffed type may be: a camera's multi-picture JPEG (MPO) is JPEG.
_IMAGE_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",)}


def image_check(content: bytes, *, name: str, content_type: str) -> None:
    """Refuse an image that Pillow cannot decode completely as the sniffed format, that is
    larger than IMAGE_MAX_PIXELS, or that has data after its end."""
    formats = _IMAGE_FORMATS[content_type]
    label = "JPEG" if content_type == "image/jpeg" else "PNG"
    malformed = ValidationError(
        _("%(name)s is not a valid %(format)s image (it is damaged or incomplete).")
        % {"name": name, "format": label},
        code="file_malformed",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=list(formats))
            with image:
                if image.format not in formats:
                    raise malformed
                pixels = 0
                for frame in range(getattr(image, "n_frames", 1)):
                    image.seek(frame)
                    pixels += image.width * image.height
                    if pixels > IMAGE_MAX_PIXELS:
                        raise _too_many_pixels(name)
                    image.load()
                multi = image.format == "MPO"
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels(name) from None
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise malformed from None
    end = _jpeg_end(content, multi) if content_type == "image/jpeg" else _png_end(content)
    if end is None:
        raise malformed
    if content[end:].strip(b"\x00"):
        raise ValidationError(
            _(
                "%(name)s has data after the end of the image (for example a motion photo's "
                "video, or a program added to it); save it as a still image and attach it again."
            )
            % {"name": name},
            code="file_polyglot",
        )


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("%(name)s is too large an image; an image may have at most %(limit)d megapixels.")
        % {"name": name, "limit": IMAGE_MAX_PIXELS // 1_000_000},
        code="file_too_many_pixels",
    )


def _png_end(content: bytes) -> int | None:
    """Where the PNG ends: after its IEND chunk (chunks are length, type, data, CRC)."""
    pos = 8
    while pos + 12 <= len(content):
        (length,) = struct.unpack_from(">I", content, pos)
        kind = content[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(content) else None
    return None


def _jpeg_end(content: bytes, multi: bool) -> int | None:
    """Where the JPEG ends: after the EOI marker that closes its image (and, for a
    multi-picture file, after the last picture that follows it directly)."""
    pos, size = 0, len(content)
    while True:
        if content[pos : pos + 2] != b"\xff\xd8":
            return None
        pos += 2
        while True:
            while (
                pos < size and content[pos] == 0xFF and pos + 1 < size and content[pos + 1] == 0xFF
            ):
                pos += 1  # fill bytes
            if pos + 2 > size or content[pos] != 0xFF:
                return None
            marker = content[pos + 1]
            pos += 2
            if marker == 0xD9:  # EOI
                break
            if 0xD0 <= marker <= 0xD7 or marker == 0x01:
                continue
            if pos + 2 > size:
                return None
            (length,) = struct.unpack_from(">H", content, pos)
            pos += length
            if marker == 0xDA:  # SOS: entropy-coded data up to the next real marker
                while True:
                    pos = content.find(b"\xff", pos)
                    if pos < 0 or pos + 1 >= size:
                        return None
                    following = content[pos + 1]
                    if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                        pos += 1 if following == 0xFF else 2
                        continue
                    break
        rest = pos
        while rest < size and content[rest] == 0:
            rest += 1
        if not (multi and content.startswith(b"\xff\xd8", rest)):
            return pos
        pos = rest
