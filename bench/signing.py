"""Signing throughput: PAdES signatures on an issued form (pyHanko: the incremental update,
the CMS structure, the visible stamp, opening the encrypted PKCS#12 key) next to raw RSA
signature operations of the same key, measured in the same run; and validating a signed
result next to the raw signature verifications it contains."""

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


def run() -> list[Row]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from django.utils import timezone

    from tinhso.agencies.models import Agency
    from tinhso.core.pdf import OfficialDocument, SignatureBlock
    from tinhso.signing.pades import Slot, StampLines, pdf_sign
    from tinhso.signing.pki import private_key, x509_of
    from tinhso.signing.services import seal_for
    from tinhso.signing.signers import signer_for
    from tinhso.signing.verify import pdf_verify

    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    seal = seal_for(agency)
    doc = OfficialDocument(
        superior="UBND tỉnh Thanh Hóa", agency=agency.name, number="000.02.60.H56-261122-0001",
        place="Hạc Thành", date=timezone.localtime(), title="Giấy tiếp nhận hồ sơ",
        verification_url="http://127.0.0.1:8000/xac-thuc/abcdefghijklmnop/",
    )  # fmt: skip
    for n in range(12):
        doc.field(f"Mục {n + 1}", "Nội dung của giấy tiếp nhận hồ sơ, trình bày như thật.")
    doc.signatures([SignatureBlock("Người tiếp nhận hồ sơ", "Phạm Thị Lan", slot="seal")])
    page, box = doc.slot_box("seal")
    form = doc.output()
    signer = signer_for(seal)
    lines = StampLines(seal.common_name, "", "")

    def sign_pdf() -> bytes:
        signed, _level = pdf_sign(
            form, signer=signer, field_name="ChuKyCoQuan", slot=Slot(page, box),
            reason="Đóng dấu số", location="Thanh Hóa", lines=lines, verify_hint="-",
        )  # fmt: skip
        return signed

    key = private_key(seal)
    message = os.urandom(64)

    def raw_sign() -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]

    signed = sign_pdf()
    public = x509_of(seal).public_key()
    signature = raw_sign()

    def raw_verify() -> None:  # the form carries one signature
        public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]

    pdf_rate, pdf_done = _rate(sign_pdf)
    raw_rate, _raw_done = _rate(raw_sign, seconds=min(SECONDS, 3))
    print(
        f"\nsigning with the same RSA-2048 seal key, one core: {pdf_rate:.1f} signed PDFs/s "
        f"({pdf_done} in {SECONDS:.0f} s) vs {raw_rate:.0f} raw signatures/s; each signed PDF "
        f"costs {raw_rate / pdf_rate:.0f} raw signature operations (the rest is the PDF work)"
    )
    return [
        Row("PAdES B-B signature on a 1-page form", *measure(sign_pdf, 30),
            *measure(raw_sign, 300)),
        Row("validation of that signed form (pyHanko)", *measure(lambda: pdf_verify(signed), 30),
            *measure(raw_verify, 300)),
    ]  # fmt: skip
