"""Open data with 5,000 datasets and a 1,000,000-row tabular resource: the resource's load
through the background task (peak extra memory, rows per second) next to a bare COPY of the
same file; `package_search`, `package_show` and `datastore_search` through the CKAN Action
API (Django's request handling, validation, JSON) next to the raw SQL that answers the same
question; and requests per second through gunicorn with several clients next to the same
SQL from the same number of threads."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import os
import random
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Row, free_port, measure, throughput

DATASETS = int(os.environ.get("BENCH_DATASETS", "5000"))
TABLE_ROWS = int(os.environ.get("BENCH_TABLE_ROWS", "1000000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
BIG = "bench-mot-trieu-dong"
LOADED = "bench-nap-mot-trieu-dong"  # loaded each run, to measure the load
BEFORE = "; before ADR 0028: +855 MB, 15.5×, in the request"  # issue 15, 1,000,000 rows
WORDS = [
    "dân số", "trường học", "bệnh viện", "giao thông", "ngân sách", "du lịch", "nông nghiệp",
    "môi trường", "doanh nghiệp", "việc làm", "xây dựng", "hộ tịch", "OCOP", "rừng", "chợ",
]  # fmt: skip
QUERIES = ["dan so", "truong hoc", "ngan sach xa", "du lich", "benh vien"]


def _grow_datasets() -> None:
    """Bring the portal to DATASETS public datasets: realistic variants of the demo ones
    (other years, other communes), with their folded search text, fields, tags and a link
    resource each, written through the ORM in bulk."""
    from tinhso.opendata.models import Dataset, Resource, Tag, Theme
    from tinhso.opendata.services import search_words

    existing = Dataset.objects.filter(private=False).count()
    if existing >= DATASETS:
        return
    rng = random.Random(38)  # noqa: S311 (reproducible test data)
    templates = list(Dataset.objects.filter(generator="").select_related("publisher__agency"))
    themes = list(Theme.objects.all())
    tags = list(Tag.objects.all())
    communes = [
        "Hạc Thành", "Hoằng Hóa", "Nga Sơn", "Sầm Sơn", "Tĩnh Gia", "Quảng Xương", "Thọ Xuân",
        "Bỉm Sơn", "Ngọc Lặc", "Mường Lát", "Thạch Thành", "Hậu Lộc", "Nông Cống", "Yên Định",
    ]  # fmt: skip
    new: list[Dataset] = []
    for n in range(DATASETS - existing):
        base = rng.choice(templates)
        title = f"{base.title} – {rng.choice(communes)} {2010 + n % 16} ({n + 1})"
        notes = f"{base.notes} {rng.choice(WORDS)} {rng.choice(WORDS)}."
        new.append(
            Dataset(
                id=uuid.uuid4(), name=f"bench-{n:05d}", title=title, notes=notes,
                publisher=base.publisher, license_id=base.license_id, frequency=base.frequency,
                spatial=base.spatial, private=False,
                search_title=search_words(title),
                search_text=search_words(f"{title} {notes} {base.publisher.agency.name}"),
            )
        )  # fmt: skip
    Dataset.objects.bulk_create(new, batch_size=1000)
    theme_links = [
        Dataset.themes.through(dataset_id=d.pk, theme_id=rng.choice(themes).pk) for d in new
    ]
    Dataset.themes.through.objects.bulk_create(theme_links, batch_size=2000)
    tag_links = [
        Dataset.tags.through(dataset_id=d.pk, tag_id=t.pk) for d in new for t in rng.sample(tags, 2)
    ]
    Dataset.tags.through.objects.bulk_create(tag_links, batch_size=2000)
    Resource.objects.bulk_create(
        [
            Resource(
                dataset=d, name="Trang nguồn", url=f"https://thanhhoa.gov.vn/du-lieu/{d.name}",
                format="HTML",
            )
            for d in new
        ],
        batch_size=2000,
    )  # fmt: skip


def _csv_file(path: Path) -> int:
    """Write the TABLE_ROWS-row CSV file (about 55 MB for a million rows) a row at a time;
    returns its size."""
    from tinhso.agencies.models import Agency

    communes = list(
        Agency.objects.filter(level="commune", kind="peoples_committee").values_list(
            "admin_unit_code", "admin_unit_name"
        )
    )
    rng = random.Random(1)  # noqa: S311
    kinds = ["Khai sinh", "Kết hôn", "Chứng thực", "Đất đai", "Xây dựng", "Kinh doanh"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["Mã ĐVHC", "Xã, phường", "Ngày", "Loại hồ sơ", "Số hồ sơ", "Tỷ lệ đúng hạn"]
        )
        for n in range(TABLE_ROWS):
            code, name = communes[n % len(communes)]
            writer.writerow(
                [code, name, f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}", rng.choice(kinds),
                 rng.randint(0, 400), f"{rng.uniform(80, 100):.2f}"]
            )  # fmt: skip
    return path.stat().st_size


def _rss() -> int:
    """This process's resident memory (bytes), from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class _PeakRss:
    """The highest resident memory while the block runs, sampled every 10 ms."""

    def __enter__(self) -> _PeakRss:
        self.peak = self.start = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


