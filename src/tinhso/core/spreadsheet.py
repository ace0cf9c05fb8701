"""Cells of the spreadsheets the platform generates (CSV and XLSX), safe to open.

Text that begins with `=`, `+`, `-` or `@` (or a tab or carriage return before one) is what
Excel, LibreOffice and Google Sheets read as a formula: a citizen's name or an agency's
address written that way would run when an official opens the export (OWASP "CSV
injection"). Every CSV and XLSX file the platform writes itself goes through this module:

* CSV: such text gets a leading apostrophe, the mark spreadsheets show as "text, not a
  formula" (OWASP's advice);
* XLSX: text is always a text cell (openpyxl would otherwise store text beginning with "="
  as a formula), with Excel's quote prefix when it could be read as one;
* numbers stay numbers: a negative amount is a number cell, and text that is only a number
  ("-5", "+84912345678") is left alone, as no spreadsheet runs it.

Files that publishers uploaded are not generated here: their raw downloads stay byte for
byte what the publisher sent (docs/adr/0014-open-data.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|[.,]\d+)([eE][+-]?\d+)?$")
# Characters the XLSX format cannot hold (openpyxl refuses them): control characters.
_XLSX_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_TYPED = (int, float, Decimal, datetime, date, time)  # bool is an int


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    return text.startswith(FORMULA_START) and not _NUMBER.match(text)


def csv_cell(value: Any) -> Any:
    """One value for csv.writer: numbers as they are, formula-like text with a leading
    apostrophe, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, _TYPED):
        return value
    text = str(value)
    return "'" + text if formula_like(text) else text


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def xlsx_append(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet: numbers, dates and times as typed cells; text
    as text cells (never a formula or an error value), quote-prefixed when formula-like."""
    row = list(values)
    sheet.append([_xlsx_value(v) for v in row])
    cells = sheet[sheet.max_row]
    for cell, value in zip(cells, row, strict=False):
        if value is None or isinstance(value, _TYPED):
            continue
        cell.data_type = "s"
        if formula_like(str(cell.value)):
            cell.quotePrefix = True


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, _TYPED):
        return value
    return _XLSX_ILLEGAL.sub("\ufffd", str(value))
