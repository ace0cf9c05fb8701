"""Attachments of official documents: PDF (and scans as JPEG/PNG) through the platform's
check (core.files), and Office Open XML documents (DOCX, XLSX) checked here by content: a
ZIP whose parts say what it is, within limits on entries and unpacked size (no zip bombs),
without macros. A file's name and its declared type are never trusted."""

from __future__ import annotations

import hashlib
import io
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from tinhso.core.files import CheckedFile, check_upload

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ENTRIES = 2000
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200


def _office(content: bytes, filename: str) -> CheckedFile:
    def refuse() -> ValidationError:
        return ValidationError(
            _("%(name)s is not a PDF, DOCX or XLSX file (its content was checked, not its name).")
            % {"name": filename},
            code="file_type",
        )

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise refuse() from exc
    names = {info.filename for info in infos}
    if len(infos) > MAX_ENTRIES or "[Content_Types].xml" not in names:
        raise refuse()
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(len(content), 1):
        raise ValidationError(
            _("%(name)s unpacks to far more than its size; it was refused.") % {"name": filename},
            code="file_decompression_bomb",
        )
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise ValidationError(
            _("%(name)s contains macros; send it without them (DOCX or XLSX).")
            % {"name": filename},
            code="file_active_content",
        )
    if "word/document.xml" in names:
        content_type, extension = DOCX, ".docx"
    elif "xl/workbook.xml" in names:
        content_type, extension = XLSX, ".xlsx"
    else:
        raise refuse()
    try:
        # Every part must unpack: a damaged archive is refused now, not when it is opened.
        if archive.testzip() is not None:
            raise refuse()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise refuse() from exc
    return CheckedFile(
        original_name=filename,
        content=content,
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def check_attachment(
    upload: UploadedFile | None, *, name: str | None = None, content: bytes | None = None
) -> CheckedFile:
    """One attachment checked by its content: PDF, JPEG, PNG (core.files), DOCX or XLSX;
    at most TINHSO_DOCUMENT_MAX_BYTES."""
    limit = settings.TINHSO_DOCUMENT_MAX_BYTES
    filename = (name or (upload.name if upload is not None else "") or "tệp").rsplit("/", 1)[-1]
    filename = filename[:255]
    if content is None:
        assert upload is not None  # noqa: S101 (one of the two is given)
        content = upload.read(limit + 1)
    if len(content) > limit:
        raise ValidationError(
            _("%(name)s is larger than %(limit)d MB.")
            % {"name": filename, "limit": limit // 1048576},
            code="file_too_large",
        )
    if content.startswith(b"PK\x03\x04"):
        return _office(content, filename)
    return check_upload(None, name=filename, content=content)
