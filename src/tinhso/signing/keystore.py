"""Private keys in the database, encrypted (ADR 0024): any app server or worker on the same
PostgreSQL can sign, and no key lies on one server's disk.

The key-encryption key (KEK) comes from the environment, `TINHSO_KEY_ENCRYPTION_KEY` (or
`_FILE`); production settings refuse to start without it, and only a demo or a developer's
machine derives it from SECRET_KEY. A stored key is its PKCS#8 DER sealed with AES-256-GCM
(a random 96-bit nonce per key) with the certificate's fingerprint as associated data.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

from tinhso.signing.models import Certificate, StoredKey


class KeyStoreError(Exception):
    """A stored key that cannot be opened (message for the operator)."""


def _kek() -> bytes:
    """The 256-bit key-encryption key, derived (HKDF-SHA256) from TINHSO_KEY_ENCRYPTION_KEY,
    or from SECRET_KEY where the settings allow it (demo, development)."""
    secret = (
        settings.TINHSO_KEY_ENCRYPTION_KEY
        or hmac.new(
            settings.SECRET_KEY.encode(), b"tinhso-key-encryption-key", "sha256"
        ).hexdigest()
    )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tinhso signing keys v1"
    ).derive(secret.encode())


def kek_id(kek: bytes | None = None) -> str:
    """A public name of the key-encryption key (which one sealed a row; never the key)."""
    return hashlib.sha256(b"tinhso-kek-id" + (kek or _kek())).hexdigest()[:16]


def key_uri_for(certificate: Certificate) -> str:
    return f"db:{certificate.fingerprint[:16]}"


def key_store(certificate: Certificate, key: PrivateKeyTypes, *, label: str = "") -> StoredKey:
    """Seal `key` for `certificate` and point the certificate at it (`db:` key URI).
    Call inside the caller's transaction."""
    kek = _kek()
    nonce = os.urandom(12)
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    sealed = AESGCM(kek).encrypt(nonce, plain, certificate.fingerprint.encode())
    row, _created = StoredKey.objects.update_or_create(
        certificate=certificate,
        defaults={"label": label[:100], "kek_id": kek_id(kek), "nonce": nonce,
                  "ciphertext": sealed},
    )  # fmt: skip
    certificate.key_uri = key_uri_for(certificate)
    Certificate.objects.filter(pk=certificate.pk).update(key_uri=certificate.key_uri)
    return row


def key_open(row: StoredKey, fingerprint: str) -> PrivateKeyTypes:
    """Decrypt and parse a stored key (the costly part: callers keep the result)."""
    kek = _kek()
    if row.kek_id != kek_id(kek):
        raise KeyStoreError(
            _("The key of certificate %(c)s was sealed with another key-encryption key "
              "(TINHSO_KEY_ENCRYPTION_KEY).") % {"c": row.certificate_id}
        )  # fmt: skip
    try:
        plain = AESGCM(kek).decrypt(bytes(row.nonce), bytes(row.ciphertext), fingerprint.encode())
    except InvalidTag as exc:
        raise KeyStoreError(
            _("The stored key of certificate %(c)s does not decrypt: altered or moved.")
            % {"c": row.certificate_id}
        ) from exc
    return serialization.load_der_private_key(plain, password=None)
