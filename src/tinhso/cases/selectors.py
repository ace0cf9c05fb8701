"""Reads of the cases module: a stored workflow's graph."""

from __future__ import annotations

from typing import Any

from tinhso.cases.graph import Graph
from tinhso.cases.models import Workflow
from tinhso.cases.workflow import workflow_parse

_GRAPHS: dict[tuple[str, str], Graph] = {}


def workflow_graph(code: str, *, fallback: dict[str, Any] | None = None) -> Graph:
    """The parsed workflow `code` (cached until the workflow is edited); `fallback` when no
    such workflow is stored (the subject's built-in one)."""
    row = Workflow.objects.filter(code=code).values_list("definition", "updated_at").first()
    if row is None:
        if fallback is None:
            raise LookupError(f"No workflow {code!r}.")
        key = (code, "built-in")
        if key not in _GRAPHS:
            _GRAPHS[key] = workflow_parse(fallback)
        return _GRAPHS[key]
    definition, updated = row
    key = (code, str(updated))
    if key not in _GRAPHS:
        _GRAPHS[key] = workflow_parse(definition)
    return _GRAPHS[key]


def workflow_graphs(subject: str) -> dict[str, Graph]:
    """Every stored workflow of `subject`, parsed (one query; graphs cached per edit)."""
    graphs = {}
    rows = Workflow.objects.filter(subject=subject).values_list("code", "definition", "updated_at")
    for code, definition, updated in rows:
        key = (code, str(updated))
        if key not in _GRAPHS:
            _GRAPHS[key] = workflow_parse(definition)
        graphs[code] = _GRAPHS[key]
    return graphs
