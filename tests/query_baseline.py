"""Query-count baselines (as NetBox keeps them): the number of database queries of each main
page and API list, checked in per module as tests/query_counts/<module>.json, so that an
N+1 (or any new query) fails the suite instead of slowing the province down later.

`query_count_check(module, name, request)` makes the request twice and counts the queries of
the second (the first warms the per-process caches, so the count does not depend on which
tests ran before), then compares with the baseline. A change, up or down, fails with both
numbers and the statements that repeat. After a change you meant, refresh the baselines with

    TINHSO_QUERY_COUNTS=update make pytest PYTEST_WORKERS=0 PYTEST_ARGS=tests/test_query_counts.py

and commit the JSON with the change, so the review sees the new counts. SQLite and
PostgreSQL run the same queries for every page measured here: one baseline serves both.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

BASELINES = Path(__file__).parent / "query_counts"
UPDATE = os.environ.get("TINHSO_QUERY_COUNTS", "") == "update"
REFRESH = (
    "TINHSO_QUERY_COUNTS=update make pytest PYTEST_WORKERS=0 PYTEST_ARGS=tests/test_query_counts.py"
)


def _baseline(module: str) -> dict[str, int]:
    path = BASELINES / f"{module}.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


_REFRESHED: set[str] = set()


def _record(module: str, name: str, count: int) -> None:
    # A module's first measurement in this run starts its file afresh, so that names no
    # longer measured leave it (each module's pages are measured by one test).
    counts = {**(_baseline(module) if module in _REFRESHED else {}), name: count}
    _REFRESHED.add(module)
    BASELINES.mkdir(exist_ok=True)
    text = json.dumps(dict(sorted(counts.items())), ensure_ascii=False, indent=2) + "\n"
    (BASELINES / f"{module}.json").write_text(text, "utf-8")


def _shape(sql: str) -> str:
    # Values folded, the column list elided: what is left tells one statement from another.
    folded = re.sub(r"'[^']*'|\b\d+\b", "?", sql)
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", folded)[:300]


def _repeated(queries: list[dict[str, Any]]) -> str:
    """The statements run more than once: where an N+1 shows."""
    shapes = Counter(_shape(q["sql"]) for q in queries if q.get("sql"))
    lines = [f"  {n}× {sql}" for sql, n in shapes.most_common() if n > 1]
    return "\n".join(lines) or "  (none: every statement ran once)"


def query_count_check(module: str, name: str, request: Callable[[], Any]) -> None:
    """Fail unless the second `request()` runs exactly the baseline's number of queries (a
    response must be a 200: an error page would be measured instead of the page)."""
    for attempt in ("warm", "measure"):
        with CaptureQueriesContext(connection) as captured:
            response = request()
        status = getattr(response, "status_code", 200)
        assert status == 200, f"{module}: {name!r} answered {status}, not the page"
        if attempt == "warm":
            continue
        count = len(captured.captured_queries)
        if UPDATE:
            # Each process starts a module's file afresh: several would drop each other's.
            worker = os.environ.get("PYTEST_XDIST_WORKER")
            assert not worker, f"refresh in one process:\n  {REFRESH}"
            _record(module, name, count)
            return
        expected = _baseline(module).get(name)
        assert expected is not None, (
            f"{module}: {name!r} has no baseline in tests/query_counts/{module}.json "
            f"(it ran {count} queries). Record it with:\n  {REFRESH}"
        )
        assert count == expected, (
            f"{module}: {name!r} ran {count} queries; the baseline "
            f"(tests/query_counts/{module}.json) says {expected}. An N+1? Statements that "
            f"repeat:\n{_repeated(captured.captured_queries)}\n"
            f"If the change is meant, refresh the baselines and commit them:\n  {REFRESH}"
        )
