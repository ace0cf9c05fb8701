"""Citizens' reports (PostgreSQL only for the map at scale): reports submitted per second,
each with a phone's photo (checked and kept in the request), next to cleaning that photo
(what the worker does after commit) in the same run; and the public map's query (the most
recent 500 visible reports of the province, and of one ward, with what their dots show)
over 1,000,000 reports loaded with COPY, next to the raw SQL of the same rows."""

from __future__ import annotations

import io
import os
import random
import time
import uuid
from decimal import Decimal

from bench.common import Row, measure

TARGET = int(os.environ.get("BENCH_REPORTS", "1000000"))


def _photo() -> bytes:
    from PIL import Image

    rng = random.Random(17)  # noqa: S311 (reproducible test data)
    image = Image.new("RGB", (2400, 1800))
    image.putdata([(rng.randint(0, 255), 90, 60) for _ in range(2400 * 1800)])
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _load(point_boxes: list[tuple[int, float, float, float, float]]) -> None:
    """Bring the reports to TARGET rows with COPY: the demo categories, the communes'
    boxes, two years of dates, every status."""
    from django.db import connection

    from tinhso.feedback.models import Category, Report

    have = Report.objects.count()
    if have >= TARGET:
        return
    rng = random.Random(311)  # noqa: S311 (reproducible test data)
    categories = list(Category.objects.values_list("id", flat=True))
    now = time.time()
    columns = (
        "public_id, code, category_id, status, description, public_description, hidden, "
        "latitude, longitude, address, commune_id, agency_id, answers, reporter_name, "
        "contact_phone, contact_email, show_name, channel, device_id, answer, rating_comment, "
        "submitted_at, updated_at, version, state, due_at"
    )
    states = [(1, "new"), (2, "accepted"), (3, "in_progress"), (4, "answered"), (5, "closed"),
              (5, "closed"), (6, "rejected"), (7, "duplicate")]  # fmt: skip
    with connection.cursor() as cursor, cursor.connection.cursor() as raw:
        with raw.copy(f"COPY feedback_report ({columns}) FROM STDIN") as copy:
            for n in range(have, TARGET):
                agency, min_lat, max_lat, min_lng, max_lng = point_boxes[n % len(point_boxes)]
                status, state = states[n % len(states)]
                submitted = now - rng.random() * 730 * 86400
                stamp = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(submitted))
                text = f"Phản ánh thử số {n}"
                copy.write_row((
                    str(uuid.uuid4()), f"PB-{agency}-{n:07d}", rng.choice(categories), status,
                    text, text, n % 97 == 0, f"{rng.uniform(min_lat, max_lat):.6f}",
                    f"{rng.uniform(min_lng, max_lng):.6f}", "", agency, agency, "{}", "", "", "",
                    False, "web", "", "", "", stamp, stamp, 1, state, stamp,
                ))  # fmt: skip
        raw.execute("ANALYZE feedback_report")


def run() -> list[Row]:
    from django.conf import settings
    from django.db import connection, transaction

    from tinhso.agencies.boundaries import boundaries_load_bundled
    from tinhso.agencies.models import Agency, Boundary
    from tinhso.core.demo import DemoRun
    from tinhso.core.photos import photo_clean
    from tinhso.feedback.demo import demo_categories_step
    from tinhso.feedback.maps import MAP_REPORTS, dots_of, report_map
    from tinhso.feedback.models import Category
    from tinhso.feedback.services import ReportDraft, report_submit
    from tinhso.feedback.views import _public

    # A bench database seeded before the module existed: its boundaries and categories.
    if not Boundary.objects.exists():
        boundaries_load_bundled(settings.TINHSO_PROVINCE_CODE)
    if not Category.objects.exists():
        demo_categories_step(DemoRun(dossiers=False))
    photo = _photo()
    hac_thanh = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    n = 0

    def submit() -> None:
        nonlocal n
        n += 1
        from tinhso.feedback.services import Photo

        report_submit(ReportDraft(
            category_code="o-ga", description=f"Ổ gà số {n}", latitude=Decimal("19.807"),
            longitude=Decimal("105.7765"), answers={"muc_do": "vua"}, contact_phone="0912345678",
            photos=[Photo("anh.jpg", photo)],
        ))  # fmt: skip

    def clean() -> None:
        photo_clean(photo, name="anh.jpg")

    rows = [
        Row(
            f"report with a {len(photo) // 1024} KB photo, request (vs its cleaning)",
            *measure(submit, 30),
            *measure(clean, 30),
        )
    ]
    print(
        f"\nreports submitted with a {len(photo) // 1024} KB, 2400×1800 photo, one process: "
        f"{1000 / rows[0].median:.1f}/s in the request (the photo checked and kept); the "
        f"worker cleans {1000 / rows[0].base_median:.1f} such photos/s after commit"
    )
    if connection.vendor != "postgresql":
        return rows
    boxes = [
        (b.agency_id, b.min_lat, b.max_lat, b.min_lng, b.max_lng)
        for b in Boundary.objects.filter(agency__level="commune")
    ]
    started = time.perf_counter()
    with transaction.atomic():
        _load(boxes)
    print(f"reports in the database: {TARGET:,} (loaded in {time.perf_counter() - started:.0f} s)")

    def province_map() -> None:
        report_map(dots_of(_public().order_by("-submitted_at", "-id")[:MAP_REPORTS]))

    def ward_map() -> None:
        found = _public().filter(commune=hac_thanh).order_by("-submitted_at", "-id")
        report_map(dots_of(found[:MAP_REPORTS]), hac_thanh)

    sql = (
        "SELECT r.code, r.status, r.latitude, r.longitude, c.name FROM feedback_report r "
        "JOIN feedback_category c ON c.id = r.category_id WHERE NOT r.hidden {where} "
        "ORDER BY r.submitted_at DESC, r.id DESC LIMIT %s"
    )

    def province_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(where=""), [MAP_REPORTS])
            cursor.fetchall()

    def ward_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(where="AND r.commune_id = %s"), [hac_thanh.pk, MAP_REPORTS])
            cursor.fetchall()

    province_map()  # the outline, simplified once per process
    ward_map()
    rows.append(Row(f"map: province, {MAP_REPORTS} newest of {TARGET // 1000}k reports",
                    *measure(province_map, 50), *measure(province_sql, 50)))  # fmt: skip
    rows.append(Row(f"map: a ward, {MAP_REPORTS} newest", *measure(ward_map, 50),
                    *measure(ward_sql, 50)))  # fmt: skip
    return rows
