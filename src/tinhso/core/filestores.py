"""Which file store the settings choose (TINHSO_FILE_STORE): the local folder
(core.filestore.LocalFileStore) or an S3-compatible bucket (core.filestore_s3, loaded only
when chosen, so a deployment with the local store never imports boto3)."""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tinhso.core.filestore import FileStore, LocalFileStore

STORE_KINDS = ("local", "s3")


def file_store() -> FileStore:
    """The store the settings choose (TINHSO_FILE_STORE): read at each call, so a test or a
    command that changes the settings gets the store they name."""
    kind = settings.TINHSO_FILE_STORE
    if kind == "local":
        return LocalFileStore(Path(settings.MEDIA_ROOT))
    if kind == "s3":
        return _s3_store(
            settings.TINHSO_S3_BUCKET,
            settings.TINHSO_S3_ENDPOINT_URL,
            settings.TINHSO_S3_REGION,
            settings.TINHSO_S3_ADDRESSING_STYLE,
        )
    raise ImproperlyConfigured(f"TINHSO_FILE_STORE is {kind!r}: use one of {STORE_KINDS}.")


@functools.lru_cache(maxsize=8)
def _s3_store(bucket: str, endpoint_url: str, region: str, addressing_style: str) -> FileStore:
    # One client per configuration: creating one costs tens of milliseconds. Imported here so
    # that a deployment with the local store never loads boto3.
    from tinhso.core.filestore_s3 import S3FileStore

    return S3FileStore(
        bucket=bucket,
        endpoint_url=endpoint_url,
        region=region,
        addressing_style=addressing_style,
    )
