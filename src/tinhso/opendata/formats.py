"""Resource files: the format is read from the content, never trusted from the name; a PDF
is checked as uploaded papers are (core.filecheck)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tinhso.core.filecheck import pdf_check

# format → (media type, extension)
FORMATS: dict[str, tuple[str, str]] = {
    "CSV": ("text/csv", ".csv"),
    "XLSX": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "JSON": ("application/json", ".json"),
    "GeoJSON": ("application/geo+json", ".geojson"),
    "PDF": ("application/pdf", ".pdf"),
}
TABULAR = frozenset({"CSV", "XLSX"})
# The EU file-type vocabulary's codes, for DCAT-AP dct:format.
EU_FILE_TYPE = {"CSV": "CSV", "XLSX": "XLSX", "JSON": "JSON", "GeoJSON": "GEOJSON", "PDF": "PDF"}


@dataclass(frozen=True)
class ResourceFile:
    filename: str
    content: bytes
    format: str

    @property
    def mimetype(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _is_xlsx(content: bytes) -> bool:
    if not content.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _looks_like_text(content: bytes) -> bool:
    head = content[:65536]
    return b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))


def detect(filename: str, content: bytes) -> ResourceFile:
    """Check the size and recognise CSV, XLSX, JSON, GeoJSON or PDF by content. Raises
    ValidationError with a message naming the file."""
    name = (filename or "tep").replace("\\", "/").rsplit("/", 1)[-1][:255]
    limit = settings.TINHSO_OPENDATA_UPLOAD_MAX_BYTES
    if len(content) > limit:
        raise ValidationError(
            _("%(name)s is %(size).1f MB; a resource file may be at most %(limit)d MB.")
            % {"name": name, "size": len(content) / 1048576, "limit": limit // 1048576},
            code="file_too_large",
        )
    if not content:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="file_empty")
    if content.startswith(b"%PDF-"):
        # Parsed whole and refused with active content, as citizens' papers are.
        pdf_check(content, name=name)
        return ResourceFile(name, content, "PDF")
    if _is_xlsx(content):
        return ResourceFile(name, content, "XLSX")
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        try:
            parsed = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        except RecursionError:
            # Deeper than Python's parser goes (no real dataset is): refused, not a crash.
            raise ValidationError(
                _("%(name)s is JSON nested too deeply to be read.") % {"name": name},
                code="json_too_deep",
            ) from None
        if parsed is not None:
            geo = isinstance(parsed, dict) and parsed.get("type") in (
                "FeatureCollection",
                "Feature",
            )
            return ResourceFile(name, content, "GeoJSON" if geo else "JSON")
    if _looks_like_text(content) and name.lower().endswith((".csv", ".txt", ".tsv")):
        return ResourceFile(name, content, "CSV")
    raise ValidationError(
        _(
            "%(name)s is not a CSV, XLSX, JSON, GeoJSON or PDF file (its content was checked, "
            "not only its name)."
        )
        % {"name": name},
        code="file_type",
    )
