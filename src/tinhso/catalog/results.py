"""Result templates: how each procedure's result paper is laid out (ADR 0029).

A template is data kept with the procedure in the catalogue (`result` in the catalogue
file, `Procedure.result_template`), checked when it is imported or saved, and laid out by
`result_layout` on the official document of core.pdf. It names the paper's title, the
register its number is taken from (core.numbering, yearly per agency, gap-free) and how
that number is written, the body (paragraphs, labelled fields, tables, headings, the
declaration in words) and the lines above the signer's title.

Text may hold placeholders `{path|filter|…}`. Paths: `form.<field>.<field>` (the dossier's
e-form, checked against the procedure's schema), and what the platform knows of the
dossier: `number` (as the register writes it), `serial`, `year`, `signed_on`,
`dossier.code`, `dossier.received_on`, `procedure.name`, `agency.name`, `agency.place`,
`applicant.full_name`, `applicant.personal_id`, `applicant.date_of_birth`,
`applicant.address`, `signer.name`, `signer.title`, `note` (the signer's words).

A value shows in words by default: an enum's title, never its code; a date as dd/mm/yyyy;
yes/no; numbers with Vietnamese separators. Filters: `date`, `date_words` ("ngày mồng năm
tháng tư năm …"), `words` (a number in words), `money` ("150.000 đồng"), `money_words`,
`upper`, `lower`, `value` (the value as stored: "1" for Phiếu số 1).
A block with `if: <path>` shows only when that value is given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import translation
from fpdf.errors import FPDFException
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from tinhso.catalog.eform import form_sample, form_summary, value_in_words
from tinhso.core.pdf import OfficialDocument, SignatureBlock
from tinhso.core.words import date_words, grouped, money_words, number_words, vnd

logger = logging.getLogger(__name__)

PATH = r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*"
PLACEHOLDER = re.compile(r"\{(" + PATH + r")((?:\|[a-z_]+)*)\}")
PATH_RE = re.compile(PATH)

TEXT = {"type": "string", "maxLength": 2000}
LABEL = {"type": "string", "minLength": 1, "maxLength": 80}  # a field's label: one line
CELL = {"type": "string", "maxLength": 300}
_CONDITION = {"type": "string", "pattern": f"^{PATH}$"}
TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "body"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "subtitle": {"type": "string", "maxLength": 200},
        "register": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "notation"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,39}$"},
                "notation": {"type": "string", "minLength": 1, "maxLength": 60},
                "book": {"type": "string", "maxLength": 60},
            },
        },
        "body": {
            "type": "array",
            "maxItems": 60,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["text"],
                        "properties": {
                            "text": TEXT, "bold": {"type": "boolean"}, "if": _CONDITION,
                        },
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["heading"],
                        "properties": {"heading": TEXT, "if": _CONDITION},
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["field", "value"],
                        "properties": {"field": LABEL, "value": TEXT, "if": _CONDITION},
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["table"],
                        "properties": {
                            "if": _CONDITION,
                            "table": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["columns", "widths", "rows"],
                                "properties": {
                                    "columns": {"type": "array", "minItems": 1, "maxItems": 6,
                                                "items": CELL},
                                    "widths": {"type": "array", "items": {
                                        "type": "number", "minimum": 20, "maximum": 170}},
                                    "rows": {"type": "array", "maxItems": 40, "items": {
                                        "type": "array", "items": CELL}},
                                },
                            },
                        },
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["declaration"],
                        "properties": {"declaration": {"const": True}},
                    },
                ]
            },
        },
        "signer": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "lines": {"type": "array", "maxItems": 2, "items": {
                    "type": "string", "minLength": 1, "maxLength": 80}},
            },
        },
        "note_required": {"type": "string", "minLength": 1, "maxLength": 120},
        "footer": TEXT,
    },
}  # fmt: skip

FILTERS = frozenset(
    {"date", "date_words", "words", "money", "money_words", "upper", "lower", "value"}
)
_DATE_FILTERS = {"date", "date_words"}
_NUMBER_FILTERS = {"words", "money", "money_words"}

# What the platform knows of a dossier, by path: "date", "integer" or "string".
KNOWN: dict[str, str] = {
    "number": "string", "serial": "integer", "year": "integer", "signed_on": "date",
    "dossier.code": "string", "dossier.received_on": "date", "procedure.name": "string",
    "agency.name": "string", "agency.place": "string", "applicant.full_name": "string",
    "applicant.personal_id": "string", "applicant.date_of_birth": "date",
    "applicant.address": "string", "signer.name": "string", "signer.title": "string",
    "note": "string",
}  # fmt: skip

# Numbers that are names, written as they are ("2026", not "2.026").
AS_WRITTEN = frozenset({"year", "serial"})

# The result of a procedure whose catalogue entry has no template of its own.
DEFAULT_TEMPLATE: dict[str, Any] = {
    "title": "Thông báo kết quả giải quyết thủ tục hành chính",
    "register": {"code": "ket-qua", "notation": "{number}/TB-KQ"},
    "body": [
        {"field": "Thủ tục", "value": "{procedure.name}"},
        {"field": "Mã hồ sơ", "value": "{dossier.code}"},
        {"text": "{agency.name} giải quyết yêu cầu của:"},
        {"field": "Ông/Bà", "value": "{applicant.full_name}"},
        {"field": "Số định danh cá nhân", "value": "{applicant.personal_id}"},
        {"field": "Địa chỉ", "value": "{applicant.address}"},
        {"heading": "Nội dung đã kê khai"},
        {"declaration": True},
        {"text": "Kết quả: chấp thuận yêu cầu giải quyết thủ tục hành chính nêu trên.",
         "bold": True},
        {"text": "{note}", "if": "note"},
    ],
}  # fmt: skip


def _schema_node(schema: Mapping[str, Any], parts: list[str]) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] = schema
    for part in parts:
        properties = node.get("properties") or {}
        if part not in properties:
            return None
        node = properties[part]
    return node


def _kind_of(prop: Mapping[str, Any]) -> str:
    """A value's kind: date, integer (a whole number: words and amounts apply), number,
    string."""
    if prop.get("format") == "date":
        return "date"
    if prop.get("type") == "integer":
        return "integer"
    if prop.get("type") == "number":
        return "number"
    return "string"


def _strings(template: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every text of the template that may hold placeholders, with where it is."""
    found = [("title", template.get("title", "")), ("subtitle", template.get("subtitle", ""))]
    register = template.get("register") or {}
    found += [("register.book", register.get("book", ""))]
    for index, block in enumerate(template.get("body", [])):
        where = f"body[{index}]"
        for key in ("text", "heading", "field", "value"):
            if key in block:
                found.append((f"{where}.{key}", block[key]))
        table = block.get("table") or {}
        for column in table.get("columns", []):
            found.append((f"{where}.table.columns", column))
        for r, row in enumerate(table.get("rows", [])):
            for cell in row:
                found.append((f"{where}.table.rows[{r}]", cell))
    found += [(f"signer.lines[{i}]", t) for i, t in enumerate((template.get("signer") or {})
                                                               .get("lines", []))]  # fmt: skip
    found.append(("footer", template.get("footer", "")))
    return [(where, text) for where, text in found if text]


