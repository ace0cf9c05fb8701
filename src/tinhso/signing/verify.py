"""Validating the signatures in any PDF with pyHanko, against the configured trust roots
and CRLs, and saying in plain words what was found: who signed, when, for which agency,
whether the file is intact, whether a certificate is revoked or expired."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from tinhso.signing.models import Certificate, CertificateKind, RevocationList
from tinhso.signing.pki import x509_of

log = logging.getLogger(__name__)


def _der(row: Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(x509_of(row).public_bytes(serialization.Encoding.DER))


def current_crls() -> list[RevocationList]:
    """The newest CRL of each CA; a CA whose key the platform holds gets a fresh one when its
    last is about to lapse (a stale CRL would be ignored by validators)."""
    from tinhso.signing.pki import crl_issue

    # Only the newest of each issuer is read: every revocation adds a CRL, blobs included.
    latest = RevocationList.objects.filter(issuer_id=OuterRef("issuer_id")).order_by("-number")
    newest = {
        row.issuer_id: row
        for row in RevocationList.objects.filter(
            pk=Subquery(latest.values("pk")[:1])
        ).select_related("issuer")
    }
    soon = timezone.now() + timedelta(days=1)
    for issuer_id, row in list(newest.items()):
        if row.next_update < soon and row.issuer.key_uri.startswith(("db:", "pkcs12:")):
            with transaction.atomic():
                # One refresh when several requests notice at once: the issuer row is the
                # lock, and whoever comes second finds the fresh CRL.
                Certificate.objects.select_for_update().filter(pk=issuer_id).first()
                fresh = RevocationList.objects.filter(issuer_id=issuer_id).order_by("-number")[0]
                newest[issuer_id] = fresh if fresh.next_update >= soon else crl_issue(fresh.issuer)
    return list(newest.values())


def _extra_roots() -> list[asn1_x509.Certificate]:
    path = settings.TINHSO_TRUST_ROOTS_FILE
    if not path:
        return []
    data = Path(path).read_bytes()
    return [
        asn1_x509.Certificate.load(der) for _kind, _headers, der in pem.unarmor(data, multiple=True)
    ]


def validation_context() -> ValidationContext:
    """Trust roots (the database's root CAs and TINHSO_TRUST_ROOTS_FILE), the CAs we know
    as intermediates, and the newest CRLs. Revocation data is not fetched over the network
    unless TINHSO_SIGNING_FETCH_REVOCATION is set."""
    cas = list(
        Certificate.objects.filter(kind__in=[CertificateKind.ROOT_CA, CertificateKind.ISSUING_CA])
    )
    roots = [_der(c) for c in cas if c.kind == CertificateKind.ROOT_CA and c.revoked_at is None]
    return ValidationContext(
        trust_roots=[*roots, *_extra_roots()],
        other_certs=[_der(c) for c in cas if c.kind == CertificateKind.ISSUING_CA],
        crls=[asn1_crl.CertificateList.load(bytes(c.der)) for c in current_crls()],
        allow_fetching=bool(settings.TINHSO_SIGNING_FETCH_REVOCATION),
        revocation_mode="soft-fail",
    )


@dataclass
class SignatureReport:
    """One signature in plain terms."""

    field_name: str
    signer: str = ""
    title: str = ""
    organisation: str = ""
    serial: str = ""
    kind: str = ""  # seal / personal / "" when the platform does not know the certificate
    signed_at: datetime | None = None
    timestamped: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    revoked: bool = False
    revoked_at: datetime | None = None
    revocation_reason: str = ""
    expired: bool = False
    not_after: datetime | None = None
    changed_after: bool = False
    covers_whole_file: bool = False
    broken: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.intact
            and self.valid
            and self.trusted
            and not self.revoked
            and not self.expired
            and not self.changed_after
            and not self.broken
        )


@dataclass
class Report:
    signatures: list[SignatureReport] = field(default_factory=list)
    readable: bool = True

    @property
    def ok(self) -> bool:
        return self.readable and bool(self.signatures) and all(s.ok for s in self.signatures)


def _attribute(name: asn1_x509.Name, key: str) -> str:
    value = name.native.get(key, "")
    return value[0] if isinstance(value, list) else str(value or "")


def pdf_verify(content: bytes) -> Report:
    """Validate every signature of the PDF `content`."""
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.info("unreadable PDF submitted for verification: %s", exc)
        return Report(readable=False)
    context = validation_context() if embedded else None
    report = Report()
    now = timezone.now()
    for signature in embedded:
        item = SignatureReport(field_name=signature.field_name or "")
        report.signatures.append(item)
        try:
            cert = signature.signer_cert
        except Exception:  # a damaged CMS blob raises whatever its parser raises
            item.broken = True
            continue
        subject = cert.subject
        item.signer = _attribute(subject, "common_name")
        item.title = _attribute(subject, "title")
        item.organisation = _attribute(subject, "organization_name")
        item.serial = format(cert.serial_number, "x")
        item.not_after = cert.not_valid_after
        item.expired = cert.not_valid_after < now
        known = Certificate.objects.filter(fingerprint=cert.sha256.hex()).first()
        if known is not None:
            item.kind = known.kind
            item.revoked_at = known.revoked_at
            item.revocation_reason = known.get_revocation_reason_display()
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as exc:  # a forged or damaged file may break any parser
            log.info("signature %s could not be validated: %s", item.field_name, exc)
            item.broken = True
            continue
        item.intact = bool(status.intact)
        item.valid = bool(status.valid)
        item.trusted = bool(status.trusted)
        item.revoked = bool(status.revoked) or item.revoked_at is not None
        timestamp = status.timestamp_validity
        item.timestamped = timestamp is not None
        item.signed_at = timestamp.timestamp if timestamp is not None else status.signer_reported_dt
        item.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        level = status.modification_level
        item.changed_after = status.docmdp_ok is False or (
            not item.covers_whole_file
            and (level is None or level.value > ModificationLevel.FORM_FILLING.value)
        )
    return report
