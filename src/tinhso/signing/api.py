"""GET /api/v1/verify/{id} and POST /api/v1/verify: what the verification page says, as
JSON, for anyone."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from tinhso.core.api import ErrorOut
from tinhso.signing.selectors import (
    Verification,
    document_by_public_id,
    verification_of_stored,
    verification_of_upload,
)
from tinhso.signing.views import UploadError, pdf_upload_read

router = Router(tags=["verification"])


class SignatureOut(Schema):
    field_name: str
    signer: str
    title: str
    organisation: str
    kind: str
    serial: str
    signed_at: datetime | None
    timestamped: bool
    intact: bool
    trusted: bool
    revoked: bool
    revoked_at: datetime | None
    expired: bool
    not_after: datetime | None
    changed_after: bool
    valid: bool


class DocumentOut(Schema):
    public_id: str
    title: str
    dossier: str
    agency: str
    issued_at: datetime
    sha256: str


class VerificationOut(Schema):
    valid: bool
    readable: bool
    sha256: str
    issued_copy: bool
    document: DocumentOut | None
    signatures: list[SignatureOut]


def _out(verification: Verification) -> dict[str, object]:
    document = verification.document
    return {
        "valid": verification.report.ok,
        "readable": verification.report.readable,
        "sha256": verification.sha256,
        "issued_copy": verification.is_issued_copy,
        "document": None
        if document is None
        else {
            "public_id": document.public_id,
            "title": document.title,
            "dossier": document.reference,
            "agency": document.agency.name if document.agency else "",
            "issued_at": document.created_at,
            "sha256": document.sha256,
        },
        "signatures": [{**vars(s), "valid": s.ok} for s in verification.report.signatures],
    }


@router.get(
    "/{public_id}",
    response={200: VerificationOut, 404: ErrorOut},
    auth=None,
    summary="Verify a document the platform issued (the id its QR code carries)",
)
def verify_issued(request: HttpRequest, public_id: str) -> Status[object]:
    document = document_by_public_id(public_id)
    if document is None:
        return Status(404, {"detail": _("No document has this code."), "code": "not_found"})
    return Status(200, _out(verification_of_stored(document)))


@router.post(
    "",
    response={200: VerificationOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="Verify the signatures of any PDF (multipart field `file`)",
)
def verify_file(request: HttpRequest, file: File[UploadedFile]) -> Status[object]:
    try:
        content = pdf_upload_read(file)
    except UploadError as problem:
        return Status(problem.status, {"detail": problem.message, "code": "bad_file"})
    return Status(200, _out(verification_of_upload(content)))
