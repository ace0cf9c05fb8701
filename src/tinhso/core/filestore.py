"""Where stored files live: the `FileStore` contract, the local folder (the embedded
default) and the choice between it and an S3-compatible object store (core.filestore_s3)
by settings (docs/adr/0020-file-store-contract.md).

A store knows nothing of transactions, rows or checks: it keeps bytes under relative names
(`dossiers/2026/05/<random>.pdf`). `core.files` builds on it what every caller uses: the
checked upload, the marker, the file bound to its transaction, the sweep, the download.
Callers never see a path: a file is read through the store (`read`, `open`) and served by it
(`response`), so the platform runs the same on one server with a folder or on several with a
bucket.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse


@dataclass(frozen=True)
class StoredObject:
    """One stored file as a listing sees it."""

    name: str
    # When it was written (seconds since the epoch): the sweep's grace period counts from it.
    modified: float


class FileStore(abc.ABC):
    """Bytes kept under relative names. Every method takes the name a row holds; reading a
    name that is not there raises FileNotFoundError, deleting one is not an error."""

    kind: str

    @abc.abstractmethod
    def put(self, name: str, content: bytes, *, content_type: str) -> None:
        """Keep `content` under `name` (a fresh random name: never an existing file)."""

    @abc.abstractmethod
    def open(self, name: str) -> BinaryIO:
        """The file as a binary stream for reading; the caller closes it."""

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Remove the file; nothing happens if it is not there."""

    @abc.abstractmethod
    def exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def size(self, name: str) -> int: ...

    @abc.abstractmethod
    def listing(self, folder: str) -> Iterator[StoredObject]:
        """Every file under `folder` (at any depth), for the sweep."""

    def response(self, name: str, *, content_type: str, headers: Mapping[str, str]) -> FileResponse:
        """Serve the file: streamed in blocks (never read whole into memory), with the
        caller's headers. The caller has checked that the user may have it."""
        stream = self.open(name)
        response = FileResponse(stream, content_type=content_type)
        length = getattr(stream, "size", None)
        if "Content-Length" not in response and isinstance(length, int):
            response["Content-Length"] = str(length)
        for header, value in headers.items():
            response[header] = value
        return response


class LocalFileStore(FileStore):
    """A folder (MEDIA_ROOT, under TINHSO_DATA_DIR): the embedded default. Several app
    servers share it only as one mounted file system (DEPLOY.md)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        # Names come from rows, but a row is no reason to leave the folder.
        root = self.root.resolve()
        path = (root / name).resolve()
        if root not in path.parents:
            raise SuspiciousFileOperation(f"{name!r} is outside the file store")
        return path

    def put(self, name: str, content: bytes, *, content_type: str) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x": never over an existing file (FileExistsError).
        with open(path, "xb") as handle:
            try:
                handle.write(content)
            except BaseException:
                # A half-written file must not stay (a full disk, an interrupted write).
                path.unlink(missing_ok=True)
                raise

    def open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")  # the caller closes it

    def read(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def listing(self, folder: str) -> Iterator[StoredObject]:
        base = self.root / folder
        if not base.is_dir():
            return
        for dirpath, _dirnames, filenames in os.walk(base):
            for filename in filenames:
                path = Path(dirpath) / filename
                try:
                    modified = path.stat().st_mtime
                except FileNotFoundError:
                    continue  # removed meanwhile
                yield StoredObject(path.relative_to(self.root).as_posix(), modified)
