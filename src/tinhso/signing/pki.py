"""The platform's certificate authority work: the demo PKI (`tinhso pki_init`), issuing,
revoking, CRLs and importing a real deployment's own certificates.

Keys made here are RSA-2048 (what Vietnamese public CAs issue), kept in the database
encrypted under the key-encryption key from the environment (signing.keystore, ADR 0024),
never in plain anywhere nor in the repository. Keys made before were PKCS#12 files under
TINHSO_PKI_DIR (encrypted with the signing passphrase): `tinhso pki_keys_to_db` moves them.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.audit import audit_record
from tinhso.signing.keystore import KeyStoreError, key_open, key_store
from tinhso.signing.models import (
    Certificate,
    CertificateKind,
    RevocationList,
    RevocationReason,
    StoredKey,
)

_REASON_FLAGS = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
}


class PkiError(Exception):
    """A PKI operation that cannot be done (message for the operator)."""


def pki_dir() -> Path:
    return Path(settings.TINHSO_PKI_DIR)


def signing_passphrase() -> bytes:
    """The passphrase of the PKCS#12 files: TINHSO_SIGNING_PASSPHRASE(_FILE), or derived
    from SECRET_KEY (so a laptop needs no second secret)."""
    if settings.TINHSO_SIGNING_PASSPHRASE:
        return str(settings.TINHSO_SIGNING_PASSPHRASE).encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), b"tinhso-signing-passphrase", "sha256")
    return digest.hexdigest().encode()


def x509_of(row: Certificate) -> x509.Certificate:
    return x509.load_pem_x509_certificate(row.pem.encode())


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def crl_url(issuer: Certificate) -> str:
    return f"{settings.TINHSO_PUBLIC_URL}/pki/{issuer.fingerprint[:16]}.crl"


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def certificate_store(
    cert: x509.Certificate,
    *,
    kind: str,
    key_uri: str = "",
    agency: Agency | None = None,
    user: User | None = None,
) -> Certificate:
    """Record a certificate (its issuer found among the known ones by name and key id)."""
    issuer = None
    if cert.issuer != cert.subject:
        for candidate in Certificate.objects.filter(
            kind__in=[CertificateKind.ROOT_CA, CertificateKind.ISSUING_CA]
        ):
            if x509_of(candidate).subject == cert.issuer:
                issuer = candidate
                break
    row, _created = Certificate.objects.update_or_create(
        fingerprint=fingerprint(cert),
        defaults={
            "kind": kind,
            "common_name": _attribute(cert.subject, NameOID.COMMON_NAME),
            "organisation": _attribute(cert.subject, NameOID.ORGANIZATION_NAME),
            "title": _attribute(cert.subject, NameOID.TITLE),
            "serial": format(cert.serial_number, "x"),
            "issuer": issuer,
            "pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "not_before": cert.not_valid_before_utc,
            "not_after": cert.not_valid_after_utc,
            "key_uri": key_uri,
            "agency": agency,
            "user": user,
        },
    )
    return row


def private_key(row: Certificate) -> PrivateKeyTypes:
    """The private key of a certificate the platform holds itself: in the database
    (`db:`) or, made before ADR 0024, in a PKCS#12 file (`pkcs12:`)."""
    scheme, _sep, location = row.key_uri.partition(":")
    if scheme == "db":
        stored = StoredKey.objects.filter(certificate=row).first()
        if stored is None:
            raise PkiError(_("The stored key of %(ca)s is missing.") % {"ca": row})
        try:
            return key_open(stored, row.fingerprint)
        except KeyStoreError as exc:
            raise PkiError(str(exc)) from exc
    if scheme != "pkcs12":
        raise PkiError(_("The platform does not hold the key of %(ca)s.") % {"ca": row})
    key, _cert, _chain = pkcs12.load_key_and_certificates(
        (pki_dir() / location).read_bytes(), signing_passphrase()
    )
    if key is None:
        raise PkiError(_("The key file of %(ca)s holds no key.") % {"ca": row})
    return key


