"""Traceability stamps (PostgreSQL only): scans resolved per second with 1,000,000 issued
stamps (loaded with COPY), next to the raw SQL look-up of the serial in the same run.

* the stamp page, GET /01/{gtin}/10/{lot}/21/{serial}: each request is a scan (the stamp's
  count, a Scan row, the batch's tally, the signal checks, the per-client rate count);
* the stamp's linkset (RFC 9264, `Accept: application/linkset+json`): no scan recorded;
* the baseline: the serial looked up with its batch and product in one query.

Each is timed over BENCH_SCANS requests (2,000) with random serials of the table, one
process (Django's test client), each request from another client address (many buyers,
one scan each); then through gunicorn with CLIENTS clients for SECONDS, next to the same
SQL from CLIENTS threads. The scan rate limit is lifted for the run; the scans the bench
made are deleted at the end and the stamps it scanned set back to never scanned."""

from __future__ import annotations

import http.client
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.common import Row, free_port, sample_percent, throughput

TARGET = int(os.environ.get("BENCH_STAMPS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_SCANS", "2000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
PER_BATCH = 500_000  # a producer's largest order (Producer.order_limit)
SAMPLE = 20_000  # serials drawn for the requests: none is scanned near the signal limit
NO_LIMIT = 10**9  # TINHSO_SCAN_RATE for the run
OWNER = "038090000001"  # a demo citizen, the producer's manager
PRODUCT = "Nem chua Hạc Thành (tem thử tải)"
LINKSET = "application/linkset+json"
PAGE = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# What the resolver needs of a stamp, in one query: the stamp, its batch and its product.
LOOKUP_SQL = (
    "SELECT s.id, s.number, s.scans, s.first_scan_at, b.id, b.lot, b.expires_on, b.quantity, "
    "p.id, p.gtin, p.name FROM products_stamp s JOIN products_batch b ON b.id = s.batch_id "
    "JOIN products_product p ON p.id = b.product_id WHERE s.serial = %s"
)


def _product() -> Any:
    """The bench's product, through the services the first time: the demo citizen's
    producer (registered as a household if the demo gave them none)."""
    from tinhso.accounts.models import User
    from tinhso.agencies.models import Agency, AgencyLevel
    from tinhso.products.models import Producer, Product
    from tinhso.products.services import producer_register, product_save

    found = Product.objects.filter(name=PRODUCT).select_related("producer").first()
    if found is not None:
        return found
    owner = User.objects.get(username=OWNER)
    producer = Producer.objects.filter(owner=owner).first() or producer_register(
        owner=owner, kind="household", name="", phone=owner.phone,
        commune=Agency.objects.get(level=AgencyLevel.COMMUNE, admin_unit_name="Phường Hạc Thành"),
    )  # fmt: skip
    return product_save(
        producer=producer, actor=owner, name=PRODUCT, group="food",
        description="Nem chua gói lá chuối (lô thử tải của tem truy xuất).",
        links=[("Shopee", "https://shopee.vn/"), ("Sàn TMĐT", "https://thanhhoa.ocop.vn/")],
    )  # fmt: skip


def _issue(product: Any) -> list[int]:
    """Bring the product's stamps to TARGET, PER_BATCH per batch (lots BENCH01, BENCH02…),
    with COPY: random 16-character serials as the platform draws them. The batches' ids."""
    from django.db import connection
    from django.utils import timezone

    from tinhso.products.gs1 import serial_new
    from tinhso.products.models import Batch, BatchState, Stamp

    today = timezone.localdate()
    batches = []
    for index in range((TARGET + PER_BATCH - 1) // PER_BATCH):
        quantity = min(PER_BATCH, TARGET - index * PER_BATCH)
        lot = f"BENCH{index + 1:02d}"
        batch, _created = Batch.objects.get_or_create(
            product=product, lot=lot,
            defaults={
                "code": f"TEMBENCH-{index + 1:02d}", "producer": product.producer,
                "produced_on": today - timedelta(days=10), "expires_on": today.replace(
                    year=today.year + 2, day=min(today.day, 28)),
                "place": "Phường Hạc Thành", "quantity": quantity, "issued": quantity,
                "state": BatchState.ISSUED, "ordered_by": product.producer.owner,
                "issued_at": timezone.now(),
            },
        )  # fmt: skip
        batches.append(batch.pk)
        have = Stamp.objects.filter(batch=batch).count()
        if have >= quantity:
            continue
        with connection.cursor() as cursor, cursor.connection.cursor() as raw:
            columns = "batch_id, serial, number, scans"
            with raw.copy(f"COPY products_stamp ({columns}) FROM STDIN") as copy:
                for number in range(have + 1, quantity + 1):
                    copy.write_row((batch.pk, serial_new(), number, 0))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_stamp")
    return batches


def _timed(fn: Callable[[], object], n: int) -> tuple[float, float, float]:
    """Calls per second, median and 95th percentile in ms over `n` calls, after a warm-up."""
    for _ in range(min(20, n)):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    rate = n / (sum(samples) / 1000)
    samples.sort()
    return rate, statistics.median(samples), samples[max(0, int(n * 0.95) - 1)]


def _address(rng: random.Random) -> str:
    """A loopback address of its own for each request: the rate count is per client."""
    return f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _http_rates(paths: list[str]) -> tuple[float, float, Counter[int]]:
    """Stamp pages and linksets per second through gunicorn, CLIENTS clients, SECONDS each;
    how many requests answered something else than 200, per status."""
    from bench.dossiers import _server

    port = free_port()
    previous = os.environ.get("TINHSO_SCAN_RATE")
    os.environ["TINHSO_SCAN_RATE"] = str(NO_LIMIT)
    try:
        server = _server(port)
    finally:
        if previous is None:
            del os.environ["TINHSO_SCAN_RATE"]
        else:
            os.environ["TINHSO_SCAN_RATE"] = previous
    rngs = [random.Random(100 + i) for i in range(CLIENTS)]  # noqa: S311 (test data)
    failed: Counter[int] = Counter()
    lock = threading.Lock()

    def get(index: int, accept: str) -> None:
        rng = rngs[index]
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=30, source_address=(_address(rng), 0)
        )
        try:
            conn.request("GET", rng.choice(paths), headers={"Accept": accept})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                with lock:
                    failed[response.status] += 1
        finally:
            conn.close()

    try:
        page = throughput(lambda i: get(i, PAGE), CLIENTS, SECONDS)[0]
        linkset = throughput(lambda i: get(i, LINKSET), CLIENTS, SECONDS)[0]
    finally:
        server.terminate()
        server.wait(timeout=10)
    return page, linkset, failed


def _sql_rate(serials: list[str]) -> float:
    """The look-up from CLIENTS threads, each on its own database connection."""
    from django.db import connection, connections

    rngs = [random.Random(200 + i) for i in range(CLIENTS)]  # noqa: S311 (test data)

    def lookup(index: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(LOOKUP_SQL, [rngs[index].choice(serials)])
            assert cursor.fetchone() is not None

    try:
        return throughput(lookup, CLIENTS, SECONDS)[0]
    finally:
        connections.close_all()


def _clean_up(product_id: int, batches: list[int], serials: list[str], since: int) -> int:
    """Delete the scans the bench made and set its stamps back to never scanned."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM products_scan WHERE product_id = %s AND id > %s", [product_id, since]
        )
        deleted = cursor.rowcount
        cursor.execute(
            "UPDATE products_stamp SET scans = 0, first_scan_at = NULL, last_scan_at = NULL "
            "WHERE serial = ANY(%s) AND scans > 0",
            [serials],
        )
        cursor.execute("DELETE FROM products_batchtally WHERE batch_id = ANY(%s)", [batches])
    return deleted


def run() -> list[Row]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max
    from django.test import Client, override_settings

    from tinhso.products.models import Scan, Signal

    if connection.vendor != "postgresql":
        print("stamp benchmarks skipped: they need PostgreSQL (set DATABASE_URL)")
        return []
    # The stamp page is HTML: with DEBUG off its static files' manifest must exist.
    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    started = time.perf_counter()
    product = _product()
    batches = _issue(product)
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.serial, b.lot FROM products_stamp s TABLESAMPLE SYSTEM (%s) "
            "JOIN products_batch b ON b.id = s.batch_id WHERE b.id = ANY(%s) "
            "ORDER BY random() LIMIT %s",
            [sample_percent(SAMPLE, TARGET), batches, SAMPLE],
        )
        sample = cursor.fetchall()
    total = sum(product.batches.values_list("quantity", flat=True))
    print(
        f"\nstamps of the bench's product: {total:,} in {len(batches)} batches "
        f"(ready in {loaded:.0f} s); {len(sample):,} serials drawn for the requests; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    serials = [serial for serial, _lot in sample]
    paths = [f"/01/{product.gtin}/10/{lot}/21/{serial}" for serial, lot in sample]
    signals_before = Signal.objects.filter(product=product).count()
    since = Scan.objects.aggregate(n=Max("id"))["n"] or 0
    rng = random.Random(21)  # noqa: S311 (test data)
    client = Client()

    def page() -> None:
        response = client.get(rng.choice(paths), HTTP_ACCEPT=PAGE, REMOTE_ADDR=_address(rng))
        assert response.status_code == 200, response.status_code

    def linkset() -> None:
        response = client.get(rng.choice(paths), HTTP_ACCEPT=LINKSET, REMOTE_ADDR=_address(rng))
        assert response.status_code == 200, response.status_code

    def lookup() -> None:
        with connection.cursor() as cursor:
            cursor.execute(LOOKUP_SQL, [rng.choice(serials)])
            assert cursor.fetchone() is not None

    try:
        with override_settings(TINHSO_SCAN_RATE=NO_LIMIT):
            page_rate, page_median, page_p95 = _timed(page, REQUESTS)
            linkset_rate, linkset_median, linkset_p95 = _timed(linkset, REQUESTS)
            sql_rate, sql_median, sql_p95 = _timed(lookup, REQUESTS)
        http_page, http_linkset, failed = _http_rates(paths)
        http_sql = _sql_rate(serials)
    finally:
        raised = Signal.objects.filter(product=product).count() - signals_before
        deleted = _clean_up(product.pk, batches, serials, since)
    k = f"{total // 1000:,}k"
    rows = [
        Row(f"stamp page (a scan), {k} stamps", page_median, page_p95, sql_median, sql_p95),
        Row(f"stamp linkset JSON, {k} stamps", linkset_median, linkset_p95, sql_median, sql_p95),
    ]
    print(
        f"stamp resolver, {REQUESTS:,} requests each with random serials, one process "
        f"(test client), per second:\n"
        f"  stamp page (records a scan) {page_rate:8.0f}/s | the serial's SQL look-up "
        f"{sql_rate:8.0f}/s | {sql_rate / page_rate:5.1f}x\n"
        f"  linkset JSON (no scan)      {linkset_rate:8.0f}/s | the serial's SQL look-up "
        f"{sql_rate:8.0f}/s | {sql_rate / linkset_rate:5.1f}x\n"
        f"through gunicorn (2 workers × 4 threads), {CLIENTS} clients, {SECONDS} s each:\n"
        f"  stamp page (records a scan) {http_page:8.0f}/s | same SQL from {CLIENTS} threads "
        f"{http_sql:8.0f}/s | {http_sql / http_page:5.1f}x\n"
        f"  linkset JSON (no scan)      {http_linkset:8.0f}/s | same SQL from {CLIENTS} threads "
        f"{http_sql:8.0f}/s | {http_sql / http_linkset:5.1f}x"
    )
    if failed:
        statuses = ", ".join(f"{n} × {status}" for status, n in sorted(failed.items()))
        print(f"  requests through gunicorn that did not answer 200: {statuses}")
    print(
        f"  the {deleted:,} scans the bench made were deleted and the stamps set back; "
        f"signals raised: {raised}"
    )
    return rows
