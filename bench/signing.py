"""Forms and signatures: rendering a one-page form (fpdf2), writing it with its PAdES seal
in one pass (ADR 0034: core.pdf lays out the field, the dictionary and the stamp, pyHanko
builds the CMS; the key kept opened, ADR 0024), and signing an already written PDF as an
incremental update (pyHanko: the clerk's seal on a result), next to raw RSA signature
operations of the same key measured in the same run (the baseline: the signing overhead is
a signed form's time minus the plain form's and a raw signature's); the real BM.01 of a
demo dossier as the worker lays it out (from the dossier's row as the worker reads it, with
the body above its agency joined, and its papers read from the database) and seals it, and
that read of the row on its own; and validating a signed result next to the raw signature
verifications it contains."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from bench.common import Row, measure

SECONDS = float(os.environ.get("BENCH_SIGN_SECONDS", "10"))


def _rate(fn: Callable[[], object], seconds: float = SECONDS) -> tuple[float, int]:
    fn()  # warm-up
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        done += 1
    return done / (time.perf_counter() - start), done


def run() -> list[Row]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from django.utils import timezone

    from tinhso.agencies.models import Agency
    from tinhso.core.pdf import OfficialDocument, SignatureBlock
    from tinhso.dossiers.legal_forms import SEAL_FIELD, render_bm01
    from tinhso.dossiers.models import Dossier, DossierStatus
    from tinhso.signing.pades import Slot, StampLines, pdf_sign, pdf_sign_draft
    from tinhso.signing.pki import private_key, x509_of
    from tinhso.signing.services import seal_for, verification_id_new, verification_url
    from tinhso.signing.signers import signer_for
    from tinhso.signing.verify import pdf_verify

    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    seal = seal_for(agency)

    def layout() -> tuple[OfficialDocument, Slot]:
        doc = OfficialDocument(
            superior="UBND tỉnh Thanh Hóa", agency=agency.name,
            number="000.02.60.H56-261122-0001", place="Hạc Thành", date=timezone.localtime(),
            title="Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
            verification_url=verification_url(verification_id_new()),
        )  # fmt: skip
        for n in range(12):
            doc.field(f"Mục {n + 1}", "Nội dung của giấy tiếp nhận hồ sơ, trình bày như thật.")
        doc.signatures([SignatureBlock("Người tiếp nhận hồ sơ", "Phạm Thị Lan", slot="seal")])
        page, box = doc.slot_box("seal")
        return doc, Slot(page, box)

    def render() -> tuple[bytes, Slot]:
        doc, slot = layout()
        return doc.output(), slot

    form, slot = render()
    signer = signer_for(seal)
    lines = StampLines(seal.common_name, "", "")

    def request_for(where: Slot) -> dict[str, Any]:
        """The seal's request: the same for both ways of signing."""
        return {
            "signer": signer, "field_name": "ChuKyCoQuan", "slot": where,
            "reason": "Đóng dấu số", "location": "Thanh Hóa", "lines": lines,
            "verify_hint": verification_url(verification_id_new()),
        }  # fmt: skip

    def render_and_sign() -> bytes:
        doc, where = layout()
        return pdf_sign_draft(doc, **request_for(where))[0]

    def sign_pdf(content: bytes = form, where: Slot = slot) -> bytes:
        return pdf_sign(content, **request_for(where))[0]

    key = private_key(seal)
    message = os.urandom(64)

    def raw_sign() -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]

    # One of the demo's own dossiers, received with its papers (not one the dossier bench
    # loaded with COPY, which has none, nor a refused one, which gets a BM.03).
    dossier = (
        Dossier.objects.filter(
            receiving_agency=agency, accepted_at__isnull=False, files__isnull=False
        )
        .exclude(status=DossierStatus.REFUSED)
        .select_related("procedure", "applicant", "receiving_agency")
        .order_by("pk")
        .first()
    )
    if dossier is None:
        raise RuntimeError("the demo province has no received dossier to lay out a BM.01 for")

    def bm01_read() -> Dossier:
        """The dossier's row as the worker reads it (dossiers.legal_forms.form_issue): with
        its procedure, applicant, agency and the body above it, in one statement."""
        return Dossier.objects.select_related(
            "procedure", "applicant", "receiving_agency__parent"
        ).get(pk=dossier.pk)

    read = bm01_read()

    def bm01_render_and_sign() -> bytes:
        """What the worker does for a dossier's BM.01 once it has read the row, before
        storing the PDF: read its papers, lay it out, write it with its seal."""
        now = timezone.now()
        form = render_bm01(
            read, receiver_name="Phạm Thị Lan", now=now, accepted_at=now, due_at=now,
            verify_url=verification_url(verification_id_new()),
        )  # fmt: skip
        request = request_for(form.slots["seal"]) | {"field_name": SEAL_FIELD}
        return pdf_sign_draft(form.draft, **request)[0]

    signed = sign_pdf()
    public = x509_of(seal).public_key()
    signature = raw_sign()

    def raw_verify() -> None:  # the form carries one signature
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]

    raw = measure(raw_sign, 300)
    plain, both, added = measure(render, 60), measure(render_and_sign, 60), measure(sign_pdf, 60)
    print(
        f"\nPer form, one core (medians): render {plain[0]:.1f} ms; render with its PAdES seal "
        f"in one pass {both[0]:.1f} ms (target ≤ 10); raw RSA-2048 signature of the same key "
        f"{raw[0]:.2f} ms; signing overhead per PDF {both[0] - plain[0] - raw[0]:.1f} ms "
        f"(target ≤ 5). A seal added to a written PDF (incremental update): {added[0]:.1f} ms, "
        f"{added[0] - raw[0]:.1f} ms over the raw signature."
    )
    bm01 = measure(bm01_render_and_sign, 60)
    row_read = measure(bm01_read, 60)
    print(
        f"The real BM.01 of a demo dossier as the worker issues it (its papers read from the "
        f"database, laid out, written with its seal): {bm01[0]:.1f} ms (target ≤ 10); "
        f"before it, the worker's read of the dossier's row with its procedure, applicant "
        f"and agencies: {row_read[0]:.1f} ms."
    )
    pdf_rate, pdf_done = _rate(render_and_sign)
    raw_rate, _raw_done = _rate(raw_sign, seconds=min(SECONDS, 3))
    print(
        f"\nforms rendered and sealed with one RSA-2048 key, one core: {pdf_rate:.1f} forms/s "
        f"({pdf_done} in {SECONDS:.0f} s) vs {raw_rate:.0f} raw signatures/s"
    )
    return [
        Row("form render (fpdf2, BM.01-like)", *plain, *raw),
        Row("form render + PAdES seal, one pass", *both, *raw),
        Row("PAdES seal added to a written form", *added, *raw),
        Row("BM.01 of a dossier: papers read, laid out, sealed", *bm01, *raw),
        Row("validation of that signed form (pyHanko)", *measure(lambda: pdf_verify(signed), 30),
            *measure(raw_verify, 300)),
    ]  # fmt: skip