def _path_problem(path: str, schema: Mapping[str, Any]) -> tuple[str | None, str]:
    """(problem or None, the value's kind) of a placeholder's path."""
    if path.startswith("form."):
        node = _schema_node(schema, path.split(".")[1:])
        if node is None:
            return f"the e-form has no field {path[5:]!r}", "string"
        if node.get("type") == "object":
            return f"{path[5:]!r} is a group of fields, not a value", "string"
        return None, _kind_of(node)
    if path in KNOWN:
        return None, KNOWN[path]
    return f"unknown value {path!r} (form.… or one of {', '.join(sorted(KNOWN))})", "string"


def _specific(error: SchemaError) -> list[SchemaError]:
    """For a block that matches none of the kinds of block: what is wrong with it as the
    kind its keys say it is ("field" → the field's errors), not "not valid under any"."""
    if error.validator != "oneOf" or not isinstance(error.instance, Mapping):
        return [error]
    branches = error.validator_value
    keys = set(error.instance)
    meant = [
        sub for sub in error.context or []
        if set(branches[sub.schema_path[0]].get("required", [])) <= keys
    ]  # fmt: skip
    return meant or [error]


def result_template_problems(
    template: Mapping[str, Any], form_schema: Mapping[str, Any]
) -> list[str]:
    """Every problem of a template against its procedure's e-form; empty when it can lay
    out any dossier of that procedure."""
    problems = [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(template)'}: {e.message}"
        for error in Draft202012Validator(TEMPLATE_SCHEMA).iter_errors(template)
        for e in _specific(error)
    ]
    if problems:
        return problems
    register = template.get("register")
    if register and "{number}" not in register["notation"]:
        problems.append("register.notation: must contain {number}")
    if register:
        rest = re.sub(r"\{(number|year)\}", "", register["notation"])
        if "{" in rest or "}" in rest:
            problems.append("register.notation: only {number} and {year} may be used")
    if not PLACEHOLDER.sub("", template["title"]).strip():
        problems.append("title: needs words of its own, not only values (a value may be empty)")
    for index, block in enumerate(template.get("body", [])):
        widths = (block.get("table") or {}).get("widths") or []
        if sum(widths) > 170:
            problems.append(
                f"body[{index}].table.widths: {sum(widths):g} mm, more than the 170 mm of a line"
            )
    for where, text in _strings(template):
        bare = PLACEHOLDER.sub("", text)
        if "{" in bare or "}" in bare:
            problems.append(f"{where}: a brace that is not a placeholder {{path|filter}}")
        for match in PLACEHOLDER.finditer(text):
            path, filters = match.group(1), [f for f in match.group(2).split("|") if f]
            problem, kind = _path_problem(path, form_schema)
            if problem:
                problems.append(f"{where}: {problem}")
                continue
            for name in filters:
                if name not in FILTERS:
                    known = ", ".join(sorted(FILTERS))
                    problems.append(f"{where}: unknown filter {name!r} ({known})")
                elif name in _DATE_FILTERS and kind != "date":
                    problems.append(f"{where}: {name} applies to dates; {path} is not one")
                elif name in _NUMBER_FILTERS and kind != "integer":
                    problems.append(f"{where}: {name} applies to whole numbers; {path} is not one")
    for index, block in enumerate(template.get("body", [])):
        if "if" in block:
            problem, _kind = _path_problem(block["if"], form_schema)
            if problem:
                problems.append(f"body[{index}].if: {problem}")
        table = block.get("table")
        if table:
            size = len(table["columns"])
            if len(table["widths"]) != size:
                problems.append(f"body[{index}].table.widths: one width per column ({size})")
            if any(len(row) != size for row in table["rows"]):
                problems.append(f"body[{index}].table.rows: each row has {size} cells")
    return problems


