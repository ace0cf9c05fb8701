"""Uploads are parsed whole before they are accepted: malformed files, polyglots, active
content, password protection and decompression bombs are refused with a message naming
the file; stored uploads are served as sandboxed downloads."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf.generic import NameObject

import samples
from tinhso.core import files
from tinhso.core.filecheck import PDF_MAX_PAGES
from tinhso.opendata.formats import detect


def refused(content: bytes, name: str = "giay-to.pdf") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        files.check_upload(None, name=name, content=content)
    assert name in caught.value.messages[0], "the message names the file"
    return caught.value


def test_ordinary_pdfs_and_images_are_accepted(tmp_path: Any) -> None:
    link = samples.link_action(samples.action("/URI", URI="https://dichvucong.gov.vn/"))
    for name, content in [
        ("demo.pdf", samples.pdf()),
        ("pypdf.pdf", samples.pypdf_pdf()),
        ("ky-so.pdf", _signed_twice(samples.pdf(), tmp_path)),
        ("lien-ket.pdf", samples.pypdf_pdf(link)),
        ("anh.png", samples.png()),
        ("anh-xam.png", samples.png(mode="L")),
        ("anh.jpg", samples.jpeg()),
    ]:
        assert files.check_upload(None, name=name, content=content).sha256


def _signed_twice(content: bytes, folder: Any) -> bytes:
    """Signed, then signed again (two incremental updates, as a result with the leader's
    signature and the agency's seal has), with a throw-away key."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Thử nghiệm")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    signer = signers.SimpleSigner.load(str(folder / "key.pem"), str(folder / "cert.pem"))
    for field in ("Sig1", "Sig2"):
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(content)),
            signers.PdfSignatureMetadata(field_name=field),
            signer=signer,
        )
        content = out.getvalue()
    return content


def _opening(kind: str, **entries: object) -> Callable[[], bytes]:
    return lambda: samples.pypdf_pdf(samples.open_action(samples.action(kind, **entries)))


def _linking(kind: str, **entries: object) -> Callable[[], bytes]:
    return lambda: samples.pypdf_pdf(samples.link_action(samples.action(kind, **entries)))


ESCAPED_JS = b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (x) >> >>"

HOSTILE_PDFS = {
    # The three: a header followed by a Windows program, JavaScript run when the
    # document opens, and a file that only looks like a PDF.
    "header-then-exe": (lambda: b"%PDF-1.7\n" + samples.EXE, "file_malformed"),
    "openaction-js": (_opening("/JavaScript", JS="app.alert(1)"), "file_active_content"),
    "garbage": (lambda: b"%PDF-1.7\n garbage, no structure\n%%EOF\n", "file_malformed"),
    "truncated": (lambda: samples.pdf()[:-40], "file_malformed"),
    # Data that is not the PDF: after it, hidden between its objects, a ZIP around it.
    "exe-appended": (lambda: samples.pdf() + samples.EXE, "file_polyglot"),
    "exe-between-objects": (
        lambda: samples.raw_pdf(samples.PAGE_BODIES, hidden=samples.EXE + b"\n"),
        "file_polyglot",
    ),
    "zip-polyglot": (samples.zip_polyglot, "file_polyglot"),
    # Active content anywhere, however it is spelled.
    "names-tree-js": (lambda: samples.pypdf_pdf(samples.names_tree_js), "file_active_content"),
    "page-aa-js": (
        lambda: samples.pypdf_pdf(samples.page_action(samples.action("/JavaScript", JS="x"))),
        "file_active_content",
    ),
    "launch": (_opening("/Launch", F="cmd.exe"), "file_active_content"),
    "submitform": (_linking("/SubmitForm", F="https://evil.example/"), "file_active_content"),
    "importdata": (_linking("/ImportData", F="data.fdf"), "file_active_content"),
    "gotor": (_linking("/GoToR", F="other.pdf"), "file_active_content"),
    "embedded-file": (
        lambda: samples.pypdf_pdf(lambda w: w.add_attachment("run.exe", samples.EXE)),
        "file_active_content",
    ),
    "xfa": (lambda: samples.pypdf_pdf(samples.xfa_form), "file_active_content"),
    "escaped-names": (
        lambda: samples.raw_pdf([ESCAPED_JS, *samples.PAGE_BODIES[1:]]),
        "file_active_content",
    ),
    # Limits: a decompression bomb, a password.
    "bomb": (lambda: samples.pypdf_pdf(samples.inflating_stream), "file_decompression_bomb"),
    "password": (
        lambda: samples.pypdf_pdf(lambda w: w.encrypt("mat-khau")),
        "file_encrypted",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_PDFS)
def test_hostile_pdfs_are_refused(case: str) -> None:
    make, code = HOSTILE_PDFS[case]
    assert refused(make()).code == code


def test_the_zip_polyglot_is_really_a_zip() -> None:
    # The fixture above must be what it claims, or its refusal would prove nothing.
    with zipfile.ZipFile(io.BytesIO(samples.zip_polyglot())) as archive:
        assert archive.namelist() == ["run.exe"]


def test_a_pdf_with_an_empty_password_is_inspected_and_accepted() -> None:
    # Permissions-only encryption (no password to open it) is common and can be read.
    assert files.check_upload(
        None, name="quyen.pdf", content=samples.pypdf_pdf(lambda w: w.encrypt(""))
    )
    hidden = samples.pypdf_pdf(
        lambda w: (samples.names_tree_js(w), w.encrypt(""))  # type: ignore[func-returns-value]
    )
    assert refused(hidden).code == "file_active_content"


def test_too_many_pages_are_refused() -> None:
    error = refused(samples.pypdf_pdf(pages=PDF_MAX_PAGES + 1))
    assert error.code == "file_too_many_pages"
    assert str(PDF_MAX_PAGES) in error.messages[0]


def test_the_message_is_in_vietnamese_and_says_what_was_found() -> None:
    error = refused(
        samples.pypdf_pdf(samples.open_action(samples.action("/JavaScript", JS="x"))),
        name="Giấy chứng sinh.pdf",
    )
    assert error.messages == [
        "Tệp Giấy chứng sinh.pdf có nội dung chủ động (JavaScript), không được chấp nhận; "
        "hãy in ra một tệp PDF mới rồi đính kèm tệp đó."
    ]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("anh.png", samples.png() + samples.EXE, "file_polyglot"),
        ("anh.jpg", samples.jpeg() + b"PK\x03\x04" + b"\x00" * 40, "file_polyglot"),
        ("anh.jpg", samples.jpeg()[:-30], "file_malformed"),
        ("anh.png", samples.png()[:-20], "file_malformed"),
        # A PNG signature before JPEG data: the format must be the one announced.
        ("anh.png", b"\x89PNG\r\n\x1a\n" + samples.jpeg(), "file_malformed"),
        ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "file_malformed"),
        ("anh.png", samples.png(size=(8000, 7000), mode="1"), "file_too_many_pixels"),
        ("anh.png", samples.png(size=(12000, 12000), mode="1"), "file_too_many_pixels"),
    ],
    ids=["png-exe", "jpeg-zip", "jpeg-truncated", "png-truncated", "png-jpeg", "png-zeros",
         "50mp", "pillow-bomb"],
)  # fmt: skip
def test_hostile_images_are_refused(name: str, content: bytes, code: str) -> None:
    assert refused(content, name=name).code == code


