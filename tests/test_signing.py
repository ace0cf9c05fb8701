"""Signed papers: every issued form carries the agency's seal signature, a result carries
the leader's personal signature and then the seal, and tools nobody here wrote (pdfsig,
openssl cms, pyHanko) accept them; one changed byte, a revoked or expired certificate are
caught and said in plain words on the public verification page."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation
from pypdf import PdfReader

from flows import act, user
from test_submission import submission
from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.models import AuditEntry
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.services import dossier_submit
from tinhso.dossiers.transitions import TransitionError
from tinhso.signing import services as signing
from tinhso.signing import signers
from tinhso.signing.models import Certificate, CertificateKind, Signature, StoredKey
from tinhso.signing.pades import Slot, StampLines, pdf_sign
from tinhso.signing.pki import (
    Subject,
    certificate_issue,
    certificate_revoke,
    pki_dir,
    private_key,
    signing_passphrase,
    x509_of,
)
from tinhso.signing.signers import RemoteSigner, SignerError, signer_for
from tinhso.signing.verify import pdf_verify

pytestmark = pytest.mark.django_db


def approved(citizen: Any) -> Dossier:
    dossier = dossier_submit(submission=submission(citizen))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    dossier = act(dossier, "chuyenvien.hacthanh", "forward")
    return act(dossier, "lanhdao.hacthanh", "approve", note="Đăng ký khai sinh cho cháu.")


def issued(citizen: Any) -> Dossier:
    return act(approved(citizen), "vanthu.hacthanh", "issue")


def content_of(document: DossierDocument) -> bytes:
    from tinhso.core.files import read_bytes

    return read_bytes(document.storage_name)


def result_of(dossier: Dossier) -> DossierDocument:
    return dossier.documents.get(kind=DocumentKind.RESULT)


def tamper(content: bytes) -> bytes:
    """One changed byte inside the first signed range (the page content of the form)."""
    changed = bytearray(content)
    at = content.index(b"/Filter") + 2
    changed[at] ^= 0x01
    return bytes(changed)


def need(tool: str, in_ci: bool) -> str:
    found = shutil.which(tool)
    if found is None:
        if in_ci:
            pytest.fail(f"{tool} is not installed (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed")
    return found


# --- what gets signed --------------------------------------------------------------------


def test_every_issued_form_carries_the_agency_seal_and_a_qr_code(citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    bm01 = dossier.documents.get(kind=DocumentKind.BM01)
    assert bm01.signed is not None
    content = content_of(bm01)
    report = pdf_verify(content)
    assert report.ok
    [seal] = report.signatures
    hac_thanh = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    assert (seal.kind, seal.signer, seal.field_name) == ("seal", hac_thanh.name, "ChuKyCoQuan")
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert f"/xac-thuc/{bm01.signed.public_id}/" in text.replace("\n", "")
    assert "Giấy tiếp nhận hồ sơ".upper() in text
    assert Signature.objects.get(document=bm01.signed).level == "B-B"


def test_the_result_is_signed_by_the_leader_then_sealed_by_the_clerk(citizen: Any) -> None:
    dossier = approved(citizen)
    after_leader = pdf_verify(content_of(result_of(dossier)))
    assert after_leader.ok
    assert [(s.kind, s.signer, s.title) for s in after_leader.signatures] == [
        ("personal", "Đỗ Minh Tuấn", "Phó Chủ tịch UBND phường")
    ]
    dossier = act(dossier, "vanthu.hacthanh", "issue")
    result = result_of(dossier)
    report = pdf_verify(content_of(result))
    assert report.ok
    assert [(s.field_name, s.kind) for s in report.signatures] == [
        ("ChuKyLanhDao", "personal"),
        ("ChuKyCoQuan", "seal"),
    ]
    assert report.signatures[1].covers_whole_file
    assert not report.signatures[0].changed_after  # the seal filled a field left for it
    assert result.signed is not None
    assert result.sha256 == result.signed.sha256
    used = AuditEntry.objects.filter(
        action="signing.key_used", data__document=result.signed.public_id
    )
    assert [e.data["purpose"] for e in used.order_by("seq")] == ["personal", "seal"]
    assert used.first().actor_label == "lanhdao.hacthanh"  # type: ignore[union-attr]


def test_a_form_is_written_with_its_seal_in_one_pass_as_pades_wants_it(citizen: Any) -> None:
    """ADR 0034: the form and its seal signature are one revision (no incremental update);
    the signature dictionary and the CMS are what PAdES B-B asks (ETSI EN 319 142-1: the
    ETSI.CAdES.detached sub-filter, the time in /M and not in the signed attributes, the
    signing-certificate-v2 attribute, the digest of the whole file but the container)."""
    import hashlib

    from asn1crypto import cms as asn1_cms
    from pyhanko.pdf_utils.reader import PdfFileReader

    dossier = act(dossier_submit(submission=submission(citizen)), "tiepnhan.hacthanh", "accept")
    content = content_of(dossier.documents.get(kind=DocumentKind.BM01))
    assert content.count(b"%%EOF") == 1
    reader = PdfFileReader(io.BytesIO(content))
    assert reader.xrefs.total_revisions == 1
    assert content.startswith(b"%PDF-1.7")  # PAdES: PDF 1.7 with the ESIC extension
    assert reader.root["/Extensions"]["/ESIC"]["/ExtensionLevel"] == 1
    [field] = reader.root["/AcroForm"]["/Fields"]
    field = field.get_object()
    assert field.raw_get("/P").idnum == reader.root["/Pages"]["/Kids"].raw_get(0).idnum
    sig = field["/V"]
    assert (field["/FT"], field["/T"]) == ("/Sig", "ChuKyCoQuan")
    assert (sig["/Filter"], sig["/SubFilter"]) == ("/Adobe.PPKLite", "/ETSI.CAdES.detached")
    assert str(sig["/M"]).startswith("D:20")
    a, b, c, d = (int(x) for x in sig["/ByteRange"])
    assert (a, c + d) == (0, len(content))
    assert content[b : b + 1] == b"<"
    assert content[c - 1 : c] == b">"
    signed_data = asn1_cms.ContentInfo.load(bytes(sig["/Contents"]))["content"]
    attributes = {
        attr["type"].native: attr["values"][0]
        for attr in signed_data["signer_infos"][0]["signed_attrs"]
    }
    assert "signing_time" not in attributes
    assert "signing_certificate_v2" in attributes
    digest = hashlib.sha256(content[a : a + b] + content[c : c + d]).digest()
    assert attributes["message_digest"].native == digest
    report = pdf_verify(content)
    assert report.ok
    assert report.signatures[0].covers_whole_file
    # The visible stamp is drawn on the page, under the field's widget.
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    hac_thanh = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    assert f"Ký bởi: {hac_thanh.name}" in text
    assert "Thời gian ký:" in text


def test_the_stamp_fits_its_frame_and_leaves_the_rest_of_the_document_as_it_was() -> None:
    """The stamp is drawn on its page in a saved graphics state: the pages' own content is
    what the plain document has, the stamp after it; a stamp too long for its frame is cut
    with an ellipsis, not spilled over the signer's name."""
    import hashlib

    from tinhso.core.pdf import OfficialDocument, SignatureBlock, SignatureField, SignatureToWrite

    def laid_out() -> OfficialDocument:
        doc = OfficialDocument(
            superior="UBND TỈNH THANH HÓA", agency="Sở Tư pháp", number="3/BC-STP",
            place="Thanh Hóa", date=timezone.localtime(), title="Báo cáo",
        )  # fmt: skip
        doc.pdf.set_creation_date(timezone.now())
        doc.signatures([SignatureBlock("Giám đốc", "Lê Văn A", slot="seal")])
        for n in range(45):  # the text runs on to a second page after the signature
            doc.paragraph(f"Đoạn {n + 1}: nội dung tiếp theo của báo cáo.")
        return doc

    plain_doc, signed_doc = laid_out(), laid_out()
    page, box = signed_doc.slot_box("seal")
    assert page == 0
    plain = PdfReader(io.BytesIO(plain_doc.output()))
    stamp = ("Ký bởi: " + "Tên rất dài " * 40, "Cơ quan " * 60, "Thời gian ký: 30/11/2026")
    prepared = signed_doc.output_to_sign(
        SignatureToWrite(
            field=SignatureField("Seal", page, box), moment=timezone.localtime(), name="X",
            reason="r", location="l", stamp=stamp, room=64,
        ),
        [],
    )  # fmt: skip
    signed = PdfReader(io.BytesIO(prepared.with_contents(hashlib.sha256().digest())))
    assert len(signed.pages) == len(plain.pages) == 2
    first, second = (p.get_contents().get_data() for p in signed.pages)  # type: ignore[union-attr]
    assert second == plain.pages[1].get_contents().get_data()  # type: ignore[union-attr]
    before = plain.pages[0].get_contents().get_data()  # type: ignore[union-attr]
    assert first.startswith(before)
    drawn = first[len(before) :].strip()
    assert drawn.startswith(b"q")
    assert drawn.endswith(b"Q")
    text = signed.pages[0].extract_text()
    assert "Ký bởi: Tên rất dài" in text
    assert "…" in text  # cut to what fits
    assert "Đoạn 45" in signed.pages[1].extract_text()


