"""Uploaded papers: the type is read from the content (magic bytes), never from the name;
files are stored outside the web root under random names."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
]


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    content: bytes
    content_type: str
    extension: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def sniff(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def check_upload(
    upload: UploadedFile | None, *, name: str | None = None, content: bytes | None = None
) -> CheckedFile:
    """Read and check one upload (or raw bytes from the API): size limit, then PDF, JPEG or
    PNG by content. Raises ValidationError with a message naming the file."""
    limit = settings.TINHSO_UPLOAD_MAX_BYTES
    filename = (name or (upload.name if upload is not None else "") or "tệp").rsplit("/", 1)[-1][
        :255
    ]
    size = len(content) if content is not None else (upload.size or 0) if upload else 0
    if size > limit:
        raise ValidationError(
            _("%(name)s is %(size).1f MB; a file may be at most %(limit)d MB.")
            % {"name": filename, "size": size / 1048576, "limit": limit // 1048576},
            code="file_too_large",
        )
    if content is None:
        assert upload is not None  # noqa: S101 (one of the two is given)
        content = upload.read(limit + 1)
        if len(content) > limit:
            raise ValidationError(
                _("%(name)s is larger than %(limit)d MB.")
                % {"name": filename, "limit": limit // 1048576},
                code="file_too_large",
            )
    if not content:
        raise ValidationError(_("%(name)s is empty.") % {"name": filename}, code="file_empty")
    detected = sniff(content[:16])
    if detected is None:
        raise ValidationError(
            _("%(name)s is not a PDF, JPEG or PNG file (its content was checked, not its name).")
            % {"name": filename},
            code="file_type",
        )
    content_type, extension = detected
    return CheckedFile(
        original_name=filename,
        content=content,
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def storage_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def store(checked: CheckedFile, *, folder: str) -> str:
    """Write the file under a random name; returns its name relative to the storage root."""
    now = timezone.localdate()
    relative = Path(folder) / f"{now:%Y/%m}" / (secrets.token_urlsafe(24) + checked.extension)
    path = storage_root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as handle:
        handle.write(checked.content)
    return relative.as_posix()


def remove(relative: str) -> None:
    (storage_root() / relative).unlink(missing_ok=True)


def open_stored(relative: str) -> Path:
    path = (storage_root() / relative).resolve()
    if storage_root().resolve() not in path.parents:
        raise ValidationError("bad storage path")
    return path
