"""Where private keys live and how the platform uses them: the `Signer` contract and its
three implementations.

* `Pkcs12Signer`: a PKCS#12 file under TINHSO_PKI_DIR, encrypted at rest with the signing
  passphrase (environment or secret file).
* `Pkcs11Signer`: a key on a PKCS#11 token or HSM (TINHSO_PKCS11_MODULE, TINHSO_PKCS11_PIN),
  through pyHanko's PKCS#11 support; the key never leaves the device.
* `RemoteSigner`: a remote signing service (the "ký số từ xa" offered by Vietnamese CAs):
  the platform sends the bytes to be signed, the service answers with the raw signature.
  `HttpRemoteSigningService` speaks a small JSON protocol; other services implement
  `RemoteSigningService`.

A certificate's `key_uri` names its signer: `pkcs12:<file>`, `pkcs11:token=<label>;object=
<key label>` (RFC 7512 style) or `remote:<key id>`.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol, cast

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.sign import signers as hanko_signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tinhso.signing.models import Certificate
from tinhso.signing.pki import issuers_of, pki_dir, signing_passphrase, x509_of


class SignerError(Exception):
    """The key cannot be used (message for the official)."""


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _chain(row: Certificate) -> list[asn1_x509.Certificate]:
    return [_asn1(cert) for cert in issuers_of(row)]


class Signer(Protocol):
    """One private key with its certificate. `open()` yields a pyHanko signer for the time
    of one signature (a PKCS#11 session is opened and closed around it)."""

    certificate: Certificate

    def open(self) -> AbstractContextManager[hanko_signers.Signer]: ...


class Pkcs12Signer:
    def __init__(self, certificate: Certificate, location: str) -> None:
        self.certificate = certificate
        self.path = (pki_dir() / location).resolve()
        if pki_dir().resolve() not in self.path.parents:
            raise SignerError(_("The key file must be inside the PKI folder."))

    @contextmanager
    def open(self) -> Iterator[hanko_signers.Signer]:
        try:
            modified = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise SignerError(
                _("The key file of %(c)s cannot be read.") % {"c": self.certificate}
            ) from exc
        try:
            signer = _pkcs12_open(str(self.path), modified, self.certificate.pk)
        except (OSError, ValueError, TypeError) as exc:
            raise SignerError(
                _("The key file of %(c)s cannot be opened: wrong signing passphrase?")
                % {"c": self.certificate}
            ) from exc
        yield signer


@lru_cache(maxsize=256)
def _pkcs12_open(path: str, modified: int, certificate_id: int) -> hanko_signers.SimpleSigner:
    """Decrypting a PKCS#12 file (PBKDF2) is half the cost of a signature, so an opened key
    is kept in this process while its file is unchanged. Every use is still checked
    (revocation, validity) and audited by signing.services."""
    certificate = Certificate.objects.get(pk=certificate_id)
    signer = hanko_signers.SimpleSigner.load_pkcs12_data(
        Path(path).read_bytes(), other_certs=_chain(certificate), passphrase=signing_passphrase()
    )
    if signer is None:
        raise ValueError("no key")
    return cast(hanko_signers.SimpleSigner, signer)


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
        yield _RemoteCmsSigner(self.service, self.key_id, self.certificate)


def signer_for(certificate: Certificate) -> Pkcs12Signer | Pkcs11Signer | RemoteSigner:
    """The signer a certificate's `key_uri` names."""
    scheme, _sep, location = certificate.key_uri.partition(":")
    if scheme == "pkcs12":
        return Pkcs12Signer(certificate, location)
    if scheme == "pkcs11":
        return Pkcs11Signer(certificate, location)
    if scheme == "remote":
        return RemoteSigner(certificate, location)
    raise SignerError(_("The platform holds no private key for %(c)s.") % {"c": certificate})