def test_a_container_larger_than_its_room_is_refused() -> None:
    from tinhso.core.pdf import PreparedPdf

    prepared = PreparedPdf(b"%PDF-1.7 <0000> trailer", (0, 9, 15, 8))
    assert prepared.with_contents(b"\xab\xcd") == b"%PDF-1.7 <abcd> trailer"
    assert prepared.with_contents(b"\xab") == b"%PDF-1.7 <ab00> trailer"
    with pytest.raises(ValueError, match="exceeds its room"):
        prepared.with_contents(b"\x01\x02\x03")


# --- independent tools ---------------------------------------------------------------------


@pytest.fixture
def nss_db(tmp_path: Path, in_ci: bool) -> str:
    """An NSS database that trusts the demo root (what pdfsig reads)."""
    certutil = need("certutil", in_ci)
    out = io.StringIO()
    call_command("pki_export_root", stdout=out)
    root = tmp_path / "root.pem"
    root.write_text(out.getvalue())
    db = tmp_path / "nss"
    db.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-A", "-n", "tinhso-root", "-t", "CT,C,C", "-i", str(root), "-d", f"sql:{db}"],
        check=True,
    )
    return f"sql:{db}"


def pdfsig(path: Path, nss: str, in_ci: bool) -> str:
    tool = need("pdfsig", in_ci)
    done = subprocess.run(
        [tool, "-nssdir", nss, str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def test_pdfsig_finds_every_signature_valid_and_trusted_and_a_changed_byte(
    citizen: Any, nss_db: str, tmp_path: Path, in_ci: bool
) -> None:
    content = content_of(result_of(issued(citizen)))
    signed = tmp_path / "result.pdf"
    signed.write_bytes(content)
    said = pdfsig(signed, nss_db, in_ci)
    assert said.count("Signature Validation: Signature is Valid.") == 2, said
    assert said.count("Certificate Validation: Certificate is Trusted.") == 2, said
    assert "Signer Certificate Common Name: Đỗ Minh Tuấn" in said
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(tamper(content))
    said = pdfsig(changed, nss_db, in_ci)
    assert "Signature is Valid." not in said, said
    assert said.count("Digest Mismatch") == 2, said


def signed_ranges(content: bytes) -> list[tuple[bytes, bytes]]:
    """(signed bytes, CMS DER) of each signature, read from /ByteRange as any tool would."""
    found = []
    for match in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", content):
        a, b, c, d = map(int, match.groups())
        cms = der_value(bytes.fromhex(content[a + b + 1 : c - 1].decode()))
        found.append((content[a : a + b] + content[c : c + d], cms))
    return found


def der_value(padded: bytes) -> bytes:
    """The CMS at the start of /Contents, without the zeros that pad the field, as its DER
    header measures it (stripping trailing zeros would also cut a signature whose last byte
    is zero, one in 256)."""
    from asn1crypto import cms as asn1_cms

    return bytes(asn1_cms.ContentInfo.load(padded).dump())


def openssl_verify(data: bytes, cms: bytes, root: Path, tmp: Path) -> subprocess.CompletedProcess:
    openssl = shutil.which("openssl") or "openssl"
    (tmp / "data.bin").write_bytes(data)
    (tmp / "sig.der").write_bytes(cms)
    return subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp / "sig.der"),
         "-content", str(tmp / "data.bin"), "-CAfile", str(root), "-purpose", "any",
         "-out", str(tmp / "out.bin")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_openssl_cms_verifies_the_signed_byte_ranges(
    citizen: Any, tmp_path: Path, in_ci: bool
) -> None:
    need("openssl", in_ci)
    out = io.StringIO()
    call_command("pki_export_root", stdout=out)
    root = tmp_path / "root.pem"
    root.write_text(out.getvalue())
    content = content_of(result_of(issued(citizen)))
    ranges = signed_ranges(content)
    assert len(ranges) == 2
    for data, cms in ranges:
        done = openssl_verify(data, cms, root, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Verification successful" in done.stderr
    for data, cms in signed_ranges(tamper(content)):
        done = openssl_verify(data, cms, root, tmp_path)
        assert done.returncode != 0
        assert "digest failure" in done.stderr.lower() or "failure" in done.stderr.lower()


# --- the verification page and API ---------------------------------------------------------


def test_the_qr_code_opens_a_page_that_says_who_signed_for_which_dossier(
    client: Client, citizen: Any, vi: None
) -> None:
    dossier = issued(citizen)
    result = result_of(dossier)
    assert result.signed is not None
    page = client.get(f"/xac-thuc/{result.signed.public_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mọi chữ ký số trên văn bản đều hợp lệ." in html
    for shown in ("Đỗ Minh Tuấn", "Phó Chủ tịch UBND phường", dossier.code,
                  "Ủy ban nhân dân phường Hạc Thành", "con dấu số của cơ quan",
                  "Còn nguyên vẹn"):  # fmt: skip
        assert shown in html, shown
    assert citizen.personal_id not in html  # no personal data on a public page
    assert client.get("/xac-thuc/khong-co-ma-nay/").status_code == 404
    api = client.get(f"/api/v1/verify/{result.signed.public_id}").json()
    assert api["valid"] is True
    assert api["document"]["dossier"] == dossier.code
    assert [s["kind"] for s in api["signatures"]] == ["personal", "seal"]


def test_an_uploaded_copy_is_matched_and_a_changed_byte_is_said(
    client: Client, citizen: Any, vi: None
) -> None:
    content = content_of(result_of(issued(citizen)))
    same = client.post("/xac-thuc/", {"file": _upload(content)})
    assert same.status_code == 200
    assert "Tệp của bạn trùng khớp với bản do hệ thống phát hành." in same.content.decode()
    changed = client.post("/xac-thuc/", {"file": _upload(tamper(content))})
    html = changed.content.decode()
    assert "Tệp đã bị thay đổi sau khi ký" in html
    assert "Cảnh báo" in html
    # What failed is the file, not the certificate: no word of trust.
    assert "Không được tin cậy" not in html
    assert "Mọi chữ ký số trên văn bản đều hợp lệ." not in html
    api = client.post("/api/v1/verify", {"file": _upload(tamper(content))}).json()
    assert api["valid"] is False
    assert api["document"] is None
    assert all(not s["intact"] for s in api["signatures"])


def _upload(content: bytes, name: str = "ket-qua.pdf") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (None, 400, "Hãy chọn tệp PDF cần xác thực."),
        (b"\x89PNG\r\n\x1a\n not a pdf", 415, "Tệp này không phải là văn bản PDF."),
        (b"%PDF-1.7\n garbage without any structure", 422, "Không đọc được tệp PDF."),
    ],
)
def test_bad_uploads_get_a_clear_message_and_status(
    client: Client, content: bytes | None, status: int, message: str, vi: None
) -> None:
    data = {} if content is None else {"file": _upload(content)}
    answer = client.post("/xac-thuc/", data)
    assert answer.status_code == status
    assert message in answer.content.decode()


def test_an_oversized_upload_is_refused(client: Client, settings: Any, vi: None) -> None:
    settings.TINHSO_UPLOAD_MAX_BYTES = 1024 * 1024
    answer = client.post("/xac-thuc/", {"file": _upload(b"%PDF-1.7\n" + b"0" * 1024 * 1024)})
    assert answer.status_code == 413
    api = client.post("/api/v1/verify", {"file": _upload(b"%PDF-1.7\n" + b"0" * 1024 * 1024)})
    assert api.status_code == 413
    assert api.json()["code"] == "bad_file"


# --- revocation and expiry -----------------------------------------------------------------


def test_a_revoked_certificate_is_reported_revoked_is_in_the_crl_and_cannot_sign(
    client: Client, citizen: Any, vi: None, caplog: pytest.LogCaptureFixture
) -> None:
    dossier = approved(citizen)
    leader_cert = signing.personal_for(user("lanhdao.hacthanh"))
    certificate_revoke(certificate=leader_cert, reason="key_compromise")
    result = result_of(dossier)
    assert result.signed is not None
    with caplog.at_level("DEBUG"):
        html = client.get(f"/xac-thuc/{result.signed.public_id}/").content.decode()
    # A revoked certificate is an answer, not an error: no traceback in the server's log.
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert "ĐÃ BỊ THU HỒI" in html
    assert "Khóa bí mật bị lộ" in html
    assert "Còn hiệu lực đến" not in html  # revoked is not also "valid until …"
    # The CRL published at the address the certificate names lists it.
    cdp = x509_of(leader_cert).extensions.get_extension_for_class(x509.CRLDistributionPoints)
    url = cdp.value[0].full_name[0].value
    answer = client.get(url.removeprefix("http://127.0.0.1:8000"))
    assert answer["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(answer.content)
    revoked = crl.get_revoked_certificate_by_serial_number(int(leader_cert.serial, 16))
    assert revoked is not None
    # pyHanko reads the revocation from the CRL, not from our table.
    Certificate.objects.filter(pk=leader_cert.pk).update(revoked_at=None)
    assert pdf_verify(content_of(result)).signatures[0].revoked
    Certificate.objects.filter(pk=leader_cert.pk).update(revoked_at=timezone.now())
    # A revoked certificate signs nothing more: the leader cannot approve another result.
    other = dossier_submit(submission=submission(citizen))
    other = act(other, "tiepnhan.hacthanh", "accept")
    other = act(other, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    other = act(other, "chuyenvien.hacthanh", "forward")
    with pytest.raises(TransitionError, match="không có chứng thư số cá nhân còn hiệu lực"):
        act(other, "lanhdao.hacthanh", "approve")
    other.refresh_from_db()
    assert other.state == "approving"  # nothing half-written
    assert not other.documents.filter(kind=DocumentKind.RESULT).exists()
    with pytest.raises(signing.SigningError, match="revoked"), translation.override("en"):
        signing.document_sign(
            public_id=signing.verification_id_new(), content=content_of(result),
            title="x", reference="", agency=None, actor=None,
            requests=[signing.SignRequest(certificate=leader_cert, purpose="personal",
                                          field_name="Again", slot=None, reason="x")],
        )  # fmt: skip


def test_an_expired_certificate_cannot_sign_and_is_reported_expired(
    client: Client, vi: None
) -> None:
    issuing = Certificate.objects.get(kind=CertificateKind.ISSUING_CA)
    hac_thanh = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    old = certificate_issue(
        kind=CertificateKind.SEAL, subject=Subject("Con dấu cũ", hac_thanh.name),
        issuer=issuing, key_name="old-seal", agency=hac_thanh, days=30,
        not_before=timezone.now() - timedelta(days=60),
    )  # fmt: skip
    with pytest.raises(signing.SigningError):
        signing.document_sign(
            public_id=signing.verification_id_new(), content=_blank_pdf(), title="x",
            reference="", agency=hac_thanh, actor=None,
            requests=[signing.SignRequest(certificate=old, purpose="seal", field_name="S",
                                          slot=None, reason="x")],
        )  # fmt: skip
    # Signed while it was valid (the platform's check skipped), checked now: expired.
    content, _level = pdf_sign(
        _blank_pdf(), signer=signer_for(old), field_name="S", slot=Slot(0, (50, 50, 250, 110)),
        reason="x", location="x", lines=StampLines("Con dấu cũ", "", ""), verify_hint="-",
    )  # fmt: skip
    [item] = pdf_verify(content).signatures
    assert item.expired
    assert not item.ok
    html = client.post("/xac-thuc/", {"file": _upload(content)}).content.decode()
    assert "ĐÃ HẾT HẠN" in html


def _blank_pdf() -> bytes:
    from tinhso.dossiers.demo import simple_pdf

    return simple_pdf(["Van ban thu nghiem"])


# --- who may issue -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        ("038090000001", 403),  # the applicant
        ("vanthu.hoanghoa", 403),  # a clerk of another agency
        ("tiepnhan.hacthanh", 403),  # the right agency, not a clerk
        ("lanhdao.hacthanh", 403),  # the leader signs; the clerk seals
        ("vanthu.hacthanh", 200),
    ],
)
def test_only_a_clerk_of_the_agency_issues_the_result(
    client: Client, token_for: Any, citizen: Any, who: str | None, status: int
) -> None:
    dossier = approved(citizen)
    headers = token_for(user(who)) if who else {}
    answer = client.post(
        f"/api/v1/dossiers/{dossier.code}/actions",
        {"action": "issue", "version": dossier.version},
        content_type="application/json",
        headers=headers,
    )
    assert answer.status_code == status, answer.content
    signatures = pdf_verify(content_of(result_of(dossier))).signatures
    assert len(signatures) == (2 if status == 200 else 1)


def test_a_clerk_cannot_seal_with_a_department_seal_of_which_they_are_not_clerk(
    citizen: Any, token_for: Any, client: Client
) -> None:
    # The criminal-record result is signed for Sở Tư pháp; a clerk of the service centre
    # (which received it) may not seal it.
    from tinhso.accounts.services import membership_grant

    centre = Agency.objects.get(kind="service_centre")
    centre_clerk = User.objects.get(username="tiepnhan")
    membership_grant(actor=None, user=centre_clerk, agency=centre, role="clerk")
    from test_inter_agency import criminal_record_request

    dossier = criminal_record_request(citizen)
    for who, action in [("tiepnhan", "accept"), ("chuyenvien", "forward")]:
        if action == "forward":
            dossier = act(dossier, "tiepnhan", "assign", assignee=user("chuyenvien"))
        dossier = act(dossier, who, action)
    dossier = act(dossier, "lanhdao", "approve", note="Không có án tích")
    answer = client.post(
        f"/api/v1/dossiers/{dossier.code}/actions",
        {"action": "issue", "version": dossier.version},
        content_type="application/json",
        headers=token_for(centre_clerk),
    )
    assert answer.status_code == 403
    assert act(dossier, "vanthu.tuphap", "issue").status == 9


# --- signature levels: B-T with a time-stamping authority, B-LT -----------------------------


@pytest.fixture
def tsa_url() -> Iterator[str]:
    """An RFC 3161 time-stamping authority over HTTP (pyHanko's test TSA behind a real
    socket), with a certificate from the demo issuing CA."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    issuing = Certificate.objects.get(kind=CertificateKind.ISSUING_CA)
    row = certificate_issue(
        kind=CertificateKind.TSA, subject=Subject("Tỉnh Số Demo TSA", "Tỉnh Số"),
        issuer=issuing, key_name="tsa",
        not_before=timezone.now() - timedelta(days=10),
    )  # fmt: skip
    key = private_key(row)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(x509_of(row).public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()


def test_with_a_tsa_signatures_are_b_t_and_with_validation_data_b_lt(
    citizen: Any, settings: Any, tsa_url: str
) -> None:
    settings.TINHSO_TSA_URL = tsa_url
    dossier = dossier_submit(submission=submission(citizen))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    bm01 = dossier.documents.get(kind=DocumentKind.BM01)
    [item] = pdf_verify(content_of(bm01)).signatures
    assert item.ok
    assert item.timestamped
    assert Signature.objects.get(document=bm01.signed).level == "B-T"
    settings.TINHSO_SIGNING_LTV = True
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    dossier = act(dossier, "chuyenvien.hacthanh", "ask_more", note="Bổ sung xác nhận cư trú")
    bm02 = dossier.documents.get(kind=DocumentKind.BM02)
    content = content_of(bm02)
    assert Signature.objects.get(document=bm02.signed).level == "B-LT"
    catalog = PdfReader(io.BytesIO(content)).trailer["/Root"]
    dss = catalog["/DSS"]
    assert len(dss["/CRLs"]) >= 2  # the issuing CA's and the root's
    assert len(dss["/Certs"]) >= 2
    assert pdf_verify(content).ok


# --- where keys live: PKCS#11 token, remote signing service -----------------------------


def test_a_key_on_a_pkcs11_token_signs(tmp_path: Path, settings: Any, in_ci: bool) -> None:
    tool = need("softhsm2-util", in_ci)
    module = next(
        (p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                     "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if Path(p).exists()),
        None,
    )  # fmt: skip
    assert module is not None
    (tmp_path / "tokens").mkdir()
    config = tmp_path / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = {"SOFTHSM2_CONF": str(config), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [tool, "--init-token", "--free", "--label", "tinhso", "--pin", "1234", "--so-pin", "5678"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    issuing = Certificate.objects.get(kind=CertificateKind.ISSUING_CA)
    hac_thanh = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    made = certificate_issue(
        kind=CertificateKind.SEAL, subject=Subject(hac_thanh.name, hac_thanh.name, unit="HSM"),
        issuer=issuing, key_name="hsm", agency=hac_thanh,
    )  # fmt: skip
    key = private_key(made)
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    subprocess.run(
        [tool, "--import", str(pem), "--token", "tinhso", "--label", "seal-hsm", "--id", "01",
         "--pin", "1234"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    pem.unlink()
    StoredKey.objects.filter(certificate=made).delete()  # the key lives on the token
    Certificate.objects.filter(pk=made.pk).update(key_uri="pkcs11:token=tinhso;object=seal-hsm")
    made.refresh_from_db()
    settings.TINHSO_PKCS11_MODULE = module
    settings.TINHSO_PKCS11_PIN = "1234"
    import os

    os.environ["SOFTHSM2_CONF"] = str(config)
    try:
        document = signing.document_sign(
            public_id=signing.verification_id_new(), content=_blank_pdf(), title="HSM",
            reference="", agency=hac_thanh, actor=None,
            requests=[signing.SignRequest(certificate=made, purpose="seal", field_name="HSM",
                                          slot=Slot(0, (50, 50, 250, 110)), reason="x")],
        )  # fmt: skip
    finally:
        del os.environ["SOFTHSM2_CONF"]
    [item] = pdf_verify(signing.signed_content(document)).signatures
    assert item.ok
    assert item.serial == made.serial
    settings.TINHSO_PKCS11_PIN = "0000"
    with pytest.raises(SignerError), signer_for(made).open():
        pass
    # Revoked: refused before the token is opened.
    Certificate.objects.filter(pk=made.pk).update(revoked_at=timezone.now())
    with (
        pytest.raises(SignerError, match="revoked"),
        translation.override("en"),
        signer_for(made).open(),
    ):
        pass


class _LocalSigningService:
    """A remote signing service as a CA would run it: it holds the key and signs bytes."""

    def __init__(self, key: Any) -> None:
        self.key = key
        self.calls: list[str] = []

    def sign(self, *, key_id: str, data: bytes, digest_algorithm: str) -> bytes:
        self.calls.append(key_id)
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def test_a_remote_signing_service_signs_through_the_interface(settings: Any) -> None:
    issuing = Certificate.objects.get(kind=CertificateKind.ISSUING_CA)
    lanhdao = user("lanhdao.hacthanh")
    made = certificate_issue(
        kind=CertificateKind.PERSONAL, subject=Subject("Đỗ Minh Tuấn", "UBND phường Hạc Thành"),
        issuer=issuing, key_name="remote", user=lanhdao,
    )  # fmt: skip
    key = private_key(made)
    service = _LocalSigningService(key)
    content, _level = pdf_sign(
        _blank_pdf(), signer=RemoteSigner(made, "ca-key-42", service), field_name="Remote",
        slot=Slot(0, (50, 50, 250, 110)), reason="x", location="x",
        lines=StampLines("Đỗ Minh Tuấn", "", ""), verify_hint="-",
    )  # fmt: skip
    assert service.calls == ["ca-key-42"]
    assert pdf_verify(content).ok
    # Revoked (on any server): refused before the service is asked to sign anything.
    Certificate.objects.filter(pk=made.pk).update(revoked_at=timezone.now())
    with (
        pytest.raises(SignerError, match="revoked"),
        translation.override("en"),
        RemoteSigner(made, "ca-key-42", service).open(),
    ):
        pass
    assert service.calls == ["ca-key-42"]
    Certificate.objects.filter(pk=made.pk).update(revoked_at=None)

    # The same over HTTP: the platform's client against a service on a real socket.
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.headers.get("Authorization") != "Bearer s3cret":
                self.send_error(401)
                return
            signature = service.sign(
                key_id=body["key_id"], data=base64.b64decode(body["data"]),
                digest_algorithm=body["digest_algorithm"],
            )  # fmt: skip
            reply = json.dumps({"signature": base64.b64encode(signature).decode()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.TINHSO_REMOTE_SIGNER_URL = f"http://127.0.0.1:{server.server_address[1]}"
        settings.TINHSO_REMOTE_SIGNER_TOKEN = "s3cret"
        Certificate.objects.filter(pk=made.pk).update(key_uri="remote:ca-key-42")
        made.refresh_from_db()
        content, _level = pdf_sign(
            _blank_pdf(), signer=signer_for(made), field_name="Remote", slot=None,
            reason="x", location="x", lines=StampLines("Đỗ Minh Tuấn", "", ""), verify_hint="-",
        )  # fmt: skip
        assert pdf_verify(content).ok
        settings.TINHSO_REMOTE_SIGNER_TOKEN = "wrong"
        with pytest.raises(SignerError):
            pdf_sign(
                _blank_pdf(), signer=signer_for(made), field_name="Remote", slot=None,
                reason="x", location="x", lines=StampLines("x", "", ""), verify_hint="-",
            )  # fmt: skip
    finally:
        server.shutdown()


# --- keys in the database, opened once per process (ADR 0024) ------------------------------


def _seal_sign(certificate: Certificate) -> bytes:
    content, _level = pdf_sign(
        _blank_pdf(), signer=signer_for(certificate), field_name="Seal",
        slot=Slot(0, (50, 50, 250, 110)), reason="x", location="x",
        lines=StampLines(certificate.common_name, "", ""), verify_hint="-",
    )  # fmt: skip
    return content


def test_new_keys_live_in_the_database_encrypted_and_bound_to_their_certificate(
    settings: Any,
) -> None:
    issuing = Certificate.objects.get(kind=CertificateKind.ISSUING_CA)
    assert issuing.key_uri.startswith("db:")
    made = certificate_issue(
        kind=CertificateKind.PERSONAL, subject=Subject("Lê Thị Hoa", "UBND phường Hạc Thành"),
        issuer=issuing, key_name="hoa",
    )  # fmt: skip
    assert made.key_uri == f"db:{made.fingerprint[:16]}"
    assert not list(pki_dir().glob("**/hoa-*"))  # nothing on this server's disk
    stored = StoredKey.objects.get(certificate=made)
    plain = private_key(made).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    assert plain[40:80] not in bytes(stored.ciphertext)
    assert pdf_verify(_seal_sign(made)).ok
    # Another certificate's row with this ciphertext does not decrypt (associated data).
    other = Certificate.objects.filter(kind=CertificateKind.SEAL).first()
    assert other is not None
    StoredKey.objects.filter(certificate=other).update(
        nonce=stored.nonce, ciphertext=stored.ciphertext
    )
    other.refresh_from_db()
    signers.OPENED.clear()
    with pytest.raises(SignerError, match="altered or moved"), translation.override("en"):
        _seal_sign(other)
    # Under another key-encryption key nothing opens, and the message says which setting.
    settings.TINHSO_KEY_ENCRYPTION_KEY = "another-key-encryption-key-of-32-characters"
    signers.OPENED.clear()
    with pytest.raises(SignerError, match="TINHSO_KEY_ENCRYPTION_KEY"), translation.override("en"):
        _seal_sign(made)


def test_an_opened_key_is_reused_until_its_certificate_is_revoked_on_any_server() -> None:
    seal = signing.seal_for(Agency.objects.get(admin_unit_name="Phường Hạc Thành"))
    signers.OPENED.clear()
    with signer_for(seal).open() as first:
        pass
    with signer_for(seal).open() as second:
        pass
    assert first is second  # parsed once in this process
    # Revoked by another process: nothing is sent to this one, the next use reads it.
    Certificate.objects.filter(pk=seal.pk).update(revoked_at=timezone.now())
    with pytest.raises(SignerError, match="revoked"), translation.override("en"):
        _seal_sign(seal)
    assert not [k for k in signers.OPENED.entries if k[0] == seal.fingerprint]
    # A key deleted from the database signs nothing either, even when opened before.
    Certificate.objects.filter(pk=seal.pk).update(revoked_at=None)
    _seal_sign(seal)
    StoredKey.objects.filter(certificate=seal).delete()
    with pytest.raises(SignerError, match="no private key"), translation.override("en"):
        _seal_sign(seal)


def _font_programs(node: Any, seen: set[int] | None = None) -> list[bytes]:
    """The TrueType programs (/FontFile2) reachable from `node`."""
    from pyhanko.pdf_utils import generic

    seen = seen if seen is not None else set()
    if isinstance(node, generic.IndirectObject):
        if node.idnum in seen:
            return []
        seen.add(node.idnum)
        node = node.get_object()
    found: list[bytes] = []
    if isinstance(node, generic.DictionaryObject):
        for key, value in node.items():
            if key == "/FontFile2":
                found.append(value.get_object().data)
            elif key not in ("/Parent", "/P"):  # not up to the page and its own fonts
                found += _font_programs(value, seen)
    elif isinstance(node, generic.ArrayObject):
        for value in node:
            found += _font_programs(value, seen)
    return found


def test_stamps_share_the_parsed_font_and_one_signer_one_font_subset(in_ci: bool) -> None:
    """The stamp font is parsed once per process; the subset embedded in a stamp holds
    the ASCII letters whatever the stamp says, so the stamps of one signer (each with its
    own random verification address) share one subset, and the text reads back."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from tinhso.core.pdf import FONTS
    from tinhso.signing.stamp_font import face

    seal = signing.seal_for(Agency.objects.get(admin_unit_name="Phường Hạc Thành"))
    shared = face(str(FONTS / "DejaVuSerif-stamp.ttf"))
    shared.subsets.clear()
    documents = []
    for _ in range(3):
        content, _level = pdf_sign(
            _blank_pdf(), signer=signer_for(seal), field_name="Seal",
            slot=Slot(0, (50, 50, 300, 110)), reason="x", location="x",
            lines=StampLines(seal.common_name, "Văn thư", ""),
            verify_hint=signing.verification_url(signing.verification_id_new()),
        )  # fmt: skip
        assert pdf_verify(content).ok
        documents.append(content)
    assert len(shared.subsets) == 1
    assert face(str(FONTS / "DejaVuSerif-stamp.ttf")) is shared
    # The embedded program is a real subset: smaller than the face, not empty.
    programs = _font_programs(PdfFileReader(io.BytesIO(documents[0])).root["/AcroForm"])
    assert len(programs) == 1
    assert 2_000 < len(programs[0]) < len(shared.data) / 2
    tool = need("pdftotext", in_ci)
    done = subprocess.run([tool, "-", "-"], input=documents[1], capture_output=True, check=True)
    assert f"Ký bởi: {seal.common_name}" in done.stdout.decode()


def test_pki_keys_to_db_moves_key_files_into_the_database() -> None:
    seal = signing.seal_for(Agency.objects.get(admin_unit_name="Xã Hoằng Hóa"))
    key = private_key(seal)
    folder = pki_dir() / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "legacy-seal.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"legacy", key, x509_of(seal), None,  # type: ignore[arg-type]
            serialization.BestAvailableEncryption(signing_passphrase()),
        )
    )  # fmt: skip
    StoredKey.objects.filter(certificate=seal).delete()
    Certificate.objects.filter(pk=seal.pk).update(key_uri="pkcs12:keys/legacy-seal.p12")
    seal.refresh_from_db()
    assert pdf_verify(_seal_sign(seal)).ok  # a file key still signs until it is moved
    out = io.StringIO()
    call_command("pki_keys_to_db", stdout=out)
    assert "1 key(s) moved" in out.getvalue()
    seal.refresh_from_db()
    assert seal.key_uri.startswith("db:")
    assert not path.exists()
    assert AuditEntry.objects.filter(action="signing.key_moved_to_database").exists()
    assert pdf_verify(_seal_sign(seal)).ok
    call_command("pki_keys_to_db", stdout=out)  # again: nothing left to move
    assert "0 key(s) moved" in out.getvalue()