@dataclass
class LoadFigures:
    rows: int
    size: int
    task_seconds: float
    task_extra_rss: int
    copy_seconds: float
    copy_index_seconds: float


def _baseline_copy(path: Path, fields: list[dict[str, str]]) -> tuple[float, float]:
    """The same file into a table of the same types with no platform in between: COPY …
    FROM STDIN (FORMAT csv) fed in 64 KB chunks through psycopg on PostgreSQL, csv.reader
    and executemany on SQLite; then the same indexes. Returns (load, load + indexes)."""
    from django.db import connection

    from tinhso.opendata.datastore import _sql_type

    columns = [f"c{i}" for i in range(len(fields))]
    types = ", ".join(f"{c} {_sql_type(f['type'])}" for c, f in zip(columns, fields, strict=True))
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        cursor.execute(f"CREATE TABLE bench_copy_baseline ({types})")
        started = time.monotonic()
        with path.open("rb") as source:
            if connection.vendor == "postgresql":
                sql = f"COPY bench_copy_baseline ({names}) FROM STDIN (FORMAT csv, HEADER true)"
                with cursor.cursor.copy(sql) as copy:
                    while chunk := source.read(65536):
                        copy.write(chunk)
            else:
                text = io.TextIOWrapper(source, encoding="utf-8", newline="")
                reader = csv.reader(text)
                next(reader)
                marks = ", ".join(["%s"] * len(columns))
                insert = f"INSERT INTO bench_copy_baseline ({names}) VALUES ({marks})"
                while batch := list(itertools.islice(reader, 10_000)):
                    cursor.executemany(insert, batch)
        loaded = time.monotonic() - started
        for column in columns:
            cursor.execute(
                f"CREATE INDEX bench_copy_baseline_{column} ON bench_copy_baseline ({column})"
            )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE bench_copy_baseline")
        indexed = time.monotonic() - started
        cursor.execute("DROP TABLE bench_copy_baseline")
    return loaded, indexed


