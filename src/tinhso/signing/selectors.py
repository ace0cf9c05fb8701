"""Reads of the signing module: a document by its QR id, what a verification found."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tinhso.signing.models import Certificate, CertificateKind, RevocationList, SignedDocument
from tinhso.signing.verify import Report, pdf_verify


@dataclass
class Verification:
    """A verification: the document the platform issued (when the file is one of ours)
    and the report on its signatures."""

    report: Report
    document: SignedDocument | None
    sha256: str
    # The file is byte for byte the one the platform keeps for `document`.
    is_issued_copy: bool


def document_by_public_id(public_id: str) -> SignedDocument | None:
    return SignedDocument.objects.select_related("agency").filter(public_id=public_id[:32]).first()


def verification_of_stored(document: SignedDocument) -> Verification:
    from tinhso.signing.services import signed_content

    content = signed_content(document)
    return Verification(
        report=pdf_verify(content), document=document, sha256=document.sha256,
        is_issued_copy=True,
    )  # fmt: skip


def verification_of_upload(content: bytes) -> Verification:
    digest = hashlib.sha256(content).hexdigest()
    document = SignedDocument.objects.select_related("agency").filter(sha256=digest).first()
    return Verification(
        report=pdf_verify(content), document=document, sha256=digest,
        is_issued_copy=document is not None,
    )  # fmt: skip


def ca_by_slug(slug: str) -> Certificate | None:
    """A CA of the platform by the first 16 hex digits of its fingerprint (CRL and
    certificate addresses)."""
    if len(slug) != 16:
        return None
    return Certificate.objects.filter(
        kind__in=[CertificateKind.ROOT_CA, CertificateKind.ISSUING_CA],
        fingerprint__startswith=slug.lower(),
    ).first()


def crl_newest(issuer: Certificate) -> RevocationList | None:
    """The CRL to publish for `issuer` (refreshed first when it is about to lapse)."""
    from tinhso.signing.verify import current_crls

    return next((c for c in current_crls() if c.issuer_id == issuer.pk), None)
