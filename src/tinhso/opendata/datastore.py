"""The tabular store: CSV and XLSX resources loaded into real, typed, indexed tables that
`datastore_search` queries.

One table per resource (`ds_<resource id>`), one column per field named `c0`, `c1`, … (the
field names live in DatastoreTable.fields, so nothing a client sends is ever spliced into
SQL as a name), `_id` (the row number) and `_full_text` (the row's folded text, for
accent-insensitive `q`). A file is read as a stream and loaded in batches into a new table
(ADR 0028): the services name it in DatastoreTable only once it is complete, so readers
never see a half-loaded table and a failed load leaves the previous one as it was.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from django.db import connection, transaction
from django.utils.translation import gettext as _

from tinhso.core.text import fold

TYPES = ("int", "numeric", "bool", "date", "timestamp", "text")
MAX_BAD_ROWS_KEPT = 100
MAX_INDEXED_COLUMNS = 16
LIMIT_DEFAULT = 100
LIMIT_MAX = 32000
NUMERIC_EXPONENT_MAX = 300

_INT = re.compile(r"^[+-]?(0|[1-9]\d{0,17})$")
# No leading zero before other digits: "0912…" is a phone number or a code, not a number.
_NUMERIC = re.compile(r"^[+-]?((0|[1-9]\d*)(\.\d+)?|\.\d+)([eE][+-]?\d+)?$")
_DATE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_VN = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_BOOL = {"true": True, "false": False}


class DatastoreError(Exception):
    """A request or a file the store cannot take; `errors` maps a parameter (or "file") to
    messages, as CKAN's validation errors do."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# --- Reading files --------------------------------------------------------------------------
#
# Files are read as streams, a row at a time: the loader never holds more than a sample
# (SAMPLE_ROWS, for the types) and a batch (BATCH_ROWS) of rows, whatever the file's size.

SAMPLE_ROWS = 10_000  # rows the column types are inferred from
BATCH_ROWS = 10_000  # rows per COPY (PostgreSQL) or executemany (SQLite), and per progress step
CHUNK = 1 << 16  # bytes read at a time


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _valid_utf8(stream: BinaryIO, skip: int) -> bool:
    """Whether the whole stream is UTF-8, read a chunk at a time (the text is dropped)."""
    stream.read(skip)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def encoding_of(opener: Callable[[], BinaryIO]) -> str:
    """The encoding of the CSV file `opener` opens (as `decode` decides it), read once
    through in chunks."""
    with opener() as stream:
        head = stream.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
    bom = head.startswith(codecs.BOM_UTF8)
    with opener() as stream:
        if _valid_utf8(stream, 3 if bom else 0):
            return "utf-8-sig" if bom else "utf-8"
    return "cp1258"


@dataclass
class BadRows:
    """Rows not loaded: how many, and the first MAX_BAD_ROWS_KEPT with their line."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.rows) < MAX_BAD_ROWS_KEPT:
            self.rows.append({"line": line, "error": message})


@dataclass
class Reading:
    """A file being read: its column names, its rows as (line, cells) — each of the
    header's width; blank lines and rows of another width are counted in `bad` and
    skipped — and what to call once done."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str
    bad: BadRows
    close: Callable[[], None] = lambda: None


