"""Attachments of official documents: PDF (and scans as JPEG/PNG) through the platform's
check (core.files), and Office Open XML documents (DOCX, XLSX) checked here by content: a
ZIP whose parts say what it is, within limits on entries and unpacked size (no zip bombs),
without macros. A file's name and its declared type are never trusted."""

from __future__ import annotations

import hashlib
import io
import re
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


# Relationship types that make Office fetch or run something from outside the file: a remote
# template, an OLE object, a frame, a sub-document (the "Follina" path went through these).
EXTERNAL_KINDS = ("attachedtemplate", "oleobject", "frame", "subdocument", "package")


def _head(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first 200 kB of a part, lower-cased (what says what a part is fits in that)."""
    with archive.open(name) as part:
        return part.read(200_000).lower()


def _active(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """Whether the document carries active content: macros (whatever the part is named: a
    macro-enabled content type, any binary part), ActiveX controls, or a relationship that
    loads content from outside the file."""
    lowered = {n.lower() for n in names}
    if any(n.endswith(".bin") or "/activex/" in f"/{n}" for n in lowered):
        return True
    types = _head(archive, "[Content_Types].xml")
    if b"macroenabled" in types or b"vbaproject" in types:
        return True
    for name in names:
        if not name.lower().endswith(".rels"):
            continue
        rels = _head(archive, name)
        for match in re.finditer(rb"<relationship\b[^>]*>", rels):
            tag = match.group(0)
            if b'targetmode="external"' in tag and any(k.encode() in tag for k in EXTERNAL_KINDS):
                return True
    return False


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
    if _active(archive, names):
        raise ValidationError(
            _(
                "%(name)s contains macros, controls or embedded programs, or loads content from "
                "elsewhere; send it without them (DOCX or XLSX)."
            )
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
    return check_upload(None, name=filename, content=content, limit=limit)
