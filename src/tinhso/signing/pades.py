"""PAdES signatures with pyHanko (ETSI EN 319 142): B-B always, B-T when a time-stamping
authority (RFC 3161) is configured, B-LT when the validation data is embedded too. Each
signature has a visible block in Vietnamese: who, title, agency, time."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.stamp import TextStampStyle

from tinhso.core.pdf import FONTS
from tinhso.signing.signers import Signer
from tinhso.signing.stamp_font import StampFontFactory

# Bytes reserved for a B-B signature's CMS: an RSA-4096 signature with a four-certificate
# chain fits with room to spare.
CMS_ROOM = 12 * 1024


@dataclass(frozen=True)
class Slot:
    """Where a visible signature goes: page (from 0) and box in PDF points, origin at the
    bottom left (x1, y1, x2, y2)."""

    page: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class StampLines:
    signer: str
    title: str
    organisation: str


@cache
def _stamp_style() -> TextStampStyle:
    font = StampFontFactory(FONTS / "DejaVuSerif-stamp.ttf", font_size=7)
    return TextStampStyle(
        stamp_text="%(lines)s",
        text_box_style=TextBoxStyle(font=font, font_size=7, leading=9),
        border_width=1,
        border_color=(0.75, 0.1, 0.1),
    )


def _stamp_text(lines: StampLines, moment: datetime, verify_hint: str) -> str:
    """The visible block: who, title, agency, when, where to verify (empty lines left out).
    NFC: the stamp font has the precomposed Vietnamese letters only."""
    text = [
        f"Ký bởi: {lines.signer}", lines.title, lines.organisation,
        f"Thời gian ký: {moment:%d/%m/%Y %H:%M:%S %z}", f"Xác thực: {verify_hint}",
    ]  # fmt: skip
    return unicodedata.normalize("NFC", "\n".join(line for line in text if line))


def timestamper() -> TimeStamper | None:
    """The configured TSA (RFC 3161 over HTTP), if any."""
    if not settings.TINHSO_TSA_URL:
        return None
    return HTTPTimeStamper(settings.TINHSO_TSA_URL, timeout=10)


def signature_level(*, timestamped: bool, ltv: bool) -> str:
    if timestamped and ltv:
        return "B-LT"
    return "B-T" if timestamped else "B-B"


def pdf_reserve_fields(content: bytes, reserved: list[tuple[str, Slot]]) -> bytes:
    """Add empty signature fields for signatures to come (the seal the clerk adds after the
    leader signs): filling them later is a permitted change that keeps the first valid."""
    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    for name, slot in reserved:
        fields.append_signature_field(
            writer, fields.SigFieldSpec(name, on_page=slot.page, box=slot.box)
        )
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]  # pyHanko leaves it untyped
    return out.getvalue()


def pdf_sign(
    content: bytes,
    *,
    signer: Signer,
    field_name: str,
    slot: Slot | None,
    reason: str,
    location: str,
    lines: StampLines,
    verify_hint: str,
    tsa: TimeStamper | None = None,
) -> tuple[bytes, str]:
    """Add one PAdES signature (an incremental update: earlier signatures stay valid).
    Returns the signed PDF and its level (B-B, B-T or B-LT)."""
    from tinhso.signing.verify import validation_context

    tsa = tsa if tsa is not None else timestamper()
    ltv = bool(settings.TINHSO_SIGNING_LTV)
    moment = timezone.localtime()
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=lines.signer,
        embed_validation_info=ltv,
        validation_context=validation_context() if ltv else None,
        use_pades_lta=False,
    )
    # No slot: the field exists already (reserved), pyHanko fills it.
    spec = fields.SigFieldSpec(field_name, on_page=slot.page, box=slot.box) if slot else None
    with signer.open() as cms_signer:
        pdf_signer = signers.PdfSigner(
            meta,
            signer=cms_signer,
            timestamper=tsa,
            stamp_style=_stamp_style(),
            new_field_spec=spec,
        )
        output = pdf_signer.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(content), strict=False),
            # A fixed room for the CMS blob spares pyHanko a dry-run signature to size it
            # (half the work); validation data, when embedded, goes to the DSS instead.
            bytes_reserved=None if tsa is not None else CMS_ROOM,
            appearance_text_params={"lines": _stamp_text(lines, moment, verify_hint)},
        )
    return output.getvalue(), signature_level(timestamped=tsa is not None, ltv=ltv)
