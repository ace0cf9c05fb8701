"""PAdES signatures with pyHanko (ETSI EN 319 142): B-B always, B-T when a time-stamping
authority (RFC 3161) is configured, B-LT when the validation data is embedded too. Each
signature has a visible block in Vietnamese: who, title, agency, time.

A document's first B-B signature is written with the document (`pdf_sign_draft`, ADR
0034): core.pdf lays out the field and the signature dictionary with the stamp, pyHanko
builds the CMS container over the byte range's digest. Later signatures, and signatures
with a time-stamp or validation data, are pyHanko's incremental updates (`pdf_sign`)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import threading
import unicodedata
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.utils import timezone
from fpdf.errors import FPDFException
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.stamp import TextStampStyle

from tinhso.core.pdf import FONTS, PreparedPdf, SignatureField, SignatureToWrite
from tinhso.signing.signers import Signer, SignerError
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


class PdfDraft(Protocol):
    """A document not yet written (core.pdf.OfficialDocument): written plain, or written
    with its first signature's field and room."""

    def output(self) -> bytes: ...

    def output_to_sign(
        self, signature: SignatureToWrite, reserved: list[SignatureField]
    ) -> PreparedPdf: ...


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


_LOOPS = threading.local()
T = TypeVar("T")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's coroutine on this thread's own event loop, kept between signatures
    (pyHanko's synchronous calls make and close a loop for every signature); a process
    forked after the loop was made makes its own."""
    loop, pid = getattr(_LOOPS, "loop", None), os.getpid()
    if loop is None or loop.is_closed() or getattr(_LOOPS, "pid", pid) != pid:
        loop = _LOOPS.loop = asyncio.new_event_loop()
        _LOOPS.pid = pid
    return loop.run_until_complete(work)


def _prepared(
    draft: PdfDraft, signature: SignatureToWrite, reserved: list[SignatureField]
) -> PreparedPdf:
    try:
        return draft.output_to_sign(signature, reserved)
    except FPDFException as exc:  # the room not found once: nothing is signed
        raise SignerError(str(exc)) from exc


def pdf_sign_draft(
    draft: PdfDraft,
    *,
    signer: Signer,
    field_name: str,
    slot: Slot,
    reason: str,
    location: str,
    lines: StampLines,
    verify_hint: str,
    reserved: list[tuple[str, Slot]] | None = None,
    tsa: TimeStamper | None = None,
) -> tuple[bytes, str]:
    """Write `draft` with its first signature (and the empty fields `reserved` for those
    to come). A B-B signature is written in the same pass as the document: no PDF is
    parsed or rewritten. With a time-stamp or validation data (their size is known only
    once fetched), the document is written plain and signed by `pdf_sign`."""
    tsa = tsa if tsa is not None else timestamper()
    fields_kept = [SignatureField(name, where.page, where.box) for name, where in reserved or []]
    if tsa is not None or settings.TINHSO_SIGNING_LTV:
        content = draft.output()
        if reserved:
            content = pdf_reserve_fields(content, reserved)
        return pdf_sign(
            content, signer=signer, field_name=field_name, slot=slot, reason=reason,
            location=location, lines=lines, verify_hint=verify_hint, tsa=tsa,
        )  # fmt: skip
    moment = timezone.localtime()
    with signer.open() as cms_signer:
        prepared = _prepared(
            draft,
            SignatureToWrite(
                field=SignatureField(field_name, slot.page, slot.box),
                moment=moment,
                name=lines.signer,
                reason=reason,
                location=location,
                stamp=tuple(_stamp_text(lines, moment, verify_hint).splitlines()),
                room=CMS_ROOM,
            ),
            fields_kept,
        )
        digest = hashlib.sha256()
        for part in prepared.signed_parts():
            digest.update(part)
        container = _run(
            cms_signer.async_sign(
                digest.digest(), "sha256", use_pades=True,
                signed_attr_settings=PdfCMSSignedAttributes(signing_time=moment),
            )
        )  # fmt: skip
    try:
        return prepared.with_contents(container.dump()), "B-B"
    except ValueError as exc:
        raise SignerError(str(exc)) from exc


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
        writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
        # A fixed room for the CMS blob spares pyHanko a dry-run signature to size it
        # (half the work); validation data, when embedded, goes to the DSS instead.
        reserved = None if tsa is not None else CMS_ROOM
        text = {"lines": _stamp_text(lines, moment, verify_hint)}
        if ltv:  # pyHanko releases the validation context's fetchers after the signature
            output = pdf_signer.sign_pdf(
                writer, bytes_reserved=reserved, appearance_text_params=text
            )
        else:
            output = _run(
                pdf_signer.async_sign_pdf(
                    writer, bytes_reserved=reserved, appearance_text_params=text
                )
            )
    return output.getvalue(), signature_level(timestamped=tsa is not None, ltv=ltv)
