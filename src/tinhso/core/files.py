"""Stored files: uploaded papers, signed documents and open-data files.

Checking (`check_upload`): the type is read from the content (magic bytes), never from the
name, then the whole file is parsed (core.filecheck: PDFs with pypdf, images with Pillow)
and refused if it is malformed, also something else, or carries active content.

Storing (`store`): files go into the file store the settings choose (core.filestore: a
local folder or an S3-compatible bucket) under random names, in the folders of
`FILE_FIELDS`, the model fields that hold a stored file's name (each module registers its
own). A file belongs to the transaction that stored it and never outlives it, on either
store (docs/adr/0016-file-store-transactions.md, 0020-file-store-contract.md); callers
write no cleanup of their own:

1. `store` first writes a marker (`.pending/<file name>.json`, in the same store), then
   the file, and registers `transaction.on_commit` to remove the marker. A committed file
   therefore has no marker; a file with a marker belongs to a transaction still running, or
   to one that rolled back, or to a process that died.
2. A savepoint that rolls back while its transaction goes on drops the on-commit callback;
   the store notices (`_OnCommit`) and removes the file at once.
3. Django has no rollback hook for a whole transaction, so the store settles what it wrote
   when the transaction is certainly over: when the request ends (`request_finished`), when
   a background task ends (`task_finished`), and whenever it stores again outside a
   transaction (`settle`). A file whose on-commit never ran is then removed unless a
   committed row names it (one query, which also keeps a file whose transaction committed
   but whose on-commit was skipped because an earlier callback raised).
4. A process killed mid-transaction (kill -9) leaves its markers: the sweep
   (`orphans_find`, `tinhso files_orphans`, hourly on the worker) resolves a marker older
   than a grace period the same way, and also lists files no row names and rows whose file
   is missing.

Files are read through the store (`read_bytes`), never by path, and served by it after the
caller's permission check: `upload_response` (downloads that browsers neither sniff nor
render) and `document_response` (the platform's own signed PDFs, shown inline).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO
from urllib.parse import quote

from asgiref.local import Local
from django.apps import apps
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core import filecheck
from tinhso.core.filestore import FileStore
from tinhso.core.filestores import file_store

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
    upload: UploadedFile | None,
    *,
    name: str | None = None,
    content: bytes | None = None,
    limit: int | None = None,
) -> CheckedFile:
    """Read and check one upload (or raw bytes from the API): size limit, then PDF, JPEG or
    PNG by content, then the whole file (core.filecheck). Raises ValidationError with a
    message naming the file and a code (file_too_large, file_empty, file_type,
    file_malformed, file_polyglot, file_active_content, file_encrypted,
    file_too_many_pages, file_too_many_pixels, file_decompression_bomb). `limit`: another
    size limit than TINHSO_UPLOAD_MAX_BYTES (official documents have their own)."""
    limit = limit or settings.TINHSO_UPLOAD_MAX_BYTES
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

    def queryset(self) -> QuerySet[Model]:
        model: type[Model] = apps.get_model(self.model)
        return model._default_manager.all()


# Every field that names a stored file, registered by the module that owns the model (in its
# AppConfig.ready()): the sweep checks both directions against this list, and `store` writes
# only into its folders (tests/test_file_store.py checks that no model field of this kind is
# missing).
FILE_FIELDS: list[FileField] = []


def file_field_register(model: str, field: str, folders: tuple[str, ...]) -> None:
    """Declare that `model.field` names files stored in `folders` (once per field)."""
    entry = FileField(model, field, folders)
    if entry not in FILE_FIELDS:
        FILE_FIELDS.append(entry)


def folders() -> frozenset[str]:
    return frozenset(f for ff in FILE_FIELDS for f in ff.folders)


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


def marker_name(name: str) -> str:
    """Where the marker of the stored file `name` is kept, in the same store."""
    return f"{PENDING}/{name.rsplit('/', 1)[-1]}.json"


class _State(enum.Enum):
    PENDING = "pending"  # its transaction has not ended yet (as far as this thread knows)
    COMMITTED = "committed"  # its on-commit ran: kept, marker removed
    REMOVED = "removed"  # its transaction or savepoint rolled back: file and marker removed


@dataclass
class _Intent:
    """A file this thread stored whose fate is not settled yet. It keeps the store it wrote
    into: the settings may name another by the time it is settled (a test's, a command's)."""

    store: FileStore
    name: str
    # Stored inside a transaction (settled once it is over) or outside one (settled when
    # the request or task ends: the caller writes its row afterwards).
    in_transaction: bool
    state: _State = _State.PENDING

    def commit(self) -> None:
        self.state = _State.COMMITTED
        self.store.delete(marker_name(self.name))

    def remove(self) -> None:
        # The file first, then its marker: a crash in between leaves a marker for the sweep.
        self.state = _State.REMOVED
        self.store.delete(self.name)
        self.store.delete(marker_name(self.name))


class _OnCommit:
    """The on-commit callback of one stored file, and the store's ear for rollbacks.

    Django runs it when the transaction commits. When a savepoint or the transaction that
    registered it rolls back, Django drops it unrun (`savepoint_rollback` and `rollback`
    discard the callbacks registered inside); nothing else holds it, so CPython frees it at
    that moment and `__del__` runs. Dropped while the connection is still inside an atomic
    block, in the thread that stored, it is a savepoint's rollback: the file goes at once
    unless a row the connection sees names it (one query: it also keeps a committed file
    whose callback was dropped long after, should an exception's traceback have held it).
    Dropped outside (the outermost rollback, or a commit whose earlier callback raised), the
    two cannot be told apart here: `settle` decides when the request or task ends."""

    __slots__ = ("intent", "thread", "using")

    def __init__(self, intent: _Intent, using: str) -> None:
        self.intent = intent
        self.using = using
        self.thread = threading.get_ident()

    def __call__(self) -> None:
        self.intent.commit()

    def __del__(self) -> None:
        intent = self.intent
        if intent.state is not _State.PENDING or threading.get_ident() != self.thread:
            return
        try:
            connection = connections[self.using]
            if (
                connection.in_atomic_block
                and not connection.needs_rollback
                and not referenced([intent.name], using=self.using)
            ):
                intent.remove()
        except Exception:  # a finalizer must not raise: settle and the sweep try again
            log.warning("stored file %s not removed after its rollback", intent.name, exc_info=True)


# Per thread (and per async context), as Django's connections are: a transaction's files are
# settled by the thread that ran it.
_local = Local()


def _intents(using: str) -> list[_Intent]:
    table: dict[str, list[_Intent]] = getattr(_local, "intents", None) or {}
    _local.intents = table
    return table.setdefault(using, [])


def store(checked: CheckedFile, *, folder: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """Write the file under a random name into the file store (core.filestore); returns its
    name. The file is kept only if the transaction that is open now commits with a row
    naming it (or, stored outside a transaction, if a row names it when the request or task
    ends). A caller writes no cleanup: a rolled-back savepoint's files go at its rollback,
    a rolled-back transaction's at the end of the request or task."""
    if folder not in folders():
        raise ValueError(f"no model field holds files of folder {folder!r} (FILE_FIELDS)")
    settle(using=using, transaction_only=True)
    target = file_store()
    now = timezone.localdate()
    name = f"{folder}/{now:%Y/%m}/{secrets.token_urlsafe(24)}{checked.extension}"
    marker = marker_name(name)
    # The marker comes first: whatever happens after, the sweep can find the file.
    target.put(
        marker,
        json.dumps({"name": name, "pid": os.getpid(), "at": timezone.now().isoformat()}).encode(),
        content_type="application/json",
    )
    try:
        target.put(name, checked.content, content_type=checked.content_type)
    except BaseException:
        target.delete(marker)
        raise
    connection = connections[using]
    intent = _Intent(store=target, name=name, in_transaction=connection.in_atomic_block)
    intents = _intents(using)
    # Settled files need no more watching (a long command may store thousands).
    intents[:] = [i for i in intents if i.state is _State.PENDING]
    intents.append(intent)
    if intent.in_transaction:
        # Robust: a failure to remove the marker must not hide the commit (the sweep then
        # finds the row and clears the marker).
        transaction.on_commit(_OnCommit(intent, using), using=using, robust=True)
    return name


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
        if intent.state is _State.PENDING:
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
        if intent.name in kept:
            intent.commit()
        else:
            intent.remove()


def settle_after(**_kwargs: object) -> None:
    """Receiver of request_finished and task_finished (core.apps)."""
    for alias in list(getattr(_local, "intents", None) or {}):
        settle(using=alias)


def discard(name: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """A file that a row no longer names once the transaction open now commits (replaced
    by a new one, its row deleted): removed after that commit, kept if it rolls back. Outside
    a transaction, removed at once."""
    target = file_store()
    transaction.on_commit(lambda: target.delete(name), using=using, robust=True)


def read_bytes(name: str) -> bytes:
    """The content of a stored file (FileNotFoundError if it is missing)."""
    return file_store().read(name)


def open_stream(name: str) -> BinaryIO:
    """A stored file as a binary stream, for reading a large one a part at a time (the
    caller closes it; FileNotFoundError if it is missing)."""
    return file_store().open(name)


# --- The sweep ------------------------------------------------------------------------------

DEFAULT_GRACE_MINUTES = 60


@dataclass(frozen=True)
class MissingFile:
    model: str
    pk: object
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


def _listing(target: FileStore) -> dict[str, float]:
    """Every file under the registered folders, with the time it was written."""
    found: dict[str, float] = {}
    for folder in sorted(folders()):
        for stored in target.listing(folder):
            found[stored.name] = stored.modified
    return found


def _markers(target: FileStore) -> dict[str, tuple[str, float]]:
    """The markers by the name of their file: (the marker's own name, when written)."""
    found: dict[str, tuple[str, float]] = {}
    for stored in target.listing(PENDING):
        if not stored.name.endswith(".json"):
            continue
        try:
            name = json.loads(target.read(stored.name))["name"]
            found[str(name)] = (stored.name, stored.modified)
        except FileNotFoundError:
            continue
        except (ValueError, KeyError, TypeError):
            # A marker cut short by a crash while it was written: its file was never
            # written after it, so only the marker itself is left.
            found[stored.name] = (stored.name, stored.modified)
    return found


def _missing(target: FileStore, name: str) -> bool:
    try:
        return not target.exists(name)
    except SuspiciousFileOperation:
        return True  # a name no file of the store can have


def orphans_find(
    *,
    grace_minutes: int = DEFAULT_GRACE_MINUTES,
    remove: bool = False,
    now: float | None = None,
) -> OrphanReport:
    """Compare the stored files with the rows of FILE_FIELDS, both ways. Files (and markers)
    younger than `grace_minutes` are left alone: their transaction may still be running.
    With `remove`, files no row names are removed and resolved markers cleared; a row
    whose file is missing is only reported (it is a record: restore the file from backup).
    `now` (seconds since the epoch) is the time ages are counted to: the present unless a
    test looks ahead."""
    target = file_store()
    cutoff = (time.time() if now is None else now) - grace_minutes * 60
    report = OrphanReport(removed=remove)
    # Files and markers first, rows second: a file that commits in between is young.
    stored = _listing(target)
    markers = _markers(target)
    named: set[str] = set()
    for ff in FILE_FIELDS:
        rows = ff.queryset().exclude(**{ff.field: ""}).values_list("pk", ff.field)
        for pk, name in rows.iterator(chunk_size=2000):
            named.add(name)
            if name not in stored and _missing(target, name):
                report.rows_without_file.append(MissingFile(ff.model, pk, name))
    for name, modified in sorted(stored.items()):
        if name in named:
            continue
        marker = markers.get(name)
        if max(modified, marker[1] if marker else 0) > cutoff:
            report.in_grace += 1
            continue
        report.files_without_row.append(name)
        if remove:
            target.delete(name)
            if marker:
                target.delete(marker[0])
    for name, (marker_key, modified) in sorted(markers.items()):
        if name in stored and name not in named:
            continue  # decided with its file above
        if modified > cutoff:
            report.in_grace += 1
            continue
        report.markers_cleared.append(name)
        if remove:
            target.delete(marker_key)
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


def _serve(name: str, *, content_type: str, headers: dict[str, str]) -> FileResponse:
    try:
        return file_store().response(name, content_type=content_type, headers=headers)
    except FileNotFoundError:
        raise Http404 from None


def upload_response(
    name: str, *, filename: str, content_type: str, private: bool = True
) -> FileResponse:
    """Serve a stored file as a download (the caller has checked the user may have it):
    attachment with a safe name, its checked type, no sniffing, and a sandboxing
    Content-Security-Policy. `private` files (citizens' papers) are never cached. 404 if the
    file is missing."""
    headers = {
        "Content-Disposition": attachment_disposition(
            download_name(filename, PurePosixPath(name).suffix)
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": UPLOAD_CSP,
    }
    if private:
        headers["Cache-Control"] = "private, no-store"
    return _serve(name, content_type=content_type, headers=headers)


def image_response(name: str, *, content_type: str, public: bool) -> FileResponse:
    """Serve a stored image inline (a citizen's report photo, cleaned before it was stored):
    its checked type, no sniffing; cached by browsers and proxies only when `public`."""
    headers = {
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": UPLOAD_CSP,
        "Cache-Control": "public, max-age=86400" if public else "private, no-store",
    }
    return _serve(name, content_type=content_type, headers=headers)


def document_response(name: str, *, filename: str) -> FileResponse:
    """Serve a PDF the platform rendered and signed itself (an issued form or result),
    shown in the browser, never cached. 404 if the file is missing."""
    return _serve(
        name,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{_ascii(filename)}"',
            "Cache-Control": "private, no-store",
        },
    )
