"""The workflow rows one web request has read (cases.selectors): kept from Django's
`request_started` to `request_finished`, cleared when a workflow is saved; none outside a
request (tasks, commands and tests read the rows each time)."""

from __future__ import annotations

from typing import Any

from asgiref.local import Local

_REQUEST = Local()


def workflow_memo_start(**kwargs: Any) -> None:
    """A request begins: its workflow reads are remembered until it ends."""
    _REQUEST.graphs = {}


def workflow_memo_end(**kwargs: Any) -> None:
    """The request ended, or a workflow was saved: read the rows again."""
    _REQUEST.graphs = None


def memo() -> dict[Any, Any] | None:
    """The request's remembered reads, or None outside a request."""
    graphs: dict[Any, Any] | None = getattr(_REQUEST, "graphs", None)
    return graphs
