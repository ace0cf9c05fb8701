"""Signing the documents the platform issues. Every use of a private key happens here, is
refused for a revoked or expired certificate, and writes an audit entry in the caller's
transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core import files as stored_files
from tinhso.core.audit import audit_record
from tinhso.core.errors import DomainError
from tinhso.signing.models import (
    Certificate,
    CertificateKind,
    Signature,
    SignedDocument,
)
from tinhso.signing.pades import (
    PdfDraft,
    Slot,
    StampLines,
    pdf_reserve_fields,
    pdf_sign,
    pdf_sign_draft,
)
from tinhso.signing.signers import SignerError, signer_for


class SigningError(DomainError):
    """A signature that cannot be made: no valid certificate, a revoked or expired key, a
    signer that fails (message for the official; 422 `signing`)."""

    code = "signing"


def verification_id_new() -> str:
    """What a document's QR code carries: 96 random bits (nobody can guess another's)."""
    return secrets.token_urlsafe(12)


def verification_url(public_id: str) -> str:
    """The public address a document's QR code opens (/xac-thuc/<id>/)."""
    return settings.TINHSO_PUBLIC_URL + reverse("signing:document", args=[public_id])


def _can_sign_now(kind: str) -> QuerySet[Certificate]:
    """Certificates of `kind` whose key the platform may use now, newest first."""
    now = timezone.now()
    return (
        Certificate.objects.filter(
            kind=kind, revoked_at__isnull=True, not_before__lte=now, not_after__gte=now
        )
        .exclude(key_uri="")
        .select_related("agency")  # where the signature says it was made
        .order_by("-not_before")
    )


def seal_for(agency: Agency) -> Certificate:
    """The agency's seal certificate that can sign now (the newest)."""
    row = _can_sign_now(CertificateKind.SEAL).filter(agency=agency).first()
    if row is None:
        raise SigningError(
            _("%(agency)s has no valid seal certificate to sign with.") % {"agency": agency}
        )
    return row


def personal_for(user: User, agency: Agency | None = None) -> Certificate:
    """The official's personal certificate that can sign now (for `agency` when given)."""
    rows = _can_sign_now(CertificateKind.PERSONAL).filter(user=user)
    if agency is not None:
        rows = rows.filter(Q(agency=agency) | Q(agency__isnull=True))
    row = rows.first()
    if row is None:
        raise SigningError(
            _("%(name)s has no valid personal certificate to sign with.")
            % {"name": getattr(user, "full_name", "") or user}
        )
    return row


@dataclass(frozen=True)
class SignRequest:
    certificate: Certificate
    purpose: str
    field_name: str
    slot: Slot | None
    reason: str
    signer_user: Any = None


def _location(certificate: Certificate) -> str:
    agency = certificate.agency
    return (agency.admin_unit_name if agency is not None else "") or "Việt Nam"