# --- the PKI commands ----------------------------------------------------------------------


def test_pki_commands_export_revoke_and_import_an_outside_ca(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("pki_export_root", stdout=out)
    root = x509.load_pem_x509_certificate(out.getvalue().encode())
    assert root.subject == root.issuer
    seal = signing.seal_for(Agency.objects.get(admin_unit_name="Xã Hoằng Hóa"))
    call_command("pki_revoke", seal.serial, "--reason", "superseded", stdout=io.StringIO())
    seal.refresh_from_db()
    assert seal.revoked_at is not None
    assert seal.revocation_reason == "superseded"
    assert AuditEntry.objects.filter(action="signing.certificate_revoked").exists()

    # A real deployment's own CA: its root is imported, then an agency's PKCS#12.
    from cryptography.hazmat.primitives.asymmetric import rsa

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Outside Root CA")])
    now = timezone.now()
    ca = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    agency = Agency.objects.get(admin_unit_name="Xã Hoằng Hóa")
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, agency.name)]))
        .issuer_name(name).public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=60))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                     False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "root.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "seal.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", leaf_key, leaf, None, serialization.BestAvailableEncryption(b"outside")
        )
    )
    call_command("pki_import", "--ca", str(tmp_path / "root.pem"), stdout=io.StringIO())
    import os

    os.environ["TINHSO_IMPORT_PASSPHRASE"] = "outside"
    try:
        call_command(
            "pki_import", "--p12", str(tmp_path / "seal.p12"), "--agency", agency.code,
            stdout=io.StringIO(),
        )  # fmt: skip
    finally:
        del os.environ["TINHSO_IMPORT_PASSPHRASE"]
    imported = signing.seal_for(agency)
    assert imported.common_name == agency.name
    document = signing.document_sign(
        public_id=signing.verification_id_new(), content=_blank_pdf(), title="x",
        reference="", agency=agency, actor=None,
        requests=[signing.SignRequest(certificate=imported, purpose="seal", field_name="S",
                                      slot=Slot(0, (50, 50, 250, 110)), reason="x")],
    )  # fmt: skip
    [item] = pdf_verify(signing.signed_content(document)).signatures
    assert item.trusted
    assert item.ok