def test_png_with_a_broken_checksum_is_refused() -> None:
    content = bytearray(samples.png())
    content[-20] ^= 0xFF  # inside the last data chunk
    assert refused(bytes(content), name="anh.png").code == "file_malformed"


def test_open_data_pdfs_get_the_same_checks() -> None:
    assert detect("bao-cao.pdf", samples.pdf()).format == "PDF"
    with pytest.raises(ValidationError) as caught:
        detect("bao-cao.pdf", samples.pdf() + samples.EXE)
    assert caught.value.code == "file_polyglot"
    with pytest.raises(ValidationError) as caught:
        detect("bao-cao.pdf", samples.pypdf_pdf(samples.names_tree_js))
    assert caught.value.code == "file_active_content"


def test_the_web_form_shows_the_refusal(login_client: Any, citizen: Any) -> None:
    from test_submission import _web_post

    client = login_client(citizen)
    hostile = samples.pypdf_pdf(samples.open_action(samples.action("/JavaScript", JS="x")))
    response = _web_post(
        client, SimpleUploadedFile("cs.pdf", hostile, content_type="application/pdf")
    )
    assert response.status_code == 400
    assert "cs.pdf có nội dung chủ động (JavaScript)" in response.content.decode()


# --- Serving --------------------------------------------------------------------------------


def test_a_download_name_is_safe_and_keeps_vietnamese() -> None:
    assert files.download_name("../../etc/Giấy chứng sinh.exe", ".pdf") == "Giấy chứng sinh.pdf"
    assert files.download_name('a\r\nb".pdf', ".pdf") == 'ab".pdf'
    assert files.download_name("", ".png") == "tep.png"
    assert files.attachment_disposition("scan.pdf") == 'attachment; filename="scan.pdf"'
    assert files.attachment_disposition("Giấy chứng sinh.pdf") == (
        'attachment; filename="Giay chung sinh.pdf"; '
        "filename*=UTF-8''Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20sinh.pdf"
    )
    assert files.attachment_disposition('a"b.pdf') == (
        "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"
    )


def test_an_official_downloads_an_attachment_sandboxed(
    login_client: Any, citizen: Any, settings: Any
) -> None:
    from test_submission import submission
    from tinhso.accounts.models import User
    from tinhso.dossiers.services import dossier_submit

    dossier = dossier_submit(submission=submission(citizen))
    attached = dossier.files.get()
    attached.original_name = "Giấy chứng sinh.pdf"
    attached.save()
    client = login_client(User.objects.get(username="tiepnhan.hacthanh"))
    response = client.get(f"/can-bo/ho-so/{dossier.code}/tep/{attached.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="Giay chung sinh.pdf"; '
        "filename*=UTF-8''Gi%E1%BA%A5y%20ch%E1%BB%A9ng%20sinh.pdf"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == attached_content(attached.storage_name)


def attached_content(name: str) -> bytes:
    return files.read_bytes(name)


@pytest.mark.django_db
def test_an_open_data_file_downloads_sandboxed(
    client: Any, settings: Any, seeded_files: Any
) -> None:
    from tinhso.opendata.models import Resource

    settings.MEDIA_ROOT = seeded_files
    resource = Resource.objects.filter(dataset__private=False).exclude(stored_file="").first()
    assert resource is not None
    response = client.get(f"/dataset/{resource.dataset.name}/resource/{resource.pk}/download/x")
    assert response.status_code == 200, response
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_javascript_fixture_is_where_viewers_run_it() -> None:
    # Its refusal would prove nothing if the writer had put the action elsewhere.
    from pypdf import PdfReader

    content = samples.pypdf_pdf(samples.open_action(samples.action("/JavaScript", JS="x")))
    opened = PdfReader(io.BytesIO(content)).root_object["/OpenAction"].get_object()
    assert opened["/S"] == NameObject("/JavaScript")
    assert opened["/JS"] == "x"
