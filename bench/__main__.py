"""`make bench`: print a table of latencies, each next to its same-run baseline.

Without DATABASE_URL it uses a throw-away SQLite database in a temporary folder (never
var/); with DATABASE_URL it uses that database, migrating and seeding it if empty.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["TINHSO_DATA_DIR"] = tempfile.mkdtemp(prefix="tinhso-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from tinhso.core.demo import demo_is_empty, demo_seed

    if demo_is_empty():
        demo_seed()


def _measure(fn: Callable[[], object]) -> tuple[float, float]:
    for _ in range(min(20, ROUNDS)):
        fn()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    _setup()
    from django.db import connection
    from django.test import Client

    client = Client()
    cases = [
        ("agencies: search 'hac thanh'", {"q": "hac thanh"}, ["%hac%", "%thanh%"], None),
        ("agencies: level=commune page 1", {"level": "commune"}, [], "commune"),
    ]
    rows = []
    for label, params, likes, level in cases:
        api = _measure(lambda params=params: client.get("/api/v1/agencies", params).json())
        where = ["is_active = %s"] + ["search_text LIKE %s"] * len(likes)
        args: list[object] = [True, *likes]
        if level:
            where.append("level = %s")
            args.append(level)
        clause = " AND ".join(where)

        def raw(clause: str = clause, args: list[object] = args) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM agencies_agency WHERE {clause}", args)  # noqa: S608
                cursor.fetchone()
                cursor.execute(
                    f"SELECT * FROM agencies_agency WHERE {clause} ORDER BY path LIMIT 50",  # noqa: S608
                    args,
                )
                cursor.fetchall()

        base = _measure(raw)
        rows.append((label, api, base))

    print(f"\nTỉnh Số benchmarks on {connection.vendor}, {ROUNDS} rounds each (ms)\n")
    print(
        f"{'case':34} {'median':>8} {'p95':>8} | {'raw SQL median':>14} {'p95':>8} | {'ratio':>6}"
    )
    print("-" * 90)
    for label, (med, p95), (bmed, bp95) in rows:
        print(f"{label:34} {med:8.2f} {p95:8.2f} | {bmed:14.3f} {bp95:8.3f} | {med / bmed:6.1f}x")
    print("\nratio = API median ÷ raw SQL median: the cost of HTTP handling, ORM and JSON.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