@dataclass
class ResultValues:
    """What a template is laid out from: the dossier's e-form and its schema, and the
    values the platform knows (KNOWN, nested by their dots)."""

    form: Mapping[str, Any]
    schema: Mapping[str, Any]
    known: dict[str, Any] = field(default_factory=dict)

    def lookup(self, path: str) -> tuple[Any, Mapping[str, Any]]:
        """The value at `path` and its schema (empty for the platform's own)."""
        parts = path.split(".")
        if parts[0] == "form":
            value: Any = self.form
            for part in parts[1:]:
                value = value.get(part) if isinstance(value, Mapping) else None
            return value, _schema_node(self.schema, parts[1:]) or {}
        value = self.known
        for part in parts:
            value = value.get(part) if isinstance(value, Mapping) else None
        if path in AS_WRITTEN:
            return value, {"x-as-written": True}
        return value, ({"format": "date"} if KNOWN.get(path) == "date" else {})

    def given(self, path: str) -> bool:
        value, _prop = self.lookup(path)
        return value not in (None, "", [], {})


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def display(prop: Mapping[str, Any], value: Any) -> str:
    """A value in words, as a paper writes it (in Vietnamese, whatever the language of the
    request): the e-form's words (catalog.eform.value_in_words: an enum's title, never its
    code; yes/no; dd/mm/yyyy), numbers with Vietnamese separators; a year or a register's
    serial as written."""
    if value in (None, ""):
        return ""
    if prop.get("x-as-written"):
        return str(value)
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, int | float) and not isinstance(value, bool) and "enum" not in prop:
        return grouped(value)
    with translation.override("vi"):
        return value_in_words(prop, value)