def _headers(raw: Sequence[object]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(raw):
        name = " ".join(str(cell if cell is not None else "").split()).lstrip("_")[:63]
        name = name or f"cot_{index + 1}"
        base, n = name, 2
        while name.lower() in seen:
            name = f"{base}_{n}"
            n += 1
        seen.add(name.lower())
        names.append(name)
    return names


def _checked(
    numbered: Iterable[tuple[int, list[str]]], width: int, bad: BadRows
) -> Iterator[tuple[int, list[str]]]:
    for line, cells in numbered:
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a row
        if len(cells) != width:
            bad.add(
                line,
                _("the row has %(cells)d cells but the header has %(columns)d columns")
                % {"cells": len(cells), "columns": width},
            )
            continue
        yield line, cells


def csv_read(opener: Callable[[], BinaryIO], *, encoding: str | None = None) -> Reading:
    """Read a CSV file as a stream: the encoding (one pass through, unless given), the
    dialect from its first 64 KB, then rows one at a time."""
    encoding = encoding or encoding_of(opener)
    stream = opener()
    if isinstance(stream, io.RawIOBase):  # an object store's body
        stream = io.BufferedReader(stream, CHUNK)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    try:
        sample = text.read(65536)
        sample += text.readline()  # to the end of the line the sample cut
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
                sample[:65536], delimiters=",;\t|"
            )
        except csv.Error:
            dialect = csv.excel
        lines: Iterator[str] = itertools.chain(io.StringIO(sample, newline=""), text)
        if encoding in ("utf-8", "cp1258"):
            lines = map(_nfc, lines)
        reader = csv.reader(lines, dialect)
        try:
            header = next(reader)
        except StopIteration:
            raise DatastoreError({"file": [_("The file has no header row.")]}) from None
        except csv.Error as exc:
            raise DatastoreError({"file": [str(exc)]}) from None
    except BaseException:
        text.close()
        raise
    headers = _headers(header)
    bad = BadRows()

    def numbered() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                bad.add(reader.line_num, str(exc))
                continue
            yield reader.line_num, cells

    return Reading(headers, _checked(numbered(), len(headers), bad), encoding, bad, text.close)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ") if value.time() != datetime.min.time() else str(value.date())
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _seekable(stream: BinaryIO) -> BinaryIO:
    """A spreadsheet is a zip archive, read from its end: a stream that cannot seek (an
    object store's) is copied to a temporary file first, a chunk at a time."""
    if stream.seekable():
        return stream
    copy = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the reading)
    with stream:
        while chunk := stream.read(CHUNK):
            copy.write(chunk)
    copy.seek(0)
    return copy


def xlsx_read(opener: Callable[[], BinaryIO]) -> Reading:
    """Read the first sheet of a spreadsheet row by row (openpyxl's read-only mode: the
    sheet is parsed as it is read; only the shared-strings table is held whole)."""
    from openpyxl import load_workbook

    stream = _seekable(opener())
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        stream.close()
        raise DatastoreError({"file": [_("The spreadsheet cannot be read: %s") % exc]}) from None

    def close() -> None:
        book.close()
        stream.close()

    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        line = 0
        for header in rows:
            line += 1
            if any(c not in (None, "") for c in header):
                break
        else:
            raise DatastoreError({"file": [_("The file has no header row.")]})
    except BaseException:
        close()
        raise
    # Trailing empty header cells are the sheet's width, not columns.
    cells = list(header)
    while cells and cells[-1] in (None, ""):
        cells.pop()
    width = len(cells)
    bad = BadRows()

    def numbered() -> Iterator[tuple[int, list[str]]]:
        for n, row in enumerate(rows, start=line + 1):
            values = [_cell_text(v) for v in row]
            extra = values[width:]
            if any(extra):
                yield n, values  # a value outside the header's columns: a bad row
            else:
                yield n, (values + [""] * width)[:width]

    return Reading(_headers(cells), _checked(numbered(), width, bad), "xlsx", bad, close)


def reader_for(kind: str) -> Callable[[Callable[[], BinaryIO]], Reading]:
    """The streaming reader of a tabular format (formats.TABULAR)."""
    if kind == "XLSX":
        return xlsx_read
    return csv_read


def header_check(kind: str, content: bytes) -> None:
    """Refuse at once a CSV file whose header cannot be read (from its first 64 KB); the
    rest is read by the load task. A spreadsheet is opened by the task only (opening one
    reads its whole shared-strings table)."""
    if kind != "CSV":
        return
    head = content[:65536]
    csv_read(lambda: io.BytesIO(head)).close()


# --- Types ----------------------------------------------------------------------------------


def _date(value: str) -> date:
    if _DATE_ISO.match(value):
        return date.fromisoformat(value)
    m = _DATE_VN.match(value)
    if not m:
        raise ValueError(value)
    return date(int(m[3]), int(m[2]), int(m[1]))


def convert(value: str, kind: str) -> Any:
    """The typed value of one cell; raises ValueError if it is not of that type."""
    if kind == "text":
        return value
    if kind == "int":
        if not _INT.match(value):
            raise ValueError(value)
        return int(value)
    if kind == "numeric":
        if not _NUMERIC.match(value):
            raise ValueError(value)
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(value) from None
        # Beyond what a double holds (SQLite's real, JSON readers) and PostgreSQL's numeric
        # takes from text: such a column stays text, such a filter is of the wrong type.
        if number and not -NUMERIC_EXPONENT_MAX <= number.adjusted() <= NUMERIC_EXPONENT_MAX:
            raise ValueError(value)
        return number
    if kind == "bool":
        return _BOOL[value.lower()]
    if kind == "date":
        return _date(value)
    if kind == "timestamp":
        if not _TIMESTAMP.match(value):
            raise ValueError(value)
        return datetime.fromisoformat(value)
    raise ValueError(kind)


