"""Forms and signatures: rendering a one-page form (fpdf2), signing it in PAdES (pyHanko:
the incremental update, the CMS structure, the visible stamp; the key kept opened, ADR
0024), next to raw RSA signature operations of the same key measured in the same run (the
baseline: the signing overhead is a PAdES signature's time minus a raw one's); and
validating a signed result next to the raw signature verifications it contains."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

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


def _cpu(fn: Callable[[], object], rounds: int = 30) -> float:
    """CPU milliseconds per call of this process (what a worker pays), after a warm-up."""
    fn()
    start = time.process_time()
    for _ in range(rounds):
        fn()
    return (time.process_time() - start) * 1000 / rounds


def run() -> list[Row]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from django.utils import timezone

    from tinhso.agencies.models import Agency
    from tinhso.core.pdf import OfficialDocument, SignatureBlock
    from tinhso.signing.pades import Slot, StampLines, pdf_sign
    from tinhso.signing.pki import private_key, x509_of
    from tinhso.signing.services import seal_for, verification_id_new, verification_url
    from tinhso.signing.signers import signer_for
    from tinhso.signing.verify import pdf_verify

    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    seal = seal_for(agency)

    def render() -> tuple[bytes, Slot]:
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
        return doc.output(), Slot(page, box)

    form, slot = render()
    signer = signer_for(seal)
    lines = StampLines(seal.common_name, "", "")

    def sign_pdf(content: bytes = form, where: Slot = slot) -> bytes:
        signed, _level = pdf_sign(
            content, signer=signer, field_name="ChuKyCoQuan", slot=where,
            reason="Đóng dấu số", location="Thanh Hóa", lines=lines,
            verify_hint=verification_url(verification_id_new()),
        )  # fmt: skip
        return signed

    def render_and_sign() -> bytes:
        return sign_pdf(*render())

    key = private_key(seal)
    message = os.urandom(64)

    def raw_sign() -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]

    signed = sign_pdf()
    public = x509_of(seal).public_key()
    signature = raw_sign()

    def raw_verify() -> None:  # the form carries one signature
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]

    render_cpu, sign_cpu, raw_cpu = _cpu(render), _cpu(sign_pdf), _cpu(raw_sign, 300)
    print(
        f"\nCPU per form, one core: render {render_cpu:.1f} ms + PAdES sign {sign_cpu:.1f} ms "
        f"= {render_cpu + sign_cpu:.1f} ms (target ≤ 10); raw RSA-2048 signature of the same "
        f"key {raw_cpu:.2f} ms; signing overhead per PDF {sign_cpu - raw_cpu:.1f} ms "
        "(target ≤ 5)"
    )
    pdf_rate, pdf_done = _rate(sign_pdf)
    raw_rate, _raw_done = _rate(raw_sign, seconds=min(SECONDS, 3))
    print(
        f"\nsigning with the same RSA-2048 seal key, one core: {pdf_rate:.1f} signed PDFs/s "
        f"({pdf_done} in {SECONDS:.0f} s) vs {raw_rate:.0f} raw signatures/s; each signed PDF "
        f"costs {raw_rate / pdf_rate:.0f} raw signature operations (the rest is the PDF work)"
    )
    raw = measure(raw_sign, 300)
    return [
        Row("form render (fpdf2, BM.01-like)", *measure(render, 30), *raw),
        Row("PAdES B-B signature on a 1-page form", *measure(sign_pdf, 30), *raw),
        Row("form render + PAdES signature", *measure(render_and_sign, 30), *raw),
        Row("validation of that signed form (pyHanko)", *measure(lambda: pdf_verify(signed), 30),
            *measure(raw_verify, 300)),
    ]  # fmt: skip
