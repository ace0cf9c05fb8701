"""Writes of the catalogue: import from a YAML/JSON file (validated as a whole first) and
export back to the same format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.catalog.models import (
    OnlineLevel,
    Procedure,
    ProcedureField,
    ProcedureLevel,
    RequiredPaper,
    ResultMethod,
    SearchSynonym,
)
from tinhso.catalog.results import result_template_problems
from tinhso.core.audit import audit_record
from tinhso.core.text import fold, search_form

# The shape of a catalogue file. Keys starting with "x-" at the top level are free (YAML
# anchors for shared form parts live there).
CATALOG_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["procedures"],
    "properties": {
        "workflows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "definition"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z0-9-_]{1,64}$"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 255},
                    "definition": {"type": "object"},
                },
                "additionalProperties": False,
            },
        },
        "synonyms": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["phrase", "means"],
                "properties": {
                    "phrase": {"type": "string", "minLength": 2, "maxLength": 100},
                    "means": {"type": "string", "minLength": 2, "maxLength": 200},
                },
                "additionalProperties": False,
            },
        },
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name"],
                "properties": {
                    "code": {"type": "string", "minLength": 1, "maxLength": 32},
                    "name": {"type": "string", "minLength": 1, "maxLength": 255},
                },
                "additionalProperties": False,
            },
        },
        "procedures": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "code",
                    "name",
                    "field",
                    "level",
                    "deciding_body",
                    "time_days",
                    "online_level",
                    "result_methods",
                ],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$"},
                    "name": {"type": "string", "minLength": 3, "maxLength": 500},
                    "field": {"type": "string", "minLength": 1},
                    "level": {"enum": ProcedureLevel.values},
                    "implementing_agency": {"type": ["string", "null"]},
                    "deciding_body": {"type": "string", "minLength": 1, "maxLength": 255},
                    "time_days": {"type": "number", "exclusiveMinimum": 0, "maximum": 365},
                    "time_note": {"type": "string", "maxLength": 255},
                    "fees": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "amount"],
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "amount": {"type": "integer", "minimum": 0},
                                "per": {"type": "string"},
                                "note": {"type": "string"},
                                # The e-form field that gives the number of copies/items.
                                "count_field": {"type": "string", "pattern": "^[a-z_]+$"},
                                "legal_basis": {"type": "string"},
                                "exemptions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["category", "percent", "legal_basis"],
                                        "properties": {
                                            "category": {
                                                "enum": [
                                                    "ho_ngheo",
                                                    "ho_can_ngheo",
                                                    "nguoi_co_cong",
                                                    "nguoi_khuyet_tat",
                                                    "tre_em",
                                                    "nguoi_cao_tuoi",
                                                ],
                                            },
                                            "percent": {
                                                "type": "integer",
                                                "minimum": 1,
                                                "maximum": 100,
                                            },
                                            "legal_basis": {"type": "string", "minLength": 1},
                                        },
                                        "additionalProperties": False,
                                    },
                                },
                            },
                            "additionalProperties": False,
                        },
                    },
                    "online_level": {"enum": OnlineLevel.values},
                    "result_methods": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": ResultMethod.values},
                    },
                    "result_name": {"type": "string", "maxLength": 255},
                    "legal_basis": {"type": "string"},
                    "workflow": {"type": "string", "minLength": 1, "maxLength": 64},
                    "papers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string", "minLength": 1, "maxLength": 500},
                                "originals": {"type": "integer", "minimum": 0, "maximum": 20},
                                "copies": {"type": "integer", "minimum": 0, "maximum": 20},
                                "required": {"type": "boolean"},
                                "paper_type": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
                                "eform": {"type": "boolean"},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "form": {"type": "object"},
                    "result": {"type": "object"},
                    "active": {"type": "boolean"},
                },
            },
        },
    },
    "patternProperties": {"^x-": {}},
    "additionalProperties": False,
}


class CatalogError(Exception):
    """The file cannot be imported; `problems` names each procedure and field at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    fields: int
    created: int
    updated: int


