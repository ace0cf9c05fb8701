"""The file store: uploaded papers, signed documents and open-data files.

Checking (`check_upload`): the type is read from the content (magic bytes), never from the
name, then the whole file is parsed (core.filecheck: PDFs with pypdf, images with Pillow)
and refused if it is malformed, also something else, or carries active content.

Files are stored outside the web root under random names, and served (`upload_response`)
as downloads that browsers neither sniff nor render.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core import filecheck

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
    PNG by content, then the whole file (core.filecheck). Raises ValidationError with a
    message naming the file and a code (file_too_large, file_empty, file_type,
    file_malformed, file_polyglot, file_active_content, file_encrypted,
    file_too_many_pages, file_too_many_pixels, file_decompression_bomb)."""
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
    if content_type == "application/pdf":
        filecheck.pdf_check(content, name=filename)
    else:
        filecheck.image_check(content, name=filename, content_type=content_type)
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


# --- Serving --------------------------------------------------------------------------------

# A stored upload is the sender's content: the browser must neither guess another type nor
# render it in the platform's origin (a PDF viewer or an HTML guess would run it there).
UPLOAD_CSP = "sandbox; default-src 'none'"
_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]+")


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _UNSAFE.sub("_", stripped)


def download_name(original: str, extension: str) -> str:
    """A file name safe to offer: no folders, no control characters, the extension of
    what the file is (not of what its name claimed)."""
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" .")[:120] or "tep"
    return stem + extension


def attachment_disposition(filename: str) -> str:
    """Content-Disposition for a download (RFC 6266): an ASCII `filename` every browser
    reads, and the exact name in `filename*` (RFC 5987, UTF-8) when it is not ASCII."""
    fallback = _ascii(filename)
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def upload_response(
    relative: str, *, filename: str, content_type: str, private: bool = True
) -> FileResponse:
    """Serve a stored file as a download: attachment with a safe name, its checked type,
    no sniffing, and a sandboxing Content-Security-Policy. `private` files (citizens'
    papers) are never cached. 404 if the file is missing."""
    path = open_stored(relative)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = attachment_disposition(download_name(filename, path.suffix))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = UPLOAD_CSP
    if private:
        response["Cache-Control"] = "private, no-store"
    return response