def _fits(value: str, kind: str) -> bool:
    try:
        convert(value, kind)
    except (ValueError, KeyError):
        return False
    return True


def infer_types(headers: list[str], rows: list[list[str]]) -> list[str]:
    """The narrowest type every non-empty value of each column has. A number with a leading
    zero (a phone, a code) stays text; dates may be ISO or dd/mm/yyyy."""
    kinds: list[str] = []
    for index in range(len(headers)):
        candidates = ["int", "numeric", "bool", "date", "timestamp"]
        seen_value = False
        for row in rows:
            value = row[index].strip()
            if not value:
                continue
            seen_value = True
            candidates = [k for k in candidates if _fits(value, k)]
            if not candidates:
                break
        kinds.append(candidates[0] if (candidates and seen_value) else "text")
    return kinds


# --- Tables ---------------------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _sql_type(kind: str) -> str:
    postgres = connection.vendor == "postgresql"
    return {
        "int": "bigint" if postgres else "integer",
        "numeric": "numeric" if postgres else "real",
        "bool": "boolean" if postgres else "integer",
        "date": "date" if postgres else "text",
        "timestamp": "timestamp" if postgres else "text",
        "text": "text",
    }[kind]


def _db_value(value: Any, kind: str) -> Any:
    if value is None or connection.vendor == "postgresql":
        return value
    if kind == "numeric":
        return float(value)
    if kind == "bool":
        return int(value)
    if kind in ("date", "timestamp"):
        return value.isoformat(sep=" ") if kind == "timestamp" else value.isoformat()
    return value


def _maker(kind: str) -> Callable[[str], Any]:
    """Cell text → the value stored, for one column; raises ValueError or KeyError when the
    text is not of the column's type (types come from a sample, so a later value may not
    fit: the loader then widens the column)."""
    if kind == "text":
        return lambda v: v if v != "" else None
    adapt: Callable[[Any], Any] = lambda v: v  # noqa: E731
    if connection.vendor != "postgresql":  # SQLite stores these as numbers and ISO text
        adapters: dict[str, Callable[[Any], Any]] = {
            "numeric": float,
            "bool": int,
            "date": lambda v: v.isoformat(),
            "timestamp": lambda v: v.isoformat(sep=" "),
        }
        adapt = adapters.get(kind, adapt)

    def load(value: str) -> Any:
        value = value.strip()
        return adapt(convert(value, kind)) if value else None

    return load


def _widen(kind: str, value: str) -> str:
    """The type a column takes when `value` does not fit `kind`: after a sample, a column
    can only be int (then numeric, which holds every int, may do) or one other type."""
    return "numeric" if kind == "int" and _fits(value, "numeric") else "text"


class _Retype(Exception):  # noqa: N818 (not an error: the loader starts again)
    """A value did not fit its column's sampled type; `kinds` fit every value of the file."""

    def __init__(self, kinds: list[str]) -> None:
        super().__init__(kinds)
        self.kinds = kinds


def _final_kinds(
    kinds: list[str], cells: list[str], rows: Iterator[tuple[int, list[str]]]
) -> list[str]:
    """The types every value fits, from the row that did not fit and the rest of the file
    (only checked, not loaded: the rows before all fit `kinds`)."""
    final = list(kinds)
    for row in itertools.chain([cells], (c for _line, c in rows)):
        for index, kind in enumerate(final):
            if kind == "text":
                continue
            value = row[index].strip()
            if value and not _fits(value, kind):
                final[index] = _widen(kind, value)
    return final


def table_drop(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(table)}")


def tables_named(prefix: str) -> list[str]:
    """The tables whose name starts with `prefix` (a resource's, loaded or half-loaded)."""
    with connection.cursor() as cursor:
        return [t for t in connection.introspection.table_names(cursor) if t.startswith(prefix)]


@dataclass(frozen=True)
class Loaded:
    fields: list[dict[str, str]]
    row_count: int
    bad_rows: list[dict[str, Any]]
    bad_row_count: int
    encoding: str


def _table_create(table: str, kinds: list[str]) -> list[str]:
    columns = [f"c{i}" for i in range(len(kinds))]
    column_sql = ", ".join(f"{_q(c)} {_sql_type(k)}" for c, k in zip(columns, kinds, strict=True))
    id_type = "bigint" if connection.vendor == "postgresql" else "integer"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(table)}")
        cursor.execute(
            f"CREATE TABLE {_q(table)} ({_q('_id')} {id_type} PRIMARY KEY, "
            f"{_q('_full_text')} text{', ' + column_sql if column_sql else ''})"
        )
    return columns