def key_file_to_db(row: Certificate) -> Path:
    """Move a `pkcs12:` key into the database (`db:`); returns the file, which the caller
    removes once the transaction has committed."""
    scheme, _sep, location = row.key_uri.partition(":")
    if scheme != "pkcs12":
        raise PkiError(_("The key of %(ca)s is not a PKCS#12 file.") % {"ca": row})
    path = pki_dir() / location
    key_store(row, private_key(row), label=path.stem)
    audit_record(
        actor=None, action="signing.key_moved_to_database", obj=row,
        data={"serial": row.serial, "subject": row.common_name, "from": row.key_uri},
    )  # fmt: skip
    return path


def issuers_of(row: Certificate) -> list[x509.Certificate]:
    """The certificate's chain above it: its issuer, that one's issuer, … up to the root."""
    chain = []
    current = row.issuer
    while current is not None:
        chain.append(x509_of(current))
        current = current.issuer
    return chain


@dataclass(frozen=True)
class Subject:
    common_name: str
    organisation: str = ""
    title: str = ""
    unit: str = ""

    def name(self) -> x509.Name:
        parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
        parts.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Thanh Hóa"))
        if self.organisation:
            parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organisation))
        if self.unit:
            parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.unit))
        if self.title:
            parts.append(x509.NameAttribute(NameOID.TITLE, self.title))
        parts.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        return x509.Name(parts)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_issue(
    *,
    kind: str,
    subject: Subject,
    issuer: Certificate | None,
    key_name: str,
    agency: Agency | None = None,
    user: User | None = None,
    days: int = 3 * 365,
    not_before: datetime | None = None,
    actor: User | None = None,
) -> Certificate:
    """Make a key pair and a certificate for it, signed by `issuer` (a CA row whose key the
    platform holds) or self-signed for a root; keep the key in the database, encrypted."""
    if issuer is not None and issuer.revoked_at is not None:
        raise PkiError(_("%(ca)s is revoked: it issues nothing more.") % {"ca": issuer})
    key = _new_key()
    start = (not_before or timezone.now()) - timedelta(minutes=5)
    issuer_key = private_key(issuer) if issuer is not None else key
    issuer_cert = x509_of(issuer) if issuer is not None else None
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject.name())
        .issuer_name(issuer_cert.subject if issuer_cert else subject.name())
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None and issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_cert.public_key()  # type: ignore[arg-type]
            ),
            False,
        ).add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(crl_url(issuer))], None, None, None
                    )
                ]
            ),
            False,
        )
    is_ca = kind in (CertificateKind.ROOT_CA, CertificateKind.ISSUING_CA)
    builder = builder.add_extension(
        x509.BasicConstraints(
            ca=is_ca, path_length=0 if kind == CertificateKind.ISSUING_CA else None
        ),
        critical=True,
    )
    if is_ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        # digitalSignature + nonRepudiation (contentCommitment): a signature on a document.
        usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    builder = builder.add_extension(usage, critical=True)
    if kind == CertificateKind.TSA:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    cert = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
    with transaction.atomic():
        row = certificate_store(cert, kind=kind, agency=agency, user=user)
        key_store(row, key, label=f"{key_name}-{row.serial[:12]}")
        audit_record(
            actor=actor,
            action="signing.certificate_issued",
            obj=row,
            data={"kind": kind, "subject": subject.common_name, "serial": row.serial},
        )
    return row