def catalog_load_file(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON catalogue file (by extension; YAML otherwise)."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CatalogError([f"{path.name}: not valid {path.suffix[1:] or 'YAML'}: {exc}"]) from exc
    if not isinstance(data, dict):
        raise CatalogError([f"{path.name}: the file must hold a mapping with 'procedures'"])
    return data


def _where(data: dict[str, Any], path: list[Any]) -> str:
    """'procedure 1.001193, field time_days' for an error at procedures/3/time_days."""
    if len(path) >= 2 and path[0] == "procedures" and isinstance(path[1], int):
        procedures = data.get("procedures") or []
        item = procedures[path[1]] if path[1] < len(procedures) else {}
        code = item.get("code") if isinstance(item, dict) else None
        label = f"procedure {code}" if code else f"procedure #{path[1] + 1}"
        rest = ".".join(str(p) for p in path[2:])
        return f"{label}, field {rest}" if rest else label
    return ".".join(str(p) for p in path) or "file"


def _agency_lookup() -> dict[str, Agency]:
    lookup: dict[str, Agency] = {}
    for agency in Agency.objects.filter(is_active=True):
        lookup[agency.code] = agency
        if agency.short_name and agency.level == "province":
            lookup.setdefault(agency.short_name, agency)
    return lookup


def catalog_validate(data: dict[str, Any]) -> list[str]:
    """Every problem in the file, each naming the procedure and field; empty when valid."""
    problems = [
        f"{_where(data, list(error.absolute_path))}: {error.message}"
        for error in sorted(
            Draft202012Validator(CATALOG_FILE_SCHEMA).iter_errors(data),
            key=lambda e: [str(p) for p in e.absolute_path],
        )
    ]
    if problems:
        return problems
    field_codes = {f["code"] for f in data.get("fields", [])} | set(
        ProcedureField.objects.values_list("code", flat=True)
    )
    from tinhso.cases.models import Workflow
    from tinhso.cases.workflow import workflow_parse

    # The catalogue's procedures follow dossier workflows; other modules' workflows (a
    # citizen's report's) are neither named by a procedure nor replaced by an import.
    workflow_codes = set(Workflow.objects.filter(subject="dossier").values_list("code", flat=True))
    others = set(Workflow.objects.exclude(subject="dossier").values_list("code", flat=True))
    for workflow in data.get("workflows", []):
        if workflow["code"] in others:
            problems.append(f"workflow {workflow['code']}: the workflow of another kind of case")
            continue
        workflow_codes.add(workflow["code"])
        try:
            workflow_parse(workflow["definition"], subject="dossier")
        except ValidationError as exc:
            problems += [f"workflow {workflow['code']}: {m}" for m in exc.messages]
    agencies = _agency_lookup()
    seen: set[str] = set()
    for procedure in data["procedures"]:
        code = procedure["code"]
        where = f"procedure {code}"
        if code in seen:
            problems.append(f"{where}: the code appears more than once")
        seen.add(code)
        if procedure["field"] not in field_codes:
            problems.append(f"{where}, field field: unknown field code {procedure['field']!r}")
        if procedure.get("workflow", "standard") not in workflow_codes:
            problems.append(f"{where}, field workflow: no workflow {procedure.get('workflow')!r}")
        agency = procedure.get("implementing_agency")
        if agency and agency not in agencies:
            problems.append(f"{where}, field implementing_agency: no agency {agency!r}")
        if procedure["level"] == "province" and not agency:
            problems.append(
                f"{where}, field implementing_agency: a province-level procedure needs one"
            )
        form = procedure.get("form")
        if form:
            try:
                Draft202012Validator.check_schema(form)
            except SchemaError as exc:
                path = ".".join(str(p) for p in exc.path)
                problems.append(f"{where}, field form{'.' + path if path else ''}: {exc.message}")
            if form.get("type") != "object":
                problems.append(f"{where}, field form: the e-form schema must be of type object")
        if procedure.get("result"):
            problems += [
                f"{where}, field result → {problem}"
                for problem in result_template_problems(procedure["result"], form or {})
            ]
    return problems


SEARCH_SEPARATOR = " | "


def _procedure_search_text(procedure: Procedure, field_name: str) -> str:
    # The folded name comes first so ranking can read it without folding again; the same
    # spelling as queries (core.text.search_form: ký and kí alike).
    return search_form(procedure.name) + SEARCH_SEPARATOR + fold(f"{procedure.code} {field_name}")


@transaction.atomic
def catalog_import(*, data: dict[str, Any], actor: User | None = None) -> ImportResult:
    """Validate the whole file, then write it in one transaction (nothing is written when
    any procedure is wrong). Procedures are matched by code; their papers are replaced."""
    problems = catalog_validate(data)
    if problems:
        raise CatalogError(problems)
    from tinhso.cases.models import Workflow

    for item in data.get("workflows", []):
        workflow, _created = Workflow.objects.update_or_create(
            code=item["code"], defaults={"name": item["name"], "definition": item["definition"]}
        )
        audit_record(
            actor=actor, action="workflow.imported", obj=workflow, data={"code": workflow.code}
        )
    for item in data.get("fields", []):
        ProcedureField.objects.update_or_create(code=item["code"], defaults={"name": item["name"]})
    for item in data.get("synonyms", []):
        SearchSynonym.objects.update_or_create(
            phrase=search_form(item["phrase"]), defaults={"means": search_form(item["means"])}
        )
    fields = {f.code: f for f in ProcedureField.objects.all()}
    agencies = _agency_lookup()
    created = updated = 0
    for item in data["procedures"]:
        field = fields[item["field"]]
        values = {
            "name": item["name"],
            "field": field,
            "level": item["level"],
            "implementing_agency": agencies.get(item.get("implementing_agency") or ""),
            "deciding_body": item["deciding_body"],
            "time_days": Decimal(str(item["time_days"])),
            "time_note": item.get("time_note", ""),
            "fees": item.get("fees", []),
            "form_schema": item.get("form") or {},
            "result_template": item.get("result") or {},
            "online_level": item["online_level"],
            "result_methods": item["result_methods"],
            "result_name": item.get("result_name", ""),
            "legal_basis": item.get("legal_basis", ""),
            "workflow": item.get("workflow", "standard"),
            "is_active": item.get("active", True),
        }
        procedure, was_created = Procedure.objects.update_or_create(
            code=item["code"], defaults=values
        )
        procedure.search_text = _procedure_search_text(procedure, field.name)
        procedure.save(update_fields=["search_text"])
        procedure.papers.all().delete()
        RequiredPaper.objects.bulk_create(
            RequiredPaper(
                procedure=procedure,
                position=position,
                name=paper["name"],
                originals=paper.get("originals", 1),
                copies=paper.get("copies", 0),
                required=paper.get("required", True),
                paper_type=paper.get("paper_type", ""),
                eform=paper.get("eform", False),
            )
            for position, paper in enumerate(item.get("papers", []))
        )
        created += was_created
        updated += not was_created
        audit_record(
            actor=actor,
            action="procedure.created" if was_created else "procedure.updated",
            obj=procedure,
            data={"code": procedure.code, "via": "import"},
        )
    return ImportResult(fields=len(data.get("fields", [])), created=created, updated=updated)


def procedure_refresh_search_text(procedure: Procedure) -> None:
    """Recompute the procedure's folded search text after an edit (the admin saves it)."""
    procedure.search_text = _procedure_search_text(procedure, procedure.field.name)
    procedure.save(update_fields=["search_text"])


def catalog_export() -> dict[str, Any]:
    """The whole catalogue in the import format."""
    procedures = []
    for p in Procedure.objects.select_related("field", "implementing_agency").prefetch_related(
        "papers"
    ):
        item: dict[str, Any] = {
            "code": p.code,
            "name": p.name,
            "field": p.field.code,
            "level": p.level,
            "implementing_agency": p.implementing_agency.code if p.implementing_agency else None,
            "deciding_body": p.deciding_body,
            "time_days": float(p.time_days) if p.time_days % 1 else int(p.time_days),
            "time_note": p.time_note,
            "fees": p.fees,
            "online_level": p.online_level,
            "result_methods": p.result_methods,
            "result_name": p.result_name,
            "legal_basis": p.legal_basis,
            "workflow": p.workflow,
            "active": p.is_active,
            "papers": [
                {
                    "name": paper.name,
                    "originals": paper.originals,
                    "copies": paper.copies,
                    "required": paper.required,
                    **({"paper_type": paper.paper_type} if paper.paper_type else {}),
                    **({"eform": True} if paper.eform else {}),
                }
                for paper in p.papers.all()
            ],
            "form": p.form_schema,
            **({"result": p.result_template} if p.result_template else {}),
        }
        procedures.append(item)
    from tinhso.cases.models import Workflow

    return {
        "workflows": [
            {"code": w.code, "name": w.name, "definition": w.definition}
            for w in Workflow.objects.filter(subject="dossier").order_by("code")
        ],
        "synonyms": [{"phrase": s.phrase, "means": s.means} for s in SearchSynonym.objects.all()],
        "fields": [{"code": f.code, "name": f.name} for f in ProcedureField.objects.all()],
        "procedures": procedures,
    }


def catalog_dump(data: dict[str, Any], fmt: str) -> str:
    """The exported catalogue as text: JSON, or YAML (the import format) otherwise."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


DEMO_CATALOG = Path(__file__).parent / "data" / "demo_catalog.yaml"


def catalog_demo_seed() -> ImportResult:
    """Import the demo province's 44 real procedures (data/demo_catalog.yaml)."""
    return catalog_import(data=catalog_load_file(DEMO_CATALOG))
