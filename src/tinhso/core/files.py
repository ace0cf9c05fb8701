"""The file store: uploaded papers, signed documents and open-data files.

Checking (`check_upload`): the type is read from the content (magic bytes), never from the
name, then the whole file is parsed (core.filecheck: PDFs with pypdf, images with Pillow)
and refused if it is malformed, also something else, or carries active content.

Storing (`store`): files live outside the web root under random names, in the folders of
`FILE_FIELDS`, the one list of model fields that hold a stored file's name. A file belongs
to the transaction that stored it and never outlives it (docs/adr/0016-file-store-
transactions.md):

1. `store` first writes a marker (`.pending/<file name>.json` under the storage root), then
   the file, and registers `transaction.on_commit` to remove the marker. A committed file
   therefore has no marker; a file with a marker belongs to a transaction still running, or
   to one that rolled back, or to a process that died.
2. Django has no rollback hook, so the store settles what it wrote when the transaction is
   certainly over: when the request ends (`request_finished`), when a background task ends
   (`task_finished`), and whenever it stores again outside a transaction (`settle`). A file
   whose on-commit never ran is then removed unless a committed row names it (one query,
   which also keeps a file whose transaction committed but whose on-commit was skipped
   because an earlier callback raised).
3. A process killed mid-transaction (kill -9) leaves its markers: the sweep
   (`orphans_find`, `tinhso files_orphans`, hourly on the worker) resolves a marker older
   than a grace period the same way, and also lists files no row names and rows whose file
   is missing.

Files are served (`upload_response`) as downloads that browsers neither sniff nor render.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from asgiref.local import Local
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core import filecheck

log = logging.getLogger(__name__)

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


# --- Which rows name a stored file ----------------------------------------------------------


@dataclass(frozen=True)
class FileField:
    """A model field that holds the name of a file written through `store`, and the
    folders its names are in."""

    model: str  # "app_label.ModelName"
    field: str
    folders: tuple[str, ...]

    def queryset(self) -> Any:
        return apps.get_model(self.model)._default_manager.all()


# Every field that names a stored file: the sweep checks both directions against this list,
# and `store` writes only into its folders (tests/test_file_store.py checks that no model
# field of this kind is missing).
FILE_FIELDS: tuple[FileField, ...] = (
    # An uploaded attachment, or a citizen's stored paper attached again (same file).
    FileField("dossiers.DossierFile", "storage_name", ("dossiers", "papers")),
    FileField("dossiers.StoredPaper", "storage_name", ("papers",)),
    # Issued forms and results, receipts: the signed file, mirrored on the dossier's form.
    FileField("signing.SignedDocument", "storage_name", ("signed",)),
    FileField("dossiers.DossierDocument", "storage_name", ("signed",)),
    FileField("opendata.Resource", "stored_file", ("opendata",)),
)
FOLDERS: frozenset[str] = frozenset(f for ff in FILE_FIELDS for f in ff.folders)


def _fields_for(name: str) -> list[FileField]:
    folder = name.split("/", 1)[0]
    return [ff for ff in FILE_FIELDS if folder in ff.folders]


def referenced(names: Iterable[str], *, using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """The names among `names` that a row (as this connection sees it) refers to."""
    wanted = sorted(set(names))
    found: set[str] = set()
    for ff in FILE_FIELDS:
        mine = [n for n in wanted if ff in _fields_for(n)]
        for start in range(0, len(mine), 500):
            chunk = mine[start : start + 500]
            found.update(
                ff.queryset()
                .using(using)
                .filter(**{f"{ff.field}__in": chunk})
                .values_list(ff.field, flat=True)
            )
    return found


# --- Storing within a transaction -----------------------------------------------------------

PENDING = ".pending"


def storage_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _marker(root: Path, relative: str) -> Path:
    return root / PENDING / (relative.rsplit("/", 1)[-1] + ".json")


@dataclass
class _Intent:
    """A file this thread stored whose fate is not settled yet."""

    root: Path
    name: str
    # Stored inside a transaction (settled once it is over) or outside one (settled when
    # the request or task ends: the caller writes its row afterwards).
    in_transaction: bool
    committed: bool = False

    def commit(self) -> None:
        self.committed = True
        _marker(self.root, self.name).unlink(missing_ok=True)


# Per thread (and per async context), as Django's connections are: a transaction's files are
# settled by the thread that ran it.
_local = Local()


def _intents(using: str) -> list[_Intent]:
    table: dict[str, list[_Intent]] = getattr(_local, "intents", None) or {}
    _local.intents = table
    return table.setdefault(using, [])


def store(checked: CheckedFile, *, folder: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """Write the file under a random name; returns its name relative to the storage root.
    The file is kept only if the transaction that is open now commits with a row naming it
    (or, stored outside a transaction, if a row names it when the request or task ends)."""
    if folder not in FOLDERS:
        raise ValueError(f"no model field holds files of folder {folder!r} (FILE_FIELDS)")
    settle(using=using, transaction_only=True)
    root = storage_root()
    now = timezone.localdate()
    relative = (
        Path(folder) / f"{now:%Y/%m}" / (secrets.token_urlsafe(24) + checked.extension)
    ).as_posix()
    marker = _marker(root, relative)
    marker.parent.mkdir(parents=True, exist_ok=True)
    # The marker comes first: whatever happens after, the sweep can find the file.
    marker.write_text(
        json.dumps({"name": relative, "pid": os.getpid(), "at": timezone.now().isoformat()}),
        encoding="utf-8",
    )
    path = root / relative
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as handle:
            handle.write(checked.content)
    except BaseException:
        path.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        raise
    connection = connections[using]
    intent = _Intent(root=root, name=relative, in_transaction=connection.in_atomic_block)
    intents = _intents(using)
    # Committed files need no more watching (a long command may store thousands).
    intents[:] = [i for i in intents if not i.committed]
    intents.append(intent)
    if intent.in_transaction:
        # Robust: a failure to remove the marker must not hide the commit (the sweep then
        # finds the row and clears the marker).
        transaction.on_commit(intent.commit, using=using, robust=True)
    return relative


def settle(*, using: str = DEFAULT_DB_ALIAS, transaction_only: bool = False) -> None:
    """Decide the fate of the files this thread stored, once their transaction is over:
    outside any atomic block, every on-commit callback has run or been dropped. A file
    whose callback ran is kept (its marker is gone). Any other is removed unless a row names
    it: its transaction rolled back (the usual case), or it committed and its callback was
    skipped, or it was stored outside a transaction. `transaction_only` leaves the last
    kind alone (their caller may not have written its row yet)."""
    if connections[using].in_atomic_block:
        return
    intents = _intents(using)
    undecided: list[_Intent] = []
    waiting: list[_Intent] = []
    for intent in intents:
        if not intent.committed:
            (undecided if intent.in_transaction or not transaction_only else waiting).append(intent)
    intents[:] = waiting
    if not undecided:
        return
    try:
        kept = referenced((i.name for i in undecided), using=using)
    except DatabaseError:
        # Without the database the answer is unknown: the markers stay for the sweep.
        log.warning("could not settle %d stored files; the sweep will", len(undecided))
        return
    for intent in undecided:
        if intent.name not in kept:
            (intent.root / intent.name).unlink(missing_ok=True)
        _marker(intent.root, intent.name).unlink(missing_ok=True)


def settle_after(**_kwargs: Any) -> None:
    """Receiver of request_finished and task_finished (core.apps)."""
    for alias in list(getattr(_local, "intents", None) or {}):
        settle(using=alias)


def remove(relative: str) -> None:
    (storage_root() / relative).unlink(missing_ok=True)
    _marker(storage_root(), relative).unlink(missing_ok=True)


def open_stored(relative: str) -> Path:
    path = (storage_root() / relative).resolve()
    if storage_root().resolve() not in path.parents:
        raise ValidationError("bad storage path")
    return path


# --- The sweep ------------------------------------------------------------------------------

DEFAULT_GRACE_MINUTES = 60


@dataclass(frozen=True)
class MissingFile:
    model: str
    pk: Any
    name: str


@dataclass
class OrphanReport:
    """What the sweep found. Files and rows are problems (the command exits non-zero);
    cleared markers and files in their grace period are not."""

    files_without_row: list[str] = field(default_factory=list)
    rows_without_file: list[MissingFile] = field(default_factory=list)
    # Markers past the grace period whose file a row names (its on-commit was lost) or
    # that have no file: nothing to remove but the marker.
    markers_cleared: list[str] = field(default_factory=list)
    # Files or markers younger than the grace period: their transaction may still commit.
    in_grace: int = 0
    removed: bool = False

    @property
    def found(self) -> bool:
        return bool(self.files_without_row or self.rows_without_file)


def _listing(root: Path) -> dict[str, float]:
    """Every file under the registered folders, with its modification time."""
    found: dict[str, float] = {}
    for folder in sorted(FOLDERS):
        base = root / folder
        if not base.is_dir():
            continue
        for dirpath, _dirnames, filenames in os.walk(base):
            for filename in filenames:
                path = Path(dirpath) / filename
                try:
                    found[path.relative_to(root).as_posix()] = path.stat().st_mtime
                except FileNotFoundError:
                    continue  # removed meanwhile (replaced after a commit)
    return found


def _markers(root: Path) -> dict[str, tuple[Path, float]]:
    found: dict[str, tuple[Path, float]] = {}
    base = root / PENDING
    if not base.is_dir():
        return found
    for path in base.glob("*.json"):
        try:
            name = json.loads(path.read_text(encoding="utf-8"))["name"]
            found[str(name)] = (path, path.stat().st_mtime)
        except FileNotFoundError:
            continue
        except (ValueError, KeyError, TypeError):
            # A marker cut short by a crash while it was written: its file was never
            # written after it, so only the marker itself is left.
            found[f"{PENDING}/{path.name}"] = (path, path.stat().st_mtime)
    return found


def orphans_find(
    *, grace_minutes: int = DEFAULT_GRACE_MINUTES, remove: bool = False
) -> OrphanReport:
    """Compare the stored files with the rows of FILE_FIELDS, both ways. Files (and markers)
    younger than `grace_minutes` are left alone: their transaction may still be running.
    With `remove`, files no row names are removed and resolved markers cleared; a row
    whose file is missing is only reported (it is a record: restore the file from backup)."""
    root = storage_root()
    cutoff = time.time() - grace_minutes * 60
    report = OrphanReport(removed=remove)
    # Files and markers first, rows second: a file that commits in between is young.
    on_disk = _listing(root)
    markers = _markers(root)
    named: set[str] = set()
    for ff in FILE_FIELDS:
        rows = ff.queryset().exclude(**{ff.field: ""}).values_list("pk", ff.field)
        for pk, name in rows.iterator(chunk_size=2000):
            named.add(name)
            if name not in on_disk and not (root / name).exists():
                report.rows_without_file.append(MissingFile(ff.model, pk, name))
    for name, mtime in sorted(on_disk.items()):
        if name in named:
            continue
        marker = markers.get(name)
        if max(mtime, marker[1] if marker else 0) > cutoff:
            report.in_grace += 1
            continue
        report.files_without_row.append(name)
        if remove:
            (root / name).unlink(missing_ok=True)
            if marker:
                marker[0].unlink(missing_ok=True)
    for name, (path, mtime) in sorted(markers.items()):
        if name in on_disk and name not in named:
            continue  # decided with its file above
        if mtime > cutoff:
            report.in_grace += 1
            continue
        report.markers_cleared.append(name)
        if remove:
            path.unlink(missing_ok=True)
    return report


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