def test_the_province_admin_revokes_a_certificate_in_the_admin(client: Client) -> None:
    hac_thanh = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    seal = signing.seal_for(hac_thanh)
    client.force_login(user("bientap"))  # a catalogue editor: staff, not a superuser
    action = {"action": "revoke_key_compromise", "_selected_action": [seal.pk]}
    client.post("/quan-tri/signing/certificate/", action)
    seal.refresh_from_db()
    assert seal.revoked_at is None
    client.force_login(user("admin"))
    assert client.post("/quan-tri/signing/certificate/", action).status_code == 302
    seal.refresh_from_db()
    assert (seal.revocation_reason, seal.revoked_at is not None) == ("key_compromise", True)
    entry = AuditEntry.objects.filter(action="signing.certificate_revoked").latest("id")
    assert entry.actor_label == "admin"
    with pytest.raises(signing.SigningError):
        signing.seal_for(hac_thanh)


def test_a_lapsing_crl_is_renewed_before_it_is_served(client: Client) -> None:
    from tinhso.signing.models import RevocationList

    issuing = Certificate.objects.get(kind=CertificateKind.ISSUING_CA)
    RevocationList.objects.update(next_update=timezone.now() - timedelta(hours=1))
    before = RevocationList.objects.filter(issuer=issuing).count()
    answer = client.get(f"/pki/{issuing.fingerprint[:16]}.crl")
    crl = x509.load_der_x509_crl(answer.content)
    assert crl.next_update_utc is not None
    assert crl.next_update_utc > timezone.now() + timedelta(days=6)
    assert crl.is_signature_valid(x509_of(issuing).public_key())  # type: ignore[arg-type]
    assert RevocationList.objects.filter(issuer=issuing).count() == before + 1
    assert client.get("/pki/0000000000000000.crl").status_code == 404
