"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import base64
import io
import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))

# The raw SQL of an inbox's rows: the columns its page and the API's list show (code,
# procedure, applicant and masked ID, status, due time), joined as the page joins them.
# `{where}` is the box's condition on d.
INBOX_ROWS_SQL = (
    "SELECT d.id, d.code, d.status, d.state, d.due_at, d.paused_at, d.submitted_at, "
    "p.id, p.code, p.name, a.id, a.code, u.id, u.full_name, u.personal_id "
    "FROM dossiers_dossier d JOIN catalog_procedure p ON p.id = d.procedure_id "
    "LEFT JOIN agencies_agency a ON a.id = d.receiving_agency_id "
    "LEFT JOIN accounts_user u ON u.id = d.applicant_id WHERE {where} "
)


@dataclass(frozen=True)
class Row:
    label: str
    median: float
    p95: float
    base_median: float
    base_p95: float


def wsgi_get(path: str, query: str = "") -> tuple[int, bytes]:
    """GET `path` through Django's WSGI handler as gunicorn calls it: the request's start
    and end signals run (the kept connection is checked before the request uses it, and
    closed if it is too old), which Django's test client leaves out. Status and body."""
    from django.core.handlers.wsgi import WSGIHandler

    global _HANDLER
    if _HANDLER is None:
        _HANDLER = WSGIHandler()
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip
    response = _HANDLER(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        body = b"".join(response)
    finally:
        response.close()  # request_finished, as the server sends it
    return int(status[0][:3]), body


_HANDLER: Any = None


def free_port() -> int:
    """A port nothing listens on now, for a server the benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(fn: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds, after a warm-up."""
    for _ in range(min(20, rounds)):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def print_table(rows: list[Row]) -> None:
    print(
        f"{'case':44} {'median':>8} {'p95':>8} | {'baseline median':>15} {'p95':>8} | {'ratio':>6}"
    )
    print("-" * 100)
    for r in rows:
        ratio = r.median / r.base_median if r.base_median else float("nan")
        print(
            f"{r.label:44} {r.median:8.2f} {r.p95:8.2f} | {r.base_median:15.3f} "
            f"{r.base_p95:8.3f} | {ratio:6.1f}x"
        )
    print("\nratio = platform median ÷ baseline median (raw SQL answering the same question).")


def throughput(work: Callable[[int], object], clients: int, seconds: float) -> tuple[float, int]:
    """Units of `work` per second (and how many were done) from `clients` threads, each
    calling it with its own index for `seconds`."""
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < stop:
            work(index)
            done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(done)


def cpu_seconds(matches: Callable[[str], bool]) -> float | None:
    """CPU time (user + system, seconds) used so far by the processes whose command line
    `matches` (Linux /proc; None elsewhere). Exited processes are not counted: take it
    around a run whose processes live through it."""
    if not os.path.isdir("/proc/self"):
        return None
    ticks = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if matches(command):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def birth_submission() -> dict[str, Any]:
    """The body of a birth registration submitted through the API, with a real one-page PDF
    (uploads are parsed whole, ADR 0016): what the submission benchmarks send."""
    from tinhso.catalog.models import Procedure
    from tinhso.dossiers.demo import simple_pdf

    paper = Procedure.objects.get(code="1.001193").papers.get(paper_type="giay-chung-sinh")
    pdf = base64.b64encode(simple_pdf(["Giay chung sinh"])).decode()
    return {
        "procedure": "1.001193",
        "receiving_agency": "000.02.60.H56",
        "result_method": "online",
        "form": {
            "nguoi_yeu_cau": {
                "ho_ten": "Nguyễn Văn An",
                "so_dinh_danh": "038090000001",
                "noi_cu_tru": "Hạc Thành",
            },
            "quan_he": "cha",
            "tre": {
                "ho_ten": "Bé",
                "gioi_tinh": "nam",
                "ngay_sinh": "2026-11-01",
                "noi_sinh": "Bệnh viện",
            },
            "me": {"ho_ten": "Mẹ"},
        },
        "attachments": [{"paper": paper.pk, "filename": "cs.pdf", "content_base64": pdf}],
    }


def vacuum_analyze(*tables: str) -> None:
    """VACUUM (ANALYZE) freshly loaded tables, as autovacuum leaves them in production:
    statistics, visibility map and hint bits set, so that the first rounds measured do not
    pay for what a million new rows leave to their first readers (PostgreSQL only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def sample_percent(wanted: int, rows: int) -> float:
    """The TABLESAMPLE SYSTEM percentage of pages that holds about three times `wanted`
    random rows of a table of about `rows` (pages, not rows, are drawn), up to every page of
    a small table (a quick run with BENCH_DOSSIERS=3000)."""
    return min(100.0, 100 * 3 * wanted / max(rows, 1))