def _apply(
    content: bytes | PdfDraft,
    request: SignRequest,
    *,
    document: SignedDocument,
    actor: User | None,
    reserved: list[tuple[str, Slot]] | None = None,
) -> bytes:
    """Sign `content` with `request`: a PDF already written (an incremental update), or a
    draft written now with this signature (and the empty `reserved` fields)."""
    # A signature is made now, whatever date the document bears (historical imports too):
    # the certificate must be valid now, and the stamp shows the real time. Its validity
    # window never changes; whether it is revoked can, on any server, so every signer's
    # `open` reads that from the database as the key is used (signing.signers).
    certificate = request.certificate
    moment = timezone.now()
    if not (certificate.not_before <= moment <= certificate.not_after):
        raise SigningError(_("This certificate is not valid at this time: it cannot sign."))
    lines = StampLines(
        signer=certificate.common_name,
        title=certificate.title,
        organisation=certificate.organisation
        if certificate.organisation != certificate.common_name
        else "",
    )
    try:
        if isinstance(content, bytes):
            signed, level = pdf_sign(
                content, signer=signer_for(certificate), field_name=request.field_name,
                slot=request.slot, reason=request.reason, location=_location(certificate),
                lines=lines, verify_hint=verification_url(document.public_id),
            )  # fmt: skip
        else:
            if request.slot is None:
                raise ValueError("a document's first signature needs its slot")
            signed, level = pdf_sign_draft(
                content, signer=signer_for(certificate), field_name=request.field_name,
                slot=request.slot, reason=request.reason, location=_location(certificate),
                lines=lines, verify_hint=verification_url(document.public_id),
                reserved=reserved,
            )  # fmt: skip
    except SignerError as exc:
        raise SigningError(str(exc)) from exc
    Signature.objects.create(
        document=document, certificate=certificate, signer=request.signer_user,
        purpose=request.purpose, field_name=request.field_name, level=level, signed_at=moment,
    )  # fmt: skip
    audit_record(
        actor=actor,
        action="signing.key_used",
        obj=certificate,
        data={
            "serial": certificate.serial, "subject": certificate.common_name,
            "purpose": request.purpose, "document": document.public_id,
            "reference": document.reference, "level": level,
            "sha256": hashlib.sha256(signed).hexdigest(),
        },
    )  # fmt: skip
    return signed


def _store(content: bytes) -> tuple[str, str]:
    checked = stored_files.CheckedFile(
        original_name="signed.pdf", content=content, content_type="application/pdf",
        extension=".pdf", sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip
    return stored_files.store(checked, folder="signed"), checked.sha256


def document_sign(
    *,
    public_id: str,
    content: bytes | PdfDraft,
    title: str,
    reference: str,
    agency: Agency,
    requests: list[SignRequest],
    actor: User | None,
    reserved: list[tuple[str, Slot]] | None = None,
    now: datetime | None = None,
) -> SignedDocument:
    """Sign a freshly rendered document (which already carries its QR code for
    `public_id`) with each request in turn and keep it; `reserved` fields are left empty
    for signatures to come. A draft (core.pdf.OfficialDocument) is written with its first
    signature in one pass; bytes are signed by incremental updates. Call inside the
    caller's transaction: the stored file goes with it if it rolls back."""
    moment = now or timezone.now()
    if isinstance(content, bytearray | memoryview):
        content = bytes(content)
    if not requests and not isinstance(content, bytes):
        content = content.output()
    if reserved and isinstance(content, bytes):
        content = pdf_reserve_fields(content, reserved)
    with transaction.atomic():
        document = SignedDocument.objects.create(
            public_id=public_id, title=title[:255], reference=reference, agency=agency,
            storage_name="", sha256="", size=0, created_at=moment, updated_at=moment,
        )  # fmt: skip
        for request in requests:
            content = _apply(
                content, request, document=document, actor=actor,
                reserved=None if isinstance(content, bytes) else reserved,
            )  # fmt: skip
        assert isinstance(content, bytes)  # noqa: S101 (requests, or written above)
        document.storage_name, document.sha256 = _store(content)
        document.size = len(content)
        document.save(update_fields=["storage_name", "sha256", "size"])
    return document


def document_countersign(
    *,
    document: SignedDocument,
    request: SignRequest,
    actor: User | None,
    now: datetime | None = None,
) -> SignedDocument:
    """Add a signature to an issued document (the seal after the leader's signature). The
    earlier file is removed once the transaction commits."""
    moment = now or timezone.now()
    with transaction.atomic():
        locked = SignedDocument.objects.select_for_update().get(pk=document.pk)
        content = stored_files.read_bytes(locked.storage_name)
        signed = _apply(content, request, document=locked, actor=actor)
        stored_files.discard(locked.storage_name)
        locked.storage_name, locked.sha256 = _store(signed)
        locked.size = len(signed)
        locked.updated_at = moment
        locked.save(update_fields=["storage_name", "sha256", "size", "updated_at"])
    return locked


def signed_content(document: SignedDocument) -> bytes:
    """The signed PDF as stored (callers check who may have it)."""
    return stored_files.read_bytes(document.storage_name)