def _load_measured() -> tuple[str, LoadFigures]:
    """A TABLE_ROWS-row CSV file made on the fly, uploaded through the services (stored,
    the load task enqueued in the same transaction), then the task run as the worker runs
    it, with this process's resident memory sampled throughout; and the same file through
    a bare COPY in the same run. Returns the loaded resource's id and the figures."""
    from django_tasks_db.models import DBTaskResult

    from tinhso.agencies.models import Agency
    from tinhso.opendata.formats import ResourceFile
    from tinhso.opendata.loading import datastore_load_run
    from tinhso.opendata.models import Dataset, DatastoreTable, Resource
    from tinhso.opendata.services import (
        ResourceInput,
        dataset_create,
        publisher_for,
        resource_create,
    )

    Dataset.objects.filter(name=LOADED).delete()
    province = Agency.objects.filter(parent__isnull=True).first()
    assert province is not None
    with tempfile.TemporaryDirectory(prefix="tinhso-bench-") as folder:
        path = Path(folder) / "bang.csv"
        size = _csv_file(path)
        dataset = dataset_create(
            actor=None,
            publisher=publisher_for(province),
            data={
                "name": LOADED,
                "title": "Hồ sơ theo xã và ngày (1 triệu dòng)",
                "private": False,
            },
        )
        # The upload as a request makes it (the file whole in memory, as Django hands it).
        content = path.read_bytes()
        resource = resource_create(
            actor=None,
            dataset=dataset,
            data=ResourceInput(name="Bảng", file=ResourceFile("bang.csv", content, "CSV")),
        )
        del content
        resource = Resource.objects.get(pk=resource.pk)
        assert resource.load_status == "pending", resource.load_status
        # The worker's part: run the queued task (its row is then taken out of the queue).
        gc.collect()
        started = time.monotonic()
        with _PeakRss() as memory:
            outcome = datastore_load_run.call(str(resource.pk), resource.stored_file)
        task_seconds = time.monotonic() - started
        assert outcome == "done", outcome
        DBTaskResult.objects.filter(task_path=datastore_load_run.module_path).delete()
        table = DatastoreTable.objects.get(resource=resource)
        assert table.row_count == TABLE_ROWS, table.row_count
        copy_seconds, copy_index_seconds = _baseline_copy(path, table.fields)
    return str(resource.pk), LoadFigures(
        rows=TABLE_ROWS,
        size=size,
        task_seconds=task_seconds,
        task_extra_rss=memory.peak - memory.start,
        copy_seconds=copy_seconds,
        copy_index_seconds=copy_index_seconds,
    )


def _load_report(figures: LoadFigures) -> None:
    mb = figures.size / 1e6
    task, copy, indexed = figures.task_seconds, figures.copy_seconds, figures.copy_index_seconds
    extra = figures.task_extra_rss
    print(
        f"\ndatastore load of a {figures.rows:,}-row CSV ({mb:.0f} MB), through the task:\n"
        f"  peak extra RSS {extra / 1e6:6.1f} MB ({extra / figures.size:.2f}× the file"
        f"{BEFORE if figures.rows == 1_000_000 else ''})\n"
        f"  task              {task:6.1f} s {figures.rows / task:9,.0f} rows/s "
        f"{mb / task:5.1f} MB/s (parse, types, full text, COPY, indexes)\n"
        f"  bare COPY         {copy:6.1f} s {figures.rows / copy:9,.0f} rows/s "
        f"{mb / copy:5.1f} MB/s\n"
        f"  bare COPY+indexes {indexed:6.1f} s {figures.rows / indexed:9,.0f} rows/s "
        f"{mb / indexed:5.1f} MB/s; the task takes {task / indexed:.1f}× as long"
    )


def _big_table() -> tuple[str, str, list[dict[str, str]], LoadFigures]:
    """The 1,000,000-row resource: loaded (and measured) through the task path each run;
    the first run's table is kept for the searches below."""
    from tinhso.opendata.models import Dataset, DatastoreTable

    rid, figures = _load_measured()
    found = DatastoreTable.objects.filter(resource__dataset__name=BIG).first()
    if found is not None and found.row_count == TABLE_ROWS:
        Dataset.objects.filter(name=LOADED).delete()  # its table goes with it
        return str(found.resource_id), found.table, found.fields, figures
    Dataset.objects.filter(name=BIG).delete()
    Dataset.objects.filter(name=LOADED).update(name=BIG)
    table = DatastoreTable.objects.get(resource_id=rid)
    return rid, table.table, table.fields, figures


