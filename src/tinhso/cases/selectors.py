"""Reads of the cases module: a stored workflow's graph.

Parsed graphs are kept per process, keyed by the row's `updated_at` (an edit on any server
is seen at the next read). Within one web request the row itself is read once: a request
reads the workflow of its case several times (the action, the actions offered, the page
after it), and the memo lives only until the request ends (`workflow_memo_start` /
`workflow_memo_end` in cases.memo, on Django's request signals; saving a workflow clears
it)."""

from __future__ import annotations

from typing import Any

from tinhso.cases.graph import Graph
from tinhso.cases.memo import memo as _memo
from tinhso.cases.models import Workflow
from tinhso.cases.workflow import workflow_parse

_GRAPHS: dict[tuple[str, str], Graph] = {}


def workflow_graph(code: str, *, fallback: dict[str, Any] | None = None) -> Graph:
    """The parsed workflow `code` (cached until the workflow is edited); `fallback` when no
    such workflow is stored (the subject's built-in one)."""
    memo = _memo()
    if memo is not None and code in memo:
        graph: Graph = memo[code]
        return graph
    graph = _workflow_graph(code, fallback=fallback)
    if memo is not None:
        memo[code] = graph
    return graph


def _workflow_graph(code: str, *, fallback: dict[str, Any] | None) -> Graph:
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
    memo = _memo()
    if memo is not None and ("*", subject) in memo:
        known: dict[str, Graph] = memo[("*", subject)]
        return dict(known)
    graphs = {}
    rows = Workflow.objects.filter(subject=subject).values_list("code", "definition", "updated_at")
    for code, definition, updated in rows:
        key = (code, str(updated))
        if key not in _GRAPHS:
            _GRAPHS[key] = workflow_parse(definition)
        graphs[code] = _GRAPHS[key]
    if memo is not None:
        memo[("*", subject)] = dict(graphs)
    return graphs