def crl_issue(issuer: Certificate, *, now: datetime | None = None) -> RevocationList:
    """A new CRL of `issuer` listing every certificate it issued that is revoked."""
    now = now or timezone.now()
    key = private_key(issuer)
    cert = x509_of(issuer)
    last = issuer.crls.order_by("-number").first()
    number = (last.number + 1) if last else 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + timedelta(days=7))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(cert.public_key()),  # type: ignore[arg-type]
            False,
        )
        .add_extension(x509.CRLNumber(number), False)
    )
    for revoked in issuer.issued.filter(revoked_at__isnull=False):
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(revoked.serial, 16))
            .revocation_date(revoked.revoked_at)  # type: ignore[arg-type]
            .add_extension(
                x509.CRLReason(
                    _REASON_FLAGS.get(
                        RevocationReason(revoked.revocation_reason or "unspecified"),
                        x509.ReasonFlags.unspecified,
                    )
                ),
                False,
            )
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
    row = RevocationList.objects.create(
        issuer=issuer,
        number=number,
        der=crl.public_bytes(serialization.Encoding.DER),
        this_update=crl.last_update_utc,
        next_update=crl.next_update_utc,  # type: ignore[misc]
    )
    # Signing a CRL is a use of the CA's private key.
    audit_record(
        actor=None, action="signing.crl_issued", obj=issuer,
        data={"serial": issuer.serial, "number": number,
              "revoked": len(crl)},
    )  # fmt: skip
    return row


def certificate_revoke(
    *, certificate: Certificate, reason: str, actor: User | None = None, at: datetime | None = None
) -> Certificate:
    """Revoke a certificate: it can sign nothing more, and a new CRL of its issuer lists it
    (when the platform runs that CA)."""
    if reason not in RevocationReason.values:
        raise PkiError(_("Unknown revocation reason %(r)s.") % {"r": reason})
    with transaction.atomic():
        row = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if row.revoked_at is not None:
            raise PkiError(_("This certificate is already revoked."))
        row.revoked_at = at or timezone.now()
        row.revocation_reason = reason
        row.save(update_fields=["revoked_at", "revocation_reason"])
        if row.issuer is not None and row.issuer.key_uri:
            crl_issue(row.issuer)
        audit_record(
            actor=actor,
            action="signing.certificate_revoked",
            obj=row,
            data={"serial": row.serial, "subject": row.common_name, "reason": reason},
        )
    return row


def crl_import(der: bytes) -> RevocationList:
    """Take a CRL published by an outside CA whose certificate is known (real deployments)."""
    crl = x509.load_der_x509_crl(der)
    for ca in Certificate.objects.filter(
        kind__in=[CertificateKind.ROOT_CA, CertificateKind.ISSUING_CA]
    ):
        ca_cert = x509_of(ca)
        if ca_cert.subject == crl.issuer and crl.is_signature_valid(ca_cert.public_key()):  # type: ignore[arg-type]
            number_ext = crl.extensions.get_extension_for_class(x509.CRLNumber).value
            return RevocationList.objects.create(
                issuer=ca, number=number_ext.crl_number, der=der,
                this_update=crl.last_update_utc,
                next_update=crl.next_update_utc or crl.last_update_utc + timedelta(days=7),
            )  # fmt: skip
    raise PkiError(_("No known CA issued this CRL (or its signature is wrong)."))


def certificate_import_pkcs12(
    *,
    path: Path,
    passphrase: bytes,
    kind: str,
    agency: Agency | None = None,
    user: User | None = None,
) -> Certificate:
    """Take a real deployment's own key and certificate (PKCS#12 from its CA): re-encrypted
    under the platform's key-encryption key and kept in the database; the chain's CA
    certificates become known (and trusted when self-signed)."""
    key, cert, chain = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    if key is None or cert is None:
        raise PkiError(_("The PKCS#12 file must hold a private key and its certificate."))
    with transaction.atomic():
        for ca in reversed(chain or []):
            certificate_store(
                ca,
                kind=CertificateKind.ROOT_CA
                if ca.issuer == ca.subject
                else CertificateKind.ISSUING_CA,
            )
        row = certificate_store(cert, kind=kind, agency=agency, user=user)
        key_store(row, key, label=f"imported-{row.fingerprint[:16]}")
        audit_record(
            actor=None,
            action="signing.certificate_imported",
            obj=row,
            data={"kind": kind, "subject": row.common_name, "serial": row.serial},
        )
    return row


def root_certificates() -> list[Certificate]:
    return list(Certificate.objects.filter(kind=CertificateKind.ROOT_CA, revoked_at__isnull=True))
