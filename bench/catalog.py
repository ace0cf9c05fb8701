"""Catalogue search over 2,000 procedures: the API (diacritic folding, relevance ranking,
pagination, JSON) next to the raw SQL LIKE query that finds the same candidates."""

from __future__ import annotations

import random

from bench.common import Row, measure

TARGET = 2000
QUERIES = [
    "dang ky khai sinh",
    "Chứng thực bản sao",
    "giay phep xay dung",
    "đất đai",
    "ho kinh doanh",
]


def _grow_catalogue() -> None:
    """Bring the catalogue to 2,000 procedures by adding realistic variants of the demo
    ones (other agencies' versions, amendments, re-issues), through the ORM."""
    from tinhso.catalog.models import Procedure
    from tinhso.core.text import fold

    existing = Procedure.objects.count()
    if existing >= TARGET:
        return
    rng = random.Random(38)  # noqa: S311 (reproducible test data, not security)
    templates = list(Procedure.objects.select_related("field"))
    variants = ["Cấp lại", "Cấp đổi", "Điều chỉnh", "Gia hạn", "Thu hồi", "Đính chính", "Xác nhận"]
    new = []
    for n in range(TARGET - existing):
        base = rng.choice(templates)
        name = f"{rng.choice(variants)} {base.name[0].lower()}{base.name[1:]} (trường hợp {n + 1})"
        new.append(
            Procedure(
                code=f"BENCH.{n:05d}", name=name, field=base.field, level=base.level,
                implementing_agency=base.implementing_agency, deciding_body=base.deciding_body,
                time_days=base.time_days, fees=base.fees, form_schema=base.form_schema,
                online_level=base.online_level, result_methods=base.result_methods,
                search_text=fold(name) + " | " + fold(f"BENCH.{n:05d} {base.field.name}"),
            )
        )  # fmt: skip
    Procedure.objects.bulk_create(new, batch_size=500)


def run() -> list[Row]:
    from django.db import connection
    from django.test import Client

    from tinhso.catalog.models import Procedure
    from tinhso.core.text import fold

    _grow_catalogue()
    client = Client()
    index = [0]

    def api() -> None:
        q = QUERIES[index[0] % len(QUERIES)]
        index[0] += 1
        client.get("/api/v1/procedures", {"q": q}).json()

    def raw() -> None:
        words = fold(QUERIES[index[0] % len(QUERIES)]).split()
        index[0] += 1
        clause = " AND ".join(["search_text LIKE %s"] * len(words))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, code, name FROM catalog_procedure WHERE is_active = %s AND {clause}",
                [True, *[f"%{w}%" for w in words]],
            )
            cursor.fetchall()

    count = Procedure.objects.count()
    return [Row(f"procedures: search over {count} (5 queries)", *measure(api), *measure(raw))]
