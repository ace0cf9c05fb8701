"""The S3-compatible store (MinIO, Ceph's gateway, a cloud bucket), through django-storages'
S3 backend and boto3: several app servers and workers share one bucket, and no folder has
to be mounted anywhere (docs/adr/0020-file-store-contract.md).

django-storages builds the connection from the settings and the environment (the standard
AWS variables for the keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or
an instance role), and answers `exists`, `size` and `delete`. Writing, reading and listing
go straight to the client: one request each (django-storages' own upload starts a transfer
pool, and its read copies the whole object to a temporary file before the first byte)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

from tinhso.core.filestore import FileStore, StoredObject

_MISSING = {"NoSuchKey", "404", "NotFound"}


class _ObjectStream(io.RawIOBase):
    """An object's body read as it arrives (a download streams, it is not buffered whole);
    `size` is its length, for the Content-Length of a download."""

    def __init__(self, body: Any, size: int) -> None:
        super().__init__()
        self._body = body
        self.size = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3FileStore(FileStore):
    """A bucket of an S3-compatible object store. Names are the objects' keys."""

    kind = "s3"

    def __init__(
        self, *, bucket: str, endpoint_url: str = "", region: str = "", addressing_style: str = ""
    ) -> None:
        if not bucket:
            raise ImproperlyConfigured("TINHSO_FILE_STORE=s3 needs TINHSO_S3_BUCKET.")
        self.bucket = bucket
        # MinIO and Ceph are usually reached at a host name of their own, where the bucket
        # cannot be a subdomain: path-style addresses unless told otherwise.
        style = addressing_style or ("path" if endpoint_url else "auto")
        self._storage = S3Storage(
            bucket_name=bucket,
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            addressing_style=style,
            file_overwrite=True,  # names are random: no need to ask before writing
            default_acl=None,  # the bucket's own policy: private
            querystring_auth=True,
        )

    @property
    def _client(self) -> Any:
        # django-storages keeps one connection per thread; boto3's clients are thread-safe.
        return self._storage.connection.meta.client

    def put(self, name: str, content: bytes, *, content_type: str) -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=name, Body=content, ContentType=content_type
        )

    def _get(self, name: str) -> Any:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise FileNotFoundError(name) from None
            raise

    def open(self, name: str) -> BinaryIO:
        answer = self._get(name)
        return cast(BinaryIO, _ObjectStream(answer["Body"], int(answer["ContentLength"])))

    def read(self, name: str) -> bytes:
        body = self._get(name)["Body"]
        try:
            return cast(bytes, body.read())
        finally:
            body.close()

    def delete(self, name: str) -> None:
        self._storage.delete(name)

    def exists(self, name: str) -> bool:
        return bool(self._storage.exists(name))

    def size(self, name: str) -> int:
        return int(self._storage.size(name))

    def listing(self, folder: str) -> Iterator[StoredObject]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=folder.rstrip("/") + "/"
        )
        for page in pages:
            for entry in page.get("Contents", ()):
                yield StoredObject(entry["Key"], entry["LastModified"].timestamp())
