"""Public verification of signed documents (/xac-thuc/), and the PKI's published files
(CRLs and CA certificates under /pki/)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tinhso.signing.pki import x509_of
from tinhso.signing.selectors import (
    ca_by_slug,
    crl_newest,
    document_by_public_id,
    verification_of_stored,
    verification_of_upload,
)


class UploadError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def pdf_upload_read(upload: UploadedFile | None) -> bytes:
    """The content of an uploaded PDF to verify; UploadError (message, status) if there is
    none, it is too large, or it is not a PDF."""
    limit = settings.TINHSO_UPLOAD_MAX_BYTES
    if upload is None:
        raise UploadError(_("Choose the PDF file to verify."), 400)
    if (upload.size or 0) > limit:
        raise UploadError(
            _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, 413
        )
    content: bytes = upload.read()
    if not content.lstrip()[:5] == b"%PDF-":
        raise UploadError(_("This file is not a PDF document."), 415)
    return content


@require_http_methods(["GET", "POST"])
def verify_upload(request: HttpRequest) -> HttpResponse:
    """/xac-thuc/: anyone uploads a PDF and learns what its signatures are worth."""
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        try:
            verification = verification_of_upload(pdf_upload_read(request.FILES.get("file")))
        except UploadError as problem:
            context["error"], status = problem.message, problem.status
        else:
            context["verification"] = verification
            if not verification.report.readable:
                context["error"], status = _("The PDF file cannot be read."), 422
    return render(request, "signing/verify.html", context, status=status)


def verify_document(request: HttpRequest, public_id: str) -> HttpResponse:
    """/xac-thuc/<id>/: what a document's QR code opens."""
    document = document_by_public_id(public_id)
    if document is None:
        return render(
            request, "signing/verify.html", {"error": _("No document has this code.")}, status=404
        )
    return render(
        request,
        "signing/verify.html",
        {"verification": verification_of_stored(document), "from_qr": True},
    )


def crl(request: HttpRequest, slug: str) -> HttpResponse:
    issuer = ca_by_slug(slug)
    newest = crl_newest(issuer) if issuer is not None else None
    if newest is None:
        raise Http404
    response = HttpResponse(bytes(newest.der), content_type="application/pkix-crl")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def ca_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    issuer = ca_by_slug(slug)
    if issuer is None:
        raise Http404
    der = x509_of(issuer).public_bytes(serialization.Encoding.DER)
    response = HttpResponse(der, content_type="application/pkix-cert")
    response["Content-Disposition"] = f'attachment; filename="{slug}.crt"'
    return response
