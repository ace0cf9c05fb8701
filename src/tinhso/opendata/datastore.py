"""The tabular store: CSV and XLSX resources loaded into real, typed, indexed tables that
`datastore_search` queries.

One table per resource (`ds_<resource id>`), one column per field named `c0`, `c1`, … (the
field names live in DatastoreTable.fields, so nothing a client sends is ever spliced into
SQL as a name), `_id` (the row number) and `_full_text` (the row's folded text, for
accent-insensitive `q`). Loading replaces the table inside the caller's transaction, so a
failed load leaves the previous table as it was.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
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


def decode(content: bytes) -> tuple[str, str]:
    """Text of a CSV file and the encoding it was in: UTF-8 with or without a byte-order
    mark, UTF-16 with one, otherwise Windows-1258 (Vietnamese Windows), whose tone marks
    may be separate combining characters, so the text is normalised to NFC."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16"), "utf-16"
    else:
        try:
            return unicodedata.normalize("NFC", content.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            pass
    return unicodedata.normalize("NFC", content.decode("cp1258", errors="replace")), "cp1258"


@dataclass
class Parsed:
    headers: list[str]
    rows: list[list[str]]
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    bad_row_count: int = 0
    encoding: str = ""


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


def _bad(parsed: Parsed, line: int, message: str) -> None:
    parsed.bad_row_count += 1
    if len(parsed.bad_rows) < MAX_BAD_ROWS_KEPT:
        parsed.bad_rows.append({"line": line, "error": message})


def _collect(parsed: Parsed, numbered: Iterable[tuple[int, list[str]]]) -> Parsed:
    width = len(parsed.headers)
    for line, cells in numbered:
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a row
        if len(cells) != width:
            _bad(
                parsed,
                line,
                _("the row has %(cells)d cells but the header has %(columns)d columns")
                % {"cells": len(cells), "columns": width},
            )
            continue
        parsed.rows.append(cells)
    return parsed


def parse_csv(content: bytes) -> Parsed:
    text, encoding = decode(content)
    sample = text[:65536]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise DatastoreError({"file": [_("The file has no header row.")]}) from None
    except csv.Error as exc:
        raise DatastoreError({"file": [str(exc)]}) from None
    parsed = Parsed(headers=_headers(header), rows=[], encoding=encoding)

    def numbered() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                _bad(parsed, reader.line_num, str(exc))
                continue
            yield reader.line_num, cells

    return _collect(parsed, numbered())


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


def parse_xlsx(content: bytes) -> Parsed:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise DatastoreError({"file": [_("The spreadsheet cannot be read: %s") % exc]}) from None
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
        # Trailing empty header cells are the sheet's width, not columns.
        cells = list(header)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        parsed = Parsed(headers=_headers(cells), rows=[], encoding="xlsx")
        width = len(cells)

        def numbered() -> Iterator[tuple[int, list[str]]]:
            for n, row in enumerate(rows, start=line + 1):
                values = [_cell_text(v) for v in row]
                extra = values[width:]
                if any(extra):
                    yield n, values  # a value outside the header's columns: a bad row
                else:
                    yield n, (values + [""] * width)[:width]

        return _collect(parsed, numbered())
    finally:
        book.close()


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


def _loader(kind: str) -> Any:
    """Cell text → the value stored, for one column. The types were inferred from every
    value, so the plain constructors cannot fail here."""
    postgres = connection.vendor == "postgresql"
    if kind == "text":
        return lambda v: v if v != "" else None
    makers: dict[str, Callable[[str], Any]] = {
        "int": int,
        "numeric": Decimal,
        "bool": lambda v: _BOOL[v.lower()],
        "date": _date,
        "timestamp": datetime.fromisoformat,
    }
    make = makers[kind]
    if not postgres:  # SQLite stores these as numbers and ISO text
        typed = make
        make = {
            "numeric": lambda v: float(typed(v)),
            "bool": lambda v: int(typed(v)),
            "date": lambda v: typed(v).isoformat(),
            "timestamp": lambda v: typed(v).isoformat(sep=" "),
        }.get(kind, typed)

    def load(value: str) -> Any:
        value = value.strip()
        return make(value) if value else None

    return load


def table_drop(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(table)}")


@dataclass(frozen=True)
class Loaded:
    fields: list[dict[str, str]]
    row_count: int
    bad_rows: list[dict[str, Any]]
    bad_row_count: int
    encoding: str


def table_load(table: str, parsed: Parsed) -> Loaded:
    """(Re)create `table` from parsed rows: infer types, report the cells that do not fit
    (none can, as types are inferred from every value, but a header-only file is fine), and
    index the columns. Call inside a transaction."""
    kinds = infer_types(parsed.headers, parsed.rows)
    columns = [f"c{i}" for i in range(len(kinds))]
    table_drop(table)
    column_sql = ", ".join(f"{_q(c)} {_sql_type(k)}" for c, k in zip(columns, kinds, strict=True))
    id_type = "bigint" if connection.vendor == "postgresql" else "integer"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {_q(table)} ({_q('_id')} {id_type} PRIMARY KEY, "
            f"{_q('_full_text')} text{', ' + column_sql if column_sql else ''})"
        )

    folded: dict[str, str] = {}

    def fold_cell(value: str) -> str:
        # Tables repeat their values (communes, categories): fold each distinct one once.
        if value.isascii():
            return value.lower()
        found = folded.get(value)
        if found is None:
            if len(folded) > 200_000:
                folded.clear()
            found = folded[value] = fold(value)
        return found

    converters = [_loader(kind) for kind in kinds]

    def typed_rows() -> Iterator[list[Any]]:
        for number, cells in enumerate(parsed.rows, start=1):
            values = [load(v) for load, v in zip(converters, cells, strict=True)]
            yield [number, " ".join(fold_cell(c) for c in cells if c), *values]

    names = ", ".join(_q(c) for c in ["_id", "_full_text", *columns])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {_q(table)} ({names}) FROM STDIN") as copy:
                for row in typed_rows():
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(columns) + 2))
            # Names are quoted and made here (c0, c1, …), never taken from the file.
            insert = f"INSERT INTO {_q(table)} ({names}) VALUES ({marks})"  # noqa: S608
            batch: list[list[Any]] = []
            for row in typed_rows():
                batch.append(row)
                if len(batch) == 5000:
                    cursor.executemany(insert, batch)
                    batch = []
            if batch:
                cursor.executemany(insert, batch)
        for column in columns[:MAX_INDEXED_COLUMNS]:
            cursor.execute(f"CREATE INDEX {_q(f'{table}_{column}')} ON {_q(table)} ({_q(column)})")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_q(table)}")
    return Loaded(
        fields=[
            {"id": name, "type": kind} for name, kind in zip(parsed.headers, kinds, strict=True)
        ],
        row_count=len(parsed.rows),
        bad_rows=parsed.bad_rows,
        bad_row_count=parsed.bad_row_count,
        encoding=parsed.encoding,
    )


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