def _write(table: str, columns: list[str], batch: list[list[Any]]) -> None:
    names = ", ".join(_q(c) for c in ["_id", "_full_text", *columns])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {_q(table)} ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(columns) + 2))
            # Names are quoted and made here (c0, c1, …), never taken from the file.
            cursor.executemany(f"INSERT INTO {_q(table)} ({names}) VALUES ({marks})", batch)  # noqa: S608


def _folder() -> Callable[[str], str]:
    folded: dict[str, str] = {}

    def fold_cell(value: str) -> str:
        # Tables repeat their values (communes, categories): fold each distinct one once.
        if value.isascii():
            return value.lower()
        found = folded.get(value)
        if found is None:
            if len(folded) > 50_000:
                folded.clear()
            found = folded[value] = fold(value)
        return found

    return fold_cell


Progress = Callable[[int], None]


def _fill(
    table: str,
    reading: Reading,
    kinds: list[str] | None,
    progress: Progress | None,
    batch_rows: int,
    sample_rows: int,
) -> Loaded:
    rows: Iterator[tuple[int, list[str]]] = reading.rows
    if kinds is None:
        sample = list(itertools.islice(rows, sample_rows))
        kinds = infer_types(reading.headers, [cells for _line, cells in sample])
        rows = itertools.chain(sample, rows)
        del sample  # the chain lets go of the sample rows as it passes them
    with transaction.atomic():
        columns = _table_create(table, kinds)
    makers = [_maker(kind) for kind in kinds]
    fold_cell = _folder()
    count = 0
    while True:
        batch: list[list[Any]] = []
        for _line, cells in itertools.islice(rows, batch_rows):
            values = []
            for make, value in zip(makers, cells, strict=True):
                try:
                    values.append(make(value))
                except (ValueError, KeyError):
                    raise _Retype(_final_kinds(kinds, cells, rows)) from None
            count += 1
            batch.append([count, " ".join(fold_cell(c) for c in cells if c), *values])
        if not batch:
            break
        with transaction.atomic():
            _write(table, columns, batch)
        del batch
        if progress is not None:
            progress(count)
    with transaction.atomic(), connection.cursor() as cursor:
        for column in columns[:MAX_INDEXED_COLUMNS]:
            cursor.execute(f"CREATE INDEX {_q(f'{table}_{column}')} ON {_q(table)} ({_q(column)})")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_q(table)}")
    return Loaded(
        fields=[
            {"id": name, "type": kind} for name, kind in zip(reading.headers, kinds, strict=True)
        ],
        row_count=count,
        bad_rows=reading.bad.rows,
        bad_row_count=reading.bad.count,
        encoding=reading.encoding,
    )


def table_load(
    table: str,
    open_reading: Callable[[], Reading],
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    sample_rows: int = SAMPLE_ROWS,
) -> Loaded:
    """Create `table` and fill it from a file read as a stream (`open_reading` opens it):
    the types from the first `sample_rows` rows, then the rows in batches of `batch_rows`,
    each written in its own transaction (a savepoint inside a caller's), with
    `progress(rows so far)` after each; then the indexes. A later value that does not fit
    its column's type (a "1,5" after ten thousand integers) stops the writing: the rest of
    the file is only checked, and the table is made again with the types every value fits
    (a second pass, at most). The table is dropped if anything fails."""
    kinds: list[str] | None = None
    try:
        for _attempt in range(2):
            reading = open_reading()
            try:
                return _fill(table, reading, kinds, progress, batch_rows, sample_rows)
            except _Retype as retype:
                if kinds is not None:  # the final types fit every value: never twice
                    raise AssertionError(retype.kinds) from None
                kinds = retype.kinds
            finally:
                reading.close()
        raise AssertionError("unreachable")
    except BaseException:
        with transaction.atomic():
            table_drop(table)
        raise


# --- Search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRequest:
    filters: dict[str, Any] = field(default_factory=dict)
    q: str | dict[str, str] = ""
    fields: list[str] | None = None
    sort: str = ""
    limit: int = LIMIT_DEFAULT
    offset: int = 0
    include_total: bool = True


@dataclass(frozen=True)
class SearchResult:
    fields: list[dict[str, str]]
    records: list[dict[str, Any]]
    total: int | None


