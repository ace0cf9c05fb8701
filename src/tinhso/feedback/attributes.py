"""A category's questions, as Open311 GeoReport v2 describes them (`attributes` of a
service definition): each has a `code`, a `datatype` (string, number, datetime, text,
singlevaluelist, multivaluelist), whether it is `required`, the question (`description`),
its `order`, and for lists the `values` ({key, name}). `variable: false` marks a line of
information that is not answered.

`attributes_problems` checks a category's definitions; `answers_clean` checks what a
reporter answered (the form's fields or Open311's `attribute[code]`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")

SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": 30,
    "items": {
        "type": "object",
        "required": ["code", "datatype", "description"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            "variable": {"type": "boolean"},
            "datatype": {"enum": list(DATATYPES)},
            "required": {"type": "boolean"},
            "description": {"type": "string", "minLength": 1, "maxLength": 500},
            "datatype_description": {"type": "string", "maxLength": 255},
            "order": {"type": "integer", "minimum": 0},
            "values": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "name"],
                    "additionalProperties": False,
                    "properties": {
                        "key": {"type": "string", "minLength": 1, "maxLength": 64},
                        "name": {"type": "string", "minLength": 1, "maxLength": 255},
                    },
                },
            },
        },
    },
}


def attributes_problems(attributes: object) -> list[str]:
    """What is wrong with a category's question list (empty: nothing)."""
    problems = [
        f"{'.'.join(str(p) for p in e.absolute_path) or 'attributes'}: {e.message}"
        for e in Draft202012Validator(SCHEMA).iter_errors(attributes)
    ]
    if problems or not isinstance(attributes, list):
        return problems
    codes = [a["code"] for a in attributes]
    if len(codes) != len(set(codes)):
        problems.append(_("Two questions have the same code."))
    for item in attributes:
        if item["datatype"] in LISTS and not item.get("values"):
            problems.append(
                _("Question %(c)s lists no values to choose from.") % {"c": item["code"]}
            )
    return problems


def questions(attributes: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The questions in their order (Open311's `order`, then as listed)."""
    indexed = list(enumerate(attributes))
    return [a for _i, a in sorted(indexed, key=lambda p: (p[1].get("order", 0), p[0]))]


def answers_clean(
    attributes: Sequence[Mapping[str, Any]], given: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers kept (by code) and the problems per code. `given[code]` is a string, or
    a list of strings for a multivaluelist (or one string: a single choice). Unknown codes
    are ignored, as Open311 clients send what they have."""
    kept: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for question in questions(attributes):
        if question.get("variable", True) is False:
            continue
        code, datatype = question["code"], question["datatype"]
        value = given.get(code)
        if isinstance(value, list) and datatype != "multivaluelist":
            value = value[0] if value else None
        if value is None or value == "" or value == []:
            if question.get("required"):
                problems[code] = _("Answer “%(q)s”.") % {"q": question["description"]}
            continue
        try:
            kept[code] = _value(question, value)
        except ValueError as exc:
            problems[code] = str(exc)
    return kept, problems


def _value(question: Mapping[str, Any], value: Any) -> Any:
    datatype = question["datatype"]
    label = question["description"]
    if datatype in ("string", "text"):
        text = str(value).strip()
        limit = 255 if datatype == "string" else 4000
        if len(text) > limit:
            raise ValueError(
                _("“%(q)s” may be at most %(n)d characters.") % {"q": label, "n": limit}
            )
        return text
    if datatype == "number":
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise ValueError(_("“%(q)s” takes a number.") % {"q": label})
        return str(number)
    if datatype == "datetime":
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(
                _("“%(q)s” takes a date and time (2026-11-30T08:00).") % {"q": label}
            ) from None
        return moment.isoformat()
    keys = {v["key"] for v in question.get("values", [])}
    chosen = value if isinstance(value, list) else [value]
    chosen = [str(c) for c in chosen]
    if not chosen or any(c not in keys for c in chosen):
        raise ValueError(_("Pick “%(q)s” from its list.") % {"q": label})
    if datatype == "singlevaluelist":
        return chosen[0]
    return sorted(set(chosen), key=chosen.index)


def answer_label(question: Mapping[str, Any], value: Any) -> str:
    """An answer in words (a list's names, not its keys)."""
    names = {v["key"]: v["name"] for v in question.get("values", [])}
    if isinstance(value, list):
        return ", ".join(str(names.get(v, v)) for v in value)
    return str(names.get(value, value))