def _sql(query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


def _search_sql(words: list[str]) -> str:
    clause = " AND ".join(["search_text LIKE %s"] * len(words))
    return (
        "SELECT id, name, title FROM opendata_dataset "
        f"WHERE private = false AND {clause} ORDER BY metadata_modified DESC LIMIT 10"
    )


def _count_sql(words: list[str]) -> str:
    clause = " AND ".join(["search_text LIKE %s"] * len(words))
    return f"SELECT COUNT(*) FROM opendata_dataset WHERE private = false AND {clause}"


SHOW_SQL = [
    "SELECT d.*, p.name, a.name, a.code FROM opendata_dataset d "
    "JOIN opendata_publisher p ON p.id = d.publisher_id "
    "JOIN agencies_agency a ON a.id = p.agency_id WHERE d.name = %s",
    "SELECT r.* FROM opendata_resource r JOIN opendata_dataset d ON d.id = r.dataset_id "
    "WHERE d.name = %s ORDER BY r.position",
    "SELECT t.name FROM opendata_tag t JOIN opendata_dataset_tags x ON x.tag_id = t.id "
    "JOIN opendata_dataset d ON d.id = x.dataset_id WHERE d.name = %s",
    "SELECT t.name, t.title FROM opendata_theme t "
    "JOIN opendata_dataset_themes x ON x.theme_id = t.id "
    "JOIN opendata_dataset d ON d.id = x.dataset_id WHERE d.name = %s",
]


def _throughput(fn: Callable[[int], None]) -> float:
    """Calls per second of `fn` from CLIENTS threads for SECONDS."""
    return throughput(fn, CLIENTS, SECONDS)[0]


def _http_rates(names: list[str]) -> tuple[float, float]:
    from bench.dossiers import _server

    port = free_port()
    server = _server(port)
    base = f"http://127.0.0.1:{port}/api/3/action/"
    rngs = [random.Random(i) for i in range(CLIENTS)]  # noqa: S311

    def get(url: str) -> None:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
            json.load(response)

    try:
        search = _throughput(
            lambda i: get(
                base + "package_search?" + urllib.parse.urlencode({"q": rngs[i].choice(QUERIES)})
            )
        )
        show = _throughput(lambda i: get(base + "package_show?id=" + rngs[i].choice(names)))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return search, show


def _sql_rates(names: list[str]) -> tuple[float, float]:
    """The same questions from CLIENTS threads, each on its own database connection."""
    from django.db import connections

    rngs = [random.Random(i) for i in range(CLIENTS)]  # noqa: S311

    def search(i: int) -> None:
        words = rngs[i].choice(QUERIES).split()
        params = [f"% {w} %" for w in words]
        _sql(_search_sql(words), params)
        _sql(_count_sql(words), params)

    def show(i: int) -> None:
        name = rngs[i].choice(names)
        for query in SHOW_SQL:
            _sql(query, [name])

    try:
        return _throughput(search), _throughput(show)
    finally:
        connections.close_all()


def run() -> list[Row]:
    from django.db import connection
    from django.test import Client

    from tinhso.opendata.models import Dataset

    started = time.monotonic()
    _grow_datasets()
    rid, table, fields, load = _big_table()
    _load_report(load)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE opendata_dataset")
    total = Dataset.objects.filter(private=False).count()
    print(f"public datasets: {total:,}; set-up {time.monotonic() - started:.0f} s")
    client = Client()
    rng = random.Random(5)  # noqa: S311
    names = list(Dataset.objects.filter(private=False).values_list("name", flat=True))
    index = [0]

    def search() -> None:
        q = QUERIES[index[0] % len(QUERIES)]
        index[0] += 1
        assert client.get("/api/3/action/package_search", {"q": q}).status_code == 200

    def search_sql() -> None:
        words = QUERIES[index[0] % len(QUERIES)].split()
        index[0] += 1
        params = [f"% {w} %" for w in words]
        _sql(_search_sql(words), params)
        _sql(_count_sql(words), params)

    facet_fields = json.dumps(["organization", "groups", "res_format"])

    def facets() -> None:
        response = client.get("/api/3/action/package_search", {"facet.field": facet_fields})
        assert response.status_code == 200

    def facets_sql() -> None:
        _sql(
            "SELECT id FROM opendata_dataset WHERE private = false "
            "ORDER BY metadata_modified DESC LIMIT 10",
            [],
        )
        _sql("SELECT COUNT(*) FROM opendata_dataset WHERE private = false", [])
        _sql(
            "SELECT publisher_id, COUNT(*) FROM opendata_dataset WHERE private = false "
            "GROUP BY publisher_id",
            [],
        )
        _sql(
            "SELECT x.theme_id, COUNT(*) FROM opendata_dataset_themes x "
            "JOIN opendata_dataset d ON d.id = x.dataset_id WHERE d.private = false "
            "GROUP BY x.theme_id",
            [],
        )
        _sql(
            "SELECT r.format, COUNT(DISTINCT r.dataset_id) FROM opendata_resource r "
            "JOIN opendata_dataset d ON d.id = r.dataset_id WHERE d.private = false "
            "GROUP BY r.format",
            [],
        )

    def show() -> None:
        name = rng.choice(names)
        assert client.get("/api/3/action/package_show", {"id": name}).status_code == 200

    def show_sql() -> None:
        name = rng.choice(names)
        for query in SHOW_SQL:
            _sql(query, [name])

    code_field = fields[0]["id"]
    codes = [r[0] for r in _sql(f'SELECT DISTINCT c0 FROM "{table}" LIMIT 200', [])]
    columns = ", ".join(["_id", *[f"c{i}" for i in range(len(fields))]])

    def filtered() -> None:
        response = client.get(
            "/api/3/action/datastore_search",
            {"resource_id": rid, "filters": json.dumps({code_field: rng.choice(codes)})},
        )
        assert response.status_code == 200

    def filtered_sql() -> None:
        code = rng.choice(codes)
        _sql(
            f'SELECT {columns} FROM "{table}" WHERE c0 = %s ORDER BY _id LIMIT 100',
            [code],
        )
        _sql(f'SELECT COUNT(*) FROM "{table}" WHERE c0 = %s', [code])

    def paged() -> None:
        offset = rng.randrange(0, TABLE_ROWS - 100)
        response = client.get(
            "/api/3/action/datastore_search", {"resource_id": rid, "offset": offset}
        )
        assert response.status_code == 200

    def paged_sql() -> None:
        offset = rng.randrange(0, TABLE_ROWS - 100)
        _sql(
            f'SELECT {columns} FROM "{table}" ORDER BY _id LIMIT 100 OFFSET %s',
            [offset],
        )

    def text() -> None:
        response = client.get(
            "/api/3/action/datastore_search",
            {"resource_id": rid, "q": "hoang ket hon", "limit": 10},
        )
        assert response.status_code == 200

    def text_sql() -> None:
        where = "_full_text LIKE %s AND _full_text LIKE %s AND _full_text LIKE %s"
        params = ["%hoang%", "%ket%", "%hon%"]
        _sql(
            f'SELECT {columns} FROM "{table}" WHERE {where} ORDER BY _id LIMIT 10',
            params,
        )
        _sql(f'SELECT COUNT(*) FROM "{table}" WHERE {where}', params)

    rows = [
        Row(f"package_search q= over {total:,} datasets", *measure(search), *measure(search_sql)),
        Row("package_search, 3 facets, no q", *measure(facets, 100), *measure(facets_sql, 100)),
        Row("package_show by name", *measure(show), *measure(show_sql)),
        Row(
            f"datastore_search filter, {TABLE_ROWS:,} rows",
            *measure(filtered),
            *measure(filtered_sql),
        ),
        Row("datastore_search page at random offset", *measure(paged), *measure(paged_sql)),
        Row("datastore_search q= (3 words, full scan)", *measure(text, 10), *measure(text_sql, 10)),
    ]
    if connection.vendor == "postgresql":
        http_search, http_show = _http_rates(names)
        sql_search, sql_show = _sql_rates(names)
        print(
            f"\nthroughput, {CLIENTS} clients, {SECONDS} s each (gunicorn 2 workers × 4 threads):\n"
            f"  package_search over HTTP {http_search:8.0f} req/s | same SQL from {CLIENTS} "
            f"threads {sql_search:8.0f} q/s\n"
            f"  package_show   over HTTP {http_show:8.0f} req/s | same SQL from {CLIENTS} "
            f"threads {sql_show:8.0f} q/s"
        )
    return rows
