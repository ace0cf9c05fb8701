"""Certificates, revocation lists and the signed documents anyone can verify by QR."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CertificateKind(models.TextChoices):
    ROOT_CA = "root_ca", _("Root CA")
    ISSUING_CA = "issuing_ca", _("Issuing CA")
    SEAL = "seal", _("Agency seal")
    PERSONAL = "personal", _("Personal signature")
    TSA = "tsa", _("Time-stamping authority")


class RevocationReason(models.TextChoices):
    """RFC 5280 reason codes an operator may give."""

    UNSPECIFIED = "unspecified", _("Unspecified")
    KEY_COMPROMISE = "key_compromise", _("Key compromised")
    AFFILIATION_CHANGED = "affiliation_changed", _("Affiliation changed")
    SUPERSEDED = "superseded", _("Superseded")
    CESSATION_OF_OPERATION = "cessation_of_operation", _("Cessation of operation")


class Certificate(models.Model):
    """An X.509 certificate the platform knows: a trust root or CA of its PKI, an agency's
    seal, an official's personal certificate. `key_uri` says where its private key is, when
    the platform may use it: `db:<fingerprint prefix>` (a `StoredKey`), `pkcs12:<file under
    TINHSO_PKI_DIR>` (made before ADR 0024), `pkcs11:token=…;object=…`
    or `remote:<key id>`; empty for certificates we only trust or verify."""

    kind = models.CharField(_("kind"), max_length=16, choices=CertificateKind.choices)
    common_name = models.CharField(_("common name"), max_length=255)
    organisation = models.CharField(_("organisation"), max_length=255, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    serial = models.CharField(_("serial number"), max_length=64)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    issuer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="issued"
    )
    pem = models.TextField()
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    key_uri = models.CharField(_("private key"), max_length=500, blank=True)
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(
        _("revocation reason"), max_length=32, choices=RevocationReason.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "common_name", "-not_before"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        indexes = [models.Index(fields=["kind", "agency"]), models.Index(fields=["kind", "user"])]

    def __str__(self) -> str:
        return f"{self.common_name} ({self.serial})"


class RevocationList(models.Model):
    """A CRL issued by one of the platform's CAs (the newest per issuer is served at
    /pki/<issuer id>.crl and used by the validator)."""

    issuer = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="crls")
    number = models.PositiveIntegerField()
    der = models.BinaryField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()

    class Meta:
        ordering = ["issuer", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="crl_unique_number")
        ]

    def __str__(self) -> str:
        return f"CRL {self.number} of {self.issuer_id}"


class SignedDocument(models.Model):
    """A PDF the platform issued and signed, as it stands now (after its last signature).
    `public_id` is what its QR code carries: /xac-thuc/<public_id>."""

    public_id = models.CharField(max_length=32, unique=True)
    title = models.CharField(_("document"), max_length=255)
    reference = models.CharField(_("dossier"), max_length=64, blank=True, db_index=True)
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    storage_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signed document")
        verbose_name_plural = _("signed documents")

    def __str__(self) -> str:
        return f"{self.title} {self.reference}"


class SignaturePurpose(models.TextChoices):
    PERSONAL = "personal", _("Personal signature")
    SEAL = "seal", _("Agency seal")


class Signature(models.Model):
    """One signature the platform applied to a signed document (one use of a private key;
    the audit log has the same)."""

    document = models.ForeignKey(
        SignedDocument, on_delete=models.CASCADE, related_name="signatures"
    )
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=16, choices=SignaturePurpose.choices)
    field_name = models.CharField(max_length=64)
    level = models.CharField(max_length=8)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.field_name} on {self.document_id}"


class StoredKey(models.Model):
    """The private key of a certificate the platform holds, kept in the database so that
    every app server and worker can sign (ADR 0024): PKCS#8, encrypted with AES-256-GCM
    under the key-encryption key from the environment (TINHSO_KEY_ENCRYPTION_KEY), the
    certificate's fingerprint bound as associated data (a ciphertext moved to another row
    does not decrypt). `kek_id` names the key-encryption key that sealed it."""

    certificate = models.OneToOneField(
        Certificate, on_delete=models.CASCADE, related_name="stored_key"
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    kek_id = models.CharField(max_length=16)
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stored private key")
        verbose_name_plural = _("stored private keys")

    def __str__(self) -> str:
        return f"key of {self.certificate_id} ({self.label})"
