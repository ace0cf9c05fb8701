"""Agency directory API latency next to the raw SQL for the same filter."""

from __future__ import annotations

from bench.common import Row, measure


def run() -> list[Row]:
    from django.db import connection
    from django.test import Client

    client = Client()
    cases = [
        ("agencies: search 'hac thanh'", {"q": "hac thanh"}, ["%hac%", "%thanh%"], None),
        ("agencies: level=commune page 1", {"level": "commune"}, [], "commune"),
    ]
    rows = []
    for label, params, likes, level in cases:
        api = measure(lambda params=params: client.get("/api/v1/agencies", params).json())
        where = ["is_active = %s"] + ["search_text LIKE %s"] * len(likes)
        args: list[object] = [True, *likes]
        if level:
            where.append("level = %s")
            args.append(level)
        clause = " AND ".join(where)

        def raw(clause: str = clause, args: list[object] = args) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM agencies_agency WHERE {clause}", args)
                cursor.fetchone()
                cursor.execute(
                    f"SELECT * FROM agencies_agency WHERE {clause} ORDER BY path LIMIT 50",
                    args,
                )
                cursor.fetchall()

        rows.append(Row(label, *api, *measure(raw)))
    return rows