def _out(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "numeric":
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "bool":
        return bool(value)
    if kind in ("date", "timestamp") and not isinstance(value, str):
        return value.isoformat() if kind == "date" else value.isoformat(timespec="seconds")
    if kind == "timestamp" and isinstance(value, str):
        return value.replace(" ", "T")
    return value


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    table: str, schema: list[dict[str, str]], row_count: int, request: SearchRequest
) -> SearchResult:
    """Rows of one table: filters (equality, or any of a list), q (every word, diacritics
    ignored; or a per-field dict), chosen fields, sort, paging and the total."""
    columns = {f["id"]: (f"c{i}", f["type"]) for i, f in enumerate(schema)}
    columns["_id"] = ("_id", "int")
    errors: dict[str, list[str]] = {}

    where: list[str] = []
    params: list[Any] = []
    for name, wanted in request.filters.items():
        if name not in columns:
            errors.setdefault("filters", []).append(
                _('field "%(name)s" not in table') % {"name": name}
            )
            continue
        column, kind = columns[name]
        values = wanted if isinstance(wanted, list) else [wanted]
        try:
            typed = [
                None if v is None else _db_value(convert(_cell_text(v), kind), kind) for v in values
            ]
        except (ValueError, KeyError):
            errors.setdefault("filters", []).append(
                _('a value for "%(name)s" is not of its type (%(type)s)')
                % {"name": name, "type": kind}
            )
            continue
        if not typed:
            where.append("1 = 0")
        elif None in typed:
            others = [v for v in typed if v is not None]
            clause = f"{_q(column)} IS NULL"
            if others:
                clause += f" OR {_q(column)} IN ({', '.join(['%s'] * len(others))})"
            where.append(f"({clause})")
            params.extend(others)
        else:
            where.append(f"{_q(column)} IN ({', '.join(['%s'] * len(typed))})")
            params.extend(typed)

    if isinstance(request.q, dict):
        for name, text in request.q.items():
            if name not in columns:
                errors.setdefault("q", []).append(
                    _('field "%(name)s" not in table') % {"name": name}
                )
                continue
            column, _kind = columns[name]
            where.append(f"LOWER(CAST({_q(column)} AS TEXT)) LIKE %s ESCAPE '\\'")
            params.append(_like(str(text).lower()))
    else:
        for word in fold(request.q).split():
            where.append(f"{_q('_full_text')} LIKE %s ESCAPE '\\'")
            params.append(_like(word))

    wanted_fields = list(request.fields) if request.fields else ["_id", *[f["id"] for f in schema]]
    for name in wanted_fields:
        if name not in columns:
            errors.setdefault("fields", []).append(
                _('field "%(name)s" not in table') % {"name": name}
            )

    order: list[str] = []
    for part in [p.strip() for p in request.sort.split(",") if p.strip()]:
        words = part.split()
        direction = "ASC"
        if len(words) > 1 and words[-1].lower() in ("asc", "desc"):
            direction = words[-1].upper()
            words = words[:-1]
        name = " ".join(words).strip('"')
        if name not in columns:
            errors.setdefault("sort", []).append(
                _('field "%(name)s" not in table') % {"name": name}
            )
            continue
        # Empty cells last either way, the same on both databases.
        order.append(f"{_q(columns[name][0])} {direction} NULLS LAST")
    if errors:
        raise DatastoreError(errors)
    order.append(_q("_id"))

    where_sql = f" WHERE {' AND '.join(where)}" if where else ""
    select = ", ".join(_q(columns[n][0]) for n in wanted_fields)
    with connection.cursor() as cursor:
        # Every name below is ours (c0, c1, …, quoted); every value is a parameter.
        cursor.execute(
            f"SELECT {select} FROM {_q(table)}{where_sql} ORDER BY {', '.join(order)} "  # noqa: S608
            f"LIMIT %s OFFSET %s",
            [*params, request.limit, request.offset],
        )
        kinds = [columns[n][1] for n in wanted_fields]
        records = [
            {n: _out(v, k) for n, v, k in zip(wanted_fields, row, kinds, strict=True)}
            for row in cursor.fetchall()
        ]
        total: int | None = None
        if request.include_total:
            if not where:
                total = row_count
            else:
                cursor.execute(f"SELECT COUNT(*) FROM {_q(table)}{where_sql}", params)  # noqa: S608
                total = int(cursor.fetchone()[0])
    out_fields = [{"id": "_id", "type": "int"}, *schema]
    by_name = {f["id"]: f for f in out_fields}
    return SearchResult(fields=[by_name[n] for n in wanted_fields], records=records, total=total)