def _apply(value: Any, prop: Mapping[str, Any], filters: list[str]) -> str:
    if value in (None, ""):
        return ""
    text: str | None = None
    for name in filters:
        if name == "value":
            text = str(value)
        elif name == "date":
            day = _as_date(value)
            text = f"{day:%d/%m/%Y}" if day else ""
        elif name == "date_words":
            day = _as_date(value)
            text = date_words(day) if day else ""
        elif name == "words":
            text = number_words(int(value))
        elif name == "money":
            text = vnd(int(value))
        elif name == "money_words":
            text = money_words(int(value))
        elif name == "upper":
            text = (text if text is not None else display(prop, value)).upper()
        elif name == "lower":
            text = (text if text is not None else display(prop, value)).lower()
    return text if text is not None else display(prop, value)


def fill(text: str, values: ResultValues) -> str:
    """`text` with each placeholder replaced by its value in words."""

    def one(match: re.Match[str]) -> str:
        value, prop = values.lookup(match.group(1))
        return _apply(value, prop, [f for f in match.group(2).split("|") if f])

    return PLACEHOLDER.sub(one, text)


def register_number(template: Mapping[str, Any], serial: int, year: int) -> str:
    """The number as the register writes it: at least two digits (Decree 30/2020)."""
    register = template.get("register") or DEFAULT_TEMPLATE["register"]
    notation = str(register["notation"])
    return notation.replace("{number}", f"{serial:02d}").replace("{year}", str(year))


def register_code(template: Mapping[str, Any]) -> str:
    return str((template.get("register") or DEFAULT_TEMPLATE["register"])["code"])


def signer_role(template: Mapping[str, Any], title: str) -> str:
    """The lines above the signer's name: the template's ("TM. ỦY BAN NHÂN DÂN"), then, for
    a deputy signing for the body or the head, "KT." and the head's title (Decree 30/2020:
    a deputy signs for the head), then the signer's own title. Under a personal role
    ("Người ký trích lục") the signer's title alone."""
    lines = list((template.get("signer") or {}).get("lines", []))
    title = title.strip() or "Người có thẩm quyền"
    for_body = not lines or lines[-1].upper().startswith("TM.")
    if for_body and title.lower().startswith("phó "):
        head = title[4:]
        lines.append(f"KT. {head[0].upper()}{head[1:]}")
    lines.append(title)
    return "\n".join(lines)


@dataclass(frozen=True)
class Heading:
    """The issuing body's heading of the paper."""

    superior: str
    agency: str
    place: str


def result_layout(
    template: Mapping[str, Any],
    values: ResultValues,
    *,
    heading: Heading,
    number: str,
    signed_at: Any,
    verify_url: str = "",
    banner: str = "",
) -> OfficialDocument:
    """The result paper laid out from `template` and `values`, with a slot for the leader's
    personal signature ("personal") and one for the agency's seal ("seal"). A declaration
    the template cannot hold (a value too long for its table's cell) is laid out by the
    default template rather than left unissued; the log says so."""
    try:
        return _layout(template, values, heading, number, signed_at, verify_url, banner)
    except (FPDFException, ValueError) as exc:
        if template is DEFAULT_TEMPLATE:
            raise
        logger.warning("result template could not lay out this dossier (%s): the default", exc)
        return _layout(DEFAULT_TEMPLATE, values, heading, number, signed_at, verify_url, banner)


