"""E-forms: a procedure's JSON Schema (2020-12) rendered as an accessible HTML form,
prefilled from what the state already knows, and validated on the server.

UI hints in the schema: `title` (label), `description` (help), `x-order` (field order),
`x-enum-titles` (names of enum values), `x-prefill` (profile attribute), `x-widget`
(`textarea`). Nested objects become fieldsets; names are dotted paths (`me.ho_ten`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaValidationError

PREFILL_ATTRIBUTES = (
    "full_name",
    "personal_id",
    "date_of_birth",
    "sex",
    "permanent_address",
    "phone",
    "email",
)
# Attributes that say who the person is. A field prefilled from one of them is shown
# read-only and taken from the person's identity on the server, whatever the form posts
# (form_identity_apply). Contact details (phone, e-mail) are prefilled too, but the person
# may give others to be reached at.
IDENTITY_ATTRIBUTES = frozenset(
    {"full_name", "personal_id", "date_of_birth", "sex", "permanent_address"}
)
# A text field whose schema sets no maxLength still holds at most this many characters,
# and a whole declaration at most FORM_MAX_BYTES once encoded as JSON.
TEXT_MAX_LENGTH = 2000
FORM_MAX_BYTES = 64 * 1024


@dataclass
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, date, email, number, integer, select, radio, checkbox
    required: bool
    value: Any = ""
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    prefilled: bool = False
    locked: bool = False

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def is_fieldset(self) -> bool:
        return False


@dataclass
class FormFieldset:
    name: str
    label: str
    help: str
    children: list[FormField | FormFieldset]
    errors: list[str] = field(default_factory=list)

    @property
    def is_fieldset(self) -> bool:
        return True


def _ordered(schema: Mapping[str, Any]) -> list[str]:
    properties = list((schema.get("properties") or {}).keys())
    order = [name for name in schema.get("x-order", []) if name in properties]
    return order + [name for name in properties if name not in order]


def _widget(prop: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= 3 else "select"
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "email":
        return "email"
    if prop.get("x-widget") == "textarea":
        return "textarea"
    return "text"


def _lookup(values: Mapping[str, Any], path: list[str]) -> Any:
    current: Any = values
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def form_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    prefilled: set[str] | None = None,
    locked: set[str] | None = None,
    _path: list[str] | None = None,
) -> list[FormField | FormFieldset]:
    """The schema as a tree of fields and fieldsets with their values and errors;
    `prefilled` fields say they come from the registry, `locked` ones are read-only."""
    values, errors, prefilled, path = values or {}, errors or {}, prefilled or set(), _path or []
    locked = locked or set()
    required = set(schema.get("required", []))
    out: list[FormField | FormFieldset] = []
    for name in _ordered(schema):
        prop = schema["properties"][name]
        dotted = ".".join([*path, name])
        if prop.get("type") == "object":
            out.append(
                FormFieldset(
                    name=dotted,
                    label=prop.get("title", name),
                    help=prop.get("description", ""),
                    children=form_fields(prop, values, errors, prefilled, locked, [*path, name]),
                    errors=errors.get(dotted, []),
                )
            )
            continue
        value = _lookup(values, [*path, name])
        widget = _widget(prop)
        attrs: dict[str, Any] = {}
        if "maxLength" in prop:
            attrs["maxlength"] = prop["maxLength"]
        if "minimum" in prop:
            attrs["min"] = prop["minimum"]
        if "maximum" in prop:
            attrs["max"] = prop["maximum"]
        if widget == "number":
            attrs["step"] = "any"
        if "pattern" in prop:
            attrs["pattern"] = prop["pattern"].strip("^$")
        titles = prop.get("x-enum-titles") or []
        choices = [
            (str(v), str(titles[i]) if i < len(titles) else str(v))
            for i, v in enumerate(prop.get("enum", []))
        ]
        out.append(
            FormField(
                name=dotted,
                label=prop.get("title", name),
                widget=widget,
                required=name in required,
                value="" if value is None else value,
                help=prop.get("description", ""),
                choices=choices,
                errors=errors.get(dotted, []),
                attrs=attrs,
                prefilled=dotted in prefilled,
                locked=dotted in locked,
            )
        )
    return out


def form_prefill(
    schema: Mapping[str, Any], profile: Mapping[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """Initial values: `x-prefill` attributes from the citizen's registry profile, then
    schema defaults. Returns the values and the dotted names that came from the profile."""
    values: dict[str, Any] = {}
    filled: set[str] = set()

    def walk(node: Mapping[str, Any], target: dict[str, Any], path: list[str]) -> None:
        for name, prop in (node.get("properties") or {}).items():
            if prop.get("type") == "object":
                child: dict[str, Any] = {}
                walk(prop, child, [*path, name])
                if child:
                    target[name] = child
                continue
            source = prop.get("x-prefill")
            if source in PREFILL_ATTRIBUTES and profile.get(source) not in (None, ""):
                value = profile[source]
                target[name] = value.isoformat() if hasattr(value, "isoformat") else value
                filled.add(".".join([*path, name]))
            elif "default" in prop:
                target[name] = prop["default"]

    walk(schema, values, [])
    return values, filled


def _identity_fields(
    schema: Mapping[str, Any], profile: Mapping[str, Any]
) -> list[tuple[list[str], Any]]:
    """(path, value) of every field prefilled from an identity attribute the profile holds."""
    found: list[tuple[list[str], Any]] = []

    def walk(node: Mapping[str, Any], path: list[str]) -> None:
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, Mapping):
                continue
            if prop.get("type") == "object":
                walk(prop, [*path, name])
                continue
            source = prop.get("x-prefill")
            if source in IDENTITY_ATTRIBUTES and profile.get(source) not in (None, ""):
                value = profile[source]
                found.append(
                    ([*path, name], value.isoformat() if hasattr(value, "isoformat") else value)
                )

    walk(schema, [])
    return found


def form_locked(schema: Mapping[str, Any], profile: Mapping[str, Any]) -> set[str]:
    """Dotted names of the fields `form_identity_apply` sets (shown read-only)."""
    return {".".join(path) for path, _value in _identity_fields(schema, profile)}


def form_identity_apply(
    schema: Mapping[str, Any], data: Mapping[str, Any], profile: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of `data` in which every field prefilled from an identity attribute holds the
    person's identity as the server knows it (from the population registry or the identity
    provider), whatever was submitted: nobody files a dossier under another name or ID."""
    import copy

    result = copy.deepcopy(dict(data))
    for path, value in _identity_fields(schema, profile):
        target = result
        for part in path[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        target[path[-1]] = value
    return result


def form_undeclared(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    """Dotted names of the values in `data` that the schema does not declare."""
    extra: list[str] = []

    def walk(node: Mapping[str, Any], value: Mapping[str, Any], path: list[str]) -> None:
        properties = node.get("properties") or {}
        for name, item in value.items():
            prop = properties.get(name)
            if not isinstance(prop, Mapping):
                extra.append(".".join([*path, str(name)]))
            elif prop.get("type") == "object" and isinstance(item, Mapping):
                walk(prop, item, [*path, str(name)])

    walk(schema, data, [])
    return extra


def form_coerce(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values from submitted strings (`data` maps dotted names to strings). Empty
    fields are left out so `required` reports them; a value that does not convert is kept
    as text so the type check reports it."""

    def walk(node: Mapping[str, Any], path: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, prop in (node.get("properties") or {}).items():
            dotted = ".".join([*path, name])
            if prop.get("type") == "object":
                child = walk(prop, [*path, name])
                if child or name in node.get("required", []):
                    out[name] = child
                continue
            raw = data.get(dotted)
            if prop.get("type") == "boolean":
                out[name] = raw in ("on", "true", "1", True)
                continue
            if raw is None:
                continue
            text = str(raw).strip()
            if text == "":
                continue
            kind = prop.get("type")
            try:
                if kind == "integer":
                    out[name] = int(text)
                elif kind == "number":
                    number = float(text.replace(",", "."))
                    out[name] = int(number) if number.is_integer() else number
                else:
                    out[name] = text
            except ValueError:
                out[name] = text
        return out

    return walk(schema, [])


def _label(schema: Mapping[str, Any], path: list[str | int]) -> str:
    node: Any = schema
    for part in path:
        node = (node.get("properties") or {}).get(part, {}) if isinstance(node, Mapping) else {}
    return str(node.get("title", path[-1] if path else "")) if isinstance(node, Mapping) else ""


def _message(error: SchemaValidationError, label: str) -> str:
    v, value = error.validator, error.validator_value
    if v == "minLength":
        return _("%(label)s must have at least %(n)d characters.") % {"label": label, "n": value}
    if v == "maxLength":
        return _("%(label)s must have at most %(n)d characters.") % {"label": label, "n": value}
    if v == "pattern":
        return _("%(label)s is not in the expected format.") % {"label": label}
    if v == "enum":
        return _("Choose one of the listed values for %(label)s.") % {"label": label}
    if v == "type":
        if value == "integer":
            return _("%(label)s must be a whole number.") % {"label": label}
        if value == "number":
            return _("%(label)s must be a number.") % {"label": label}
        return _("%(label)s has the wrong kind of value.") % {"label": label}
    if v == "minimum":
        return _("%(label)s must be at least %(n)s.") % {"label": label, "n": value}
    if v == "maximum":
        return _("%(label)s must be at most %(n)s.") % {"label": label, "n": value}
    if v == "format" and value == "date":
        return _("%(label)s must be a valid date.") % {"label": label}
    if v == "format":
        return _("%(label)s is not in the expected format.") % {"label": label}
    return _("%(label)s is not valid.") % {"label": label}


def form_shape_errors(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """What no declaration may hold, complete or not (drafts too): values the form does not
    declare, and more than FORM_MAX_BYTES of it."""
    import json

    undeclared = form_undeclared(schema, data)
    if undeclared:
        return {
            "__all__": [
                _("These values are not part of this form: %(names)s.")
                % {"names": ", ".join(undeclared[:10])}
            ]
        }
    if len(json.dumps(data, ensure_ascii=False, default=str).encode()) > FORM_MAX_BYTES:
        return {
            "__all__": [
                _("The declaration is too long: at most %(kb)d KB of text.")
                % {"kb": FORM_MAX_BYTES // 1024}
            ]
        }
    return {}


def form_validate(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field-level messages (in the active language) keyed by dotted field name; empty when
    the data satisfies the schema."""
    errors = form_shape_errors(schema, data)
    if errors:
        return errors
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, Mapping) else {}
            for missing in error.validator_value:
                if missing not in present:
                    full = [*path, missing]
                    message = _("Please fill in %(label)s.") % {"label": _label(schema, full)}
                    # jsonschema reports one error per missing property, each listing all.
                    bucket = errors.setdefault(".".join(map(str, full)), [])
                    if message not in bucket:
                        bucket.append(message)
            continue
        dotted = ".".join(map(str, path)) or "__all__"
        errors.setdefault(dotted, []).append(_message(error, _label(schema, path)))
    for long in _long_texts(schema, data, []):
        if ".".join(long) not in errors:
            errors[".".join(long)] = [
                _("%(label)s must have at most %(n)d characters.")
                % {"label": _label(schema, list(long)), "n": TEXT_MAX_LENGTH}
            ]
    return errors


def _long_texts(
    schema: Mapping[str, Any], data: Mapping[str, Any], path: list[str]
) -> list[list[str]]:
    """Paths of text values longer than TEXT_MAX_LENGTH in fields whose schema sets no
    maxLength."""
    found: list[list[str]] = []
    properties = schema.get("properties") or {}
    for name, value in data.items():
        prop = properties.get(name)
        if not isinstance(prop, Mapping):
            continue
        if isinstance(value, Mapping):
            found += _long_texts(prop, value, [*path, name])
        elif isinstance(value, str) and "maxLength" not in prop and len(value) > TEXT_MAX_LENGTH:
            found.append([*path, name])
    return found


@dataclass(frozen=True)
class SummaryRow:
    """One line of a declaration's summary: a field's label and its value in words, or
    (with no value) the heading of a group of fields; `depth` is the group's nesting."""

    label: str
    value: str = ""
    depth: int = 0
    heading: bool = False


def value_in_words(prop: Mapping[str, Any], value: Any) -> str:
    """An answer as people read it: an enum's title, yes/no, dd/mm/yyyy, a list joined."""
    if "enum" in prop:
        titles = prop.get("x-enum-titles") or []
        for i, allowed in enumerate(prop.get("enum", [])):
            if allowed == value or str(allowed) == str(value):
                return str(titles[i]) if i < len(titles) else str(value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if prop.get("format") == "date" and isinstance(value, str):
        parts = value.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if isinstance(value, list):
        return ", ".join(value_in_words(prop.get("items") or {}, v) for v in value)
    return str(value)


def form_summary_sections(
    schema: Mapping[str, Any], data: Mapping[str, Any]
) -> list[tuple[str, list[SummaryRow]]]:
    """form_summary in sections: the answers outside any group, then each group's under its
    title (a group inside a group titled "Outer › Inner")."""
    sections: list[tuple[str, list[SummaryRow]]] = [("", [])]
    titles: list[str] = []
    for row in form_summary(schema, data):
        if row.heading:
            titles = [*titles[: row.depth], row.label]
            sections.append((" › ".join(titles), []))
        else:
            sections[-1][1].append(row)
    return [(title, rows) for title, rows in sections if rows]


def form_summary(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    words: Callable[[Mapping[str, Any], Any], str] = value_in_words,
) -> list[SummaryRow]:
    """The declaration as an official reads it: each answered field by the e-form's own
    title, in the form's order, values in words (`words`: enum titles, yes/no, dd/mm/yyyy),
    groups under their headings; answers the schema does not name come last under their
    keys."""
    rows: list[SummaryRow] = []

    def walk(node: Mapping[str, Any], values: Mapping[str, Any], depth: int) -> None:
        properties = node.get("properties") or {}
        for name in _ordered(node):
            prop = properties[name]
            value = values.get(name)
            if value is None or value == "" or value == []:
                continue
            label = str(prop.get("title", name))
            if prop.get("type") == "object" and isinstance(value, Mapping):
                rows.append(SummaryRow(label=label, depth=depth, heading=True))
                walk(prop, value, depth + 1)
            else:
                rows.append(SummaryRow(label=label, value=words(prop, value), depth=depth))
        for name, value in values.items():
            if name not in properties and value not in (None, "", []):
                rows.append(SummaryRow(label=str(name), value=str(value), depth=depth))

    walk(schema, data, 0)
    return rows


SAMPLE_NAMES = ("Lê Minh Khang", "Trần Thị Thu Hà", "Nguyễn Văn Bình", "Phạm Thị Mai")


def _sample_value(name: str, prop: Mapping[str, Any], profile: Mapping[str, Any], n: int) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "integer":
        return max(1, int(prop.get("minimum", 1)))
    if kind == "number":
        return float(max(1, prop.get("minimum", 1)) * 50)
    if prop.get("format") == "date":
        return "2026-01-15"
    if "pattern" in prop and "12" in prop["pattern"]:
        return profile["personal_id"]
    if "pattern" in prop:
        return profile.get("phone") or "0912000000"
    if name == "ho_ten":
        return SAMPLE_NAMES[n % len(SAMPLE_NAMES)]
    return f"{prop.get('title', name)} (trình diễn)"[: prop.get("maxLength", 200)]


def form_sample(schema: Mapping[str, Any], profile: Mapping[str, Any]) -> dict[str, Any]:
    """A declaration that satisfies `schema`: the registry's data where the form asks for
    it, plausible values for the other required fields (the demo's dossiers, a result
    template's preview)."""
    values, _filled = form_prefill(schema, profile)
    count = [0]

    def fill(node: Mapping[str, Any], target: dict[str, Any]) -> None:
        for name, prop in (node.get("properties") or {}).items():
            if prop.get("type") == "object":
                child = target.setdefault(name, {})
                fill(prop, child)
            elif name not in target and name in node.get("required", []):
                target[name] = _sample_value(name, prop, profile, count[0])
                count[0] += name == "ho_ten"

    fill(schema, values)
    return values
