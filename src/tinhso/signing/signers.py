"""Where private keys live and how the platform uses them: the `Signer` contract and its
implementations.

* `DbKeySigner`: a key kept in the database, encrypted with the key-encryption key from the
  environment (signing.keystore, ADR 0024), so every app server and worker can sign.
* `Pkcs12Signer`: a PKCS#12 file under TINHSO_PKI_DIR, encrypted at rest with the signing
  passphrase (keys made before ADR 0024, until moved to the database).
* `Pkcs11Signer`: a key on a PKCS#11 token or HSM (TINHSO_PKCS11_MODULE, TINHSO_PKCS11_PIN),
  through pyHanko's PKCS#11 support; the key never leaves the device.
* `RemoteSigner`: a remote signing service (the "ký số từ xa" offered by Vietnamese CAs):
  the platform sends the bytes to be signed, the service answers with the raw signature.
  `HttpRemoteSigningService` speaks a small JSON protocol; other services implement
  `RemoteSigningService`.

A certificate's `key_uri` names its signer: `db:<fingerprint prefix>`, `pkcs12:<file>`,
`pkcs11:token=<label>;object=<key label>` (RFC 7512 style) or `remote:<key id>`.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from pyhanko.sign import signers as hanko_signers
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from tinhso.signing.keystore import KeyStoreError, key_open
from tinhso.signing.models import Certificate, StoredKey
from tinhso.signing.pki import issuers_of, pki_dir, signing_passphrase, x509_of


class SignerError(Exception):
    """The key cannot be used (message for the official)."""


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _chain(row: Certificate) -> list[asn1_x509.Certificate]:
    return [_asn1(cert) for cert in issuers_of(row)]


class Signer(Protocol):
    """One private key with its certificate. `open()` yields a pyHanko signer for the time
    of one signature (a PKCS#11 session is opened and closed around it). Every signer's
    `open` first reads from the database whether the certificate is revoked and refuses if
    it is (`SignerError`): a revocation on any server stops every use of the key at once,
    and callers do not check it again."""

    certificate: Certificate

    def open(self) -> AbstractContextManager[hanko_signers.Signer]: ...


class _EncodedAttribute(CMSAttributeProvider):
    """A signed attribute whose DER is known in advance."""

    def __init__(self, der: bytes) -> None:
        self.der = der

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute:
        return cms.CMSAttribute.load(self.der)


class _HeldKeySigner(hanko_signers.Signer):
    """A pyHanko signer over a private key already parsed in memory. pyHanko's SimpleSigner
    parses its key again (with the RSA consistency checks) for every signature, about as
    long as the signature itself; this one signs with the parsed key."""

    def __init__(self, key: PrivateKeyTypes, certificate: Certificate) -> None:
        super().__init__(
            signing_cert=_asn1(x509_of(certificate)),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                _chain(certificate)
            ),
        )
        self.key = key
        # The signing-certificate-v2 attribute names this certificate (hash, issuer and
        # serial): the same bytes in every signature. Built by pyHanko from native values
        # it is re-encoded field by field three times per signature (two thirds of the CMS
        # work); made once here and parsed back, it is written as it stands.
        attribute = simple_cms_attribute(  # type: ignore[no-untyped-call]
            "signing_certificate_v2", as_signing_certificate_v2(self.signing_cert)
        )
        self._signing_certificate_der = attribute.dump()

    def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for provider in super()._signed_attr_providers(*args, **kwargs):
            if isinstance(provider, SigningCertificateV2Provider):
                yield _EncodedAttribute(self._signing_certificate_der)
            else:
                yield provider

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algorithm = mechanism.signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self.key, rsa.RSAPrivateKey) and algorithm == "rsassa_pkcs1v15":
            return self.key.sign(data, PKCS1v15(), digest)
        if isinstance(self.key, rsa.RSAPrivateKey) and algorithm == "rsassa_pss":
            pss, pss_digest = process_pss_params(mechanism["parameters"])
            return self.key.sign(data, pss, pss_digest)
        if isinstance(self.key, ec.EllipticCurvePrivateKey) and algorithm == "ecdsa":
            return self.key.sign(data, ec.ECDSA(digest))
        raise SignerError(_("This kind of key (%(a)s) cannot sign here.") % {"a": algorithm})


class _OpenedKeys:
    """Signers over parsed keys, kept in this process by certificate fingerprint (a key
    never changes for a certificate). What may change is whether the certificate may sign:
    each use reads that from the database first (every signer's `open`), so a certificate
    revoked on any server stops signing everywhere at once, and its entry is dropped."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[str, int], _HeldKeySigner] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> _HeldKeySigner | None:
        with self.lock:
            signer = self.entries.get(key)
            if signer is not None:
                self.entries.move_to_end(key)
            return signer

    def put(self, key: tuple[str, int], signer: _HeldKeySigner) -> None:
        with self.lock:
            self.entries[key] = signer
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def drop(self, fingerprint: str) -> None:
        with self.lock:
            for key in [k for k in self.entries if k[0] == fingerprint]:
                del self.entries[key]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


OPENED = _OpenedKeys()


def _refuse_if_revoked(certificate: Certificate, revoked: bool) -> None:
    if revoked:
        OPENED.drop(certificate.fingerprint)
        raise SignerError(_("%(c)s is revoked: it cannot sign.") % {"c": certificate})


def _refuse_if_revoked_now(certificate: Certificate) -> None:
    """Refuse a certificate the database says is revoked (one indexed read)."""
    revoked = Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=False).exists()
    _refuse_if_revoked(certificate, revoked)


def _key_state(pk: int) -> tuple[Any, int | None] | None:
    """(revoked_at, stored key id) of a certificate: the one indexed read every use of a
    key makes. Written in SQL: it runs before every signature, and the ORM's building of
    the query costs twice the query itself (issue 15)."""
    certificates, keys = Certificate._meta.db_table, StoredKey._meta.db_table
    column = StoredKey._meta.get_field("certificate").column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.revoked_at, k.id FROM {certificates} c "  # noqa: S608 (model names)
            f"LEFT JOIN {keys} k ON k.{column} = c.id WHERE c.id = %s",
            [pk],
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


class DbKeySigner:
    """A key kept in the database, encrypted (signing.keystore): usable from every server."""

    def __init__(self, certificate: Certificate) -> None:
        self.certificate = certificate

    @contextmanager
    def open(self) -> Iterator[hanko_signers.Signer]:
        fingerprint = self.certificate.fingerprint
        state = _key_state(self.certificate.pk)
        if state is None or state[1] is None:
            OPENED.drop(fingerprint)
            raise SignerError(
                _("The platform holds no private key for %(c)s.") % {"c": self.certificate}
            )
        _refuse_if_revoked(self.certificate, state[0] is not None)
        signer = OPENED.get((fingerprint, 0))
        if signer is None:
            row = StoredKey.objects.get(pk=state[1])
            try:
                signer = _HeldKeySigner(key_open(row, fingerprint), self.certificate)
            except KeyStoreError as exc:
                raise SignerError(str(exc)) from exc
            OPENED.put((fingerprint, 0), signer)
        yield signer


class Pkcs12Signer:
    """A PKCS#12 file under TINHSO_PKI_DIR (keys made before ADR 0024, until
    `tinhso pki_keys_to_db` moves them into the database)."""

    def __init__(self, certificate: Certificate, location: str) -> None:
        self.certificate = certificate
        self.path = (pki_dir() / location).resolve()
        if pki_dir().resolve() not in self.path.parents:
            raise SignerError(_("The key file must be inside the PKI folder."))

    @contextmanager
    def open(self) -> Iterator[hanko_signers.Signer]:
        _refuse_if_revoked_now(self.certificate)
        try:
            modified = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise SignerError(
                _("The key file of %(c)s cannot be read.") % {"c": self.certificate}
            ) from exc
        signer = OPENED.get((self.certificate.fingerprint, modified))
        if signer is None:
            try:
                key, _cert, _others = pkcs12.load_key_and_certificates(
                    self.path.read_bytes(), signing_passphrase()
                )
            except (OSError, ValueError, TypeError) as exc:
                raise SignerError(
                    _("The key file of %(c)s cannot be opened: wrong signing passphrase?")
                    % {"c": self.certificate}
                ) from exc
            if key is None:
                raise SignerError(
                    _("The key file of %(c)s holds no key.") % {"c": self.certificate}
                )
            signer = _HeldKeySigner(key, self.certificate)
            OPENED.put((self.certificate.fingerprint, modified), signer)
        yield signer


class Pkcs11Signer:
    def __init__(self, certificate: Certificate, location: str) -> None:
        self.certificate = certificate
        parts = dict(
            item.split("=", 1) for item in location.split(";") if "=" in item
        )  # token=…;object=…
        self.token = parts.get("token", "")
        self.key_label = parts.get("object", "")
        if not self.token or not self.key_label:
            raise SignerError(_("A PKCS#11 key needs token=… and object=…."))

    @contextmanager
    def open(self) -> Iterator[hanko_signers.Signer]:
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

        _refuse_if_revoked_now(self.certificate)
        module = settings.TINHSO_PKCS11_MODULE
        if not module or not Path(module).exists():
            raise SignerError(_("No PKCS#11 module is configured (TINHSO_PKCS11_MODULE)."))
        try:
            session = open_pkcs11_session(
                module,
                token_criteria=TokenCriteria(label=self.token),
                user_pin=settings.TINHSO_PKCS11_PIN or None,
            )
        except Exception as exc:  # the PKCS#11 library raises its own error types
            raise SignerError(
                _("The token %(t)s cannot be opened: %(e)s") % {"t": self.token, "e": exc}
            ) from exc
        try:
            yield PKCS11Signer(
                session,
                key_label=self.key_label,
                signing_cert=_asn1(x509_of(self.certificate)),
                ca_chain=_chain(self.certificate),
            )
        finally:
            session.close()


class RemoteSigningService(Protocol):
    """A remote signing service: signs `data` (the DER of the CMS signed attributes) with
    the key `key_id` and returns the raw signature (PKCS#1 v1.5 for RSA)."""

    def sign(self, *, key_id: str, data: bytes, digest_algorithm: str) -> bytes: ...


class HttpRemoteSigningService:
    """POST {url}/sign {"key_id", "digest_algorithm", "data": base64} with a bearer token;
    the answer is {"signature": base64}."""

    def __init__(self, url: str, token: str, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def sign(self, *, key_id: str, data: bytes, digest_algorithm: str) -> bytes:
        if not self.url.startswith(("https://", "http://")):
            raise SignerError(_("The remote signing service address must be http(s)."))
        body = json.dumps(
            {
                "key_id": key_id,
                "digest_algorithm": digest_algorithm,
                "data": base64.b64encode(data).decode(),
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            f"{self.url}/sign",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
            return base64.b64decode(answer["signature"], validate=True)
        except (OSError, ValueError, KeyError) as exc:
            raise SignerError(
                _("The remote signing service did not sign: %(e)s") % {"e": exc}
            ) from exc


class _RemoteCmsSigner(hanko_signers.Signer):
    def __init__(self, service: RemoteSigningService, key_id: str, certificate: Certificate):
        super().__init__(
            signing_cert=_asn1(x509_of(certificate)),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                _chain(certificate)
            ),
        )
        self.service = service
        self.key_id = key_id

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:  # size estimate only: a signature as long as the key
            cert = self.signing_cert
            return bytes(cert.public_key.byte_size if cert is not None else 512)
        return self.service.sign(key_id=self.key_id, data=data, digest_algorithm=digest_algorithm)


class RemoteSigner:
    def __init__(
        self,
        certificate: Certificate,
        key_id: str,
        service: RemoteSigningService | None = None,
    ) -> None:
        self.certificate = certificate
        self.key_id = key_id
        self.service = service or HttpRemoteSigningService(
            settings.TINHSO_REMOTE_SIGNER_URL, settings.TINHSO_REMOTE_SIGNER_TOKEN
        )

    @contextmanager
    def open(self) -> Iterator[hanko_signers.Signer]:
        _refuse_if_revoked_now(self.certificate)
        yield _RemoteCmsSigner(self.service, self.key_id, self.certificate)


def signer_for(
    certificate: Certificate,
) -> DbKeySigner | Pkcs12Signer | Pkcs11Signer | RemoteSigner:
    """The signer a certificate's `key_uri` names."""
    scheme, _sep, location = certificate.key_uri.partition(":")
    if scheme == "db":
        return DbKeySigner(certificate)
    if scheme == "pkcs12":
        return Pkcs12Signer(certificate, location)
    if scheme == "pkcs11":
        return Pkcs11Signer(certificate, location)
    if scheme == "remote":
        return RemoteSigner(certificate, location)
    raise SignerError(_("The platform holds no private key for %(c)s.") % {"c": certificate})