def _layout(
    template: Mapping[str, Any],
    values: ResultValues,
    heading: Heading,
    number: str,
    signed_at: Any,
    verify_url: str,
    banner: str,
) -> OfficialDocument:
    book = (template.get("register") or {}).get("book", "")
    title = fill(template["title"], values).strip() or DEFAULT_TEMPLATE["title"]
    doc = OfficialDocument(
        superior=heading.superior, agency=heading.agency, number=number,
        place=heading.place or "…", date=signed_at, title=title,
        subtitle=fill(template.get("subtitle", ""), values), verification_url=verify_url,
        number_note=fill(book, values),
        banner=banner,
    )  # fmt: skip
    for block in template["body"]:
        if "if" in block and not values.given(block["if"]):
            continue
        if "text" in block:
            text = fill(block["text"], values)
            if text.strip():
                doc.paragraph(text, bold=bool(block.get("bold")))
        elif "heading" in block:
            doc.paragraph(fill(block["heading"], values), bold=True)
        elif "field" in block:
            doc.field(fill(block["field"], values), fill(block["value"], values))
        elif "table" in block:
            table = block["table"]
            doc.table(
                [fill(c, values) for c in table["columns"]],
                [[fill(cell, values) for cell in row] for row in table["rows"]],
                list(table["widths"]),
            )
        elif block.get("declaration"):
            rows = [
                [("   " * row.depth) + row.label, row.value]
                for row in form_summary(values.schema, values.form, words=display)
            ]
            if rows:
                doc.table(["Nội dung", "Thông tin"], rows, [65, 105])
    signer = values.known.get("signer") or {}
    doc.signatures(
        [SignatureBlock("", "", slot="seal"),
         SignatureBlock(signer_role(template, signer.get("title", "")), signer.get("name", ""),
                        slot="personal")]
    )  # fmt: skip
    if template.get("footer"):
        doc.footer_note(fill(template["footer"], values))
    return doc


def _sample_person() -> dict[str, Any]:
    """The first demo citizen, as the population registry gives a profile."""
    from tinhso.accounts.demo import DEMO_CITIZENS

    personal_id, full_name, born, phone, address = DEMO_CITIZENS[0]
    return {"full_name": full_name, "personal_id": personal_id, "date_of_birth": born,
            "sex": "male", "permanent_address": address, "phone": phone}  # fmt: skip


def result_preview(procedure: Any) -> bytes:
    """The procedure's result paper laid out from a sample dossier (catalog.eform's
    form_sample), unsigned and marked as a preview, for the catalogue editor: no number
    is taken from its register."""
    from django.utils import timezone

    from tinhso.core.context_processors import province_place

    template = procedure.result_template or DEFAULT_TEMPLATE
    person = _sample_person()
    now = timezone.localtime()
    agency = procedure.implementing_agency
    agency_name = agency.name if agency else procedure.deciding_body
    number = register_number(template, 1, now.year)
    values = ResultValues(
        form=form_sample(procedure.form_schema or {}, person),
        schema=procedure.form_schema or {},
        known={
            "number": number, "serial": 1, "year": now.year, "signed_on": now.date(),
            "note": "", "dossier": {"code": "000.00.00.H56-000000-0001",
                                    "received_on": now.date()},
            "procedure": {"name": procedure.name},
            "agency": {"name": agency_name, "place": province_place()},
            "applicant": {"full_name": person["full_name"],
                          "personal_id": person["personal_id"],
                          "date_of_birth": person["date_of_birth"],
                          "address": person["permanent_address"]},
            "signer": {"name": "Nguyễn Văn A", "title": "Phó Chủ tịch"},
        },
    )  # fmt: skip
    doc = result_layout(
        template, values,
        heading=Heading(superior="", agency=agency_name, place=province_place()),
        number=number, signed_at=now,
        banner="BẢN XEM TRƯỚC TỪ HỒ SƠ MẪU – KHÔNG CÓ GIÁ TRỊ PHÁP LÝ",
    )  # fmt: skip
    return doc.output()
