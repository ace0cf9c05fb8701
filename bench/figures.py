"""Figures, the due-soon box and tracking at scale (PostgreSQL only; ADR 0026).

Seeds BENCH_DOSSIERS dossiers (1,000,000 unless `python -m bench --dossiers 20000000`)
in SQL (generate_series: no row crosses into Python) spread over ten years and the
province's communes, each with its history (submitted; accepted; processed; finished
early, on time or late and returned; paused; refused; new), and their daily rollups built
from that history in SQL by the same rules as dossiers.rollups. The rollups are checked
against the direct scan for one commune before anything is timed. Then:

* GET /api/v1/figures for the province, one year and ten years (the server cache off),
  next to the direct scan of the dossiers (what the figures cost before; skipped above
  2 M dossiers, where it takes minutes);
* the due-soon box (its rows) and the counts of the eight boxes of a commune receiver,
  next to the raw SQL returning the same rows and counts (each box counted up to
  cases.inbox.COUNT_LIMIT + 1 keys), and the same counts carried to the end for reference;
* GET /api/v1/track/{code}, next to the raw SQL of the same two reads.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import Any

from bench.common import INBOX_ROWS_SQL, Row, measure, sample_percent, vacuum_analyze

TARGET = int(os.environ.get("BENCH_DOSSIERS", "1000000"))
DIRECT_LIMIT = int(os.environ.get("BENCH_FIGURES_DIRECT_UP_TO", "2000000"))
TZ = "Asia/Ho_Chi_Minh"

# n % 10: 0-2 returned, 3-5 finished, 6 processing, 7 paused (supplement), 8 refused, 9 new
_SEED = """
WITH agencies AS (
    SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, code FROM agencies_agency
    WHERE level = 'commune'
), k AS (SELECT count(*) AS n FROM agencies),
s AS (
    SELECT g AS n, a.id AS agency, a.code AS agency_code,
           now() - make_interval(secs => (g::bigint * 2654435761) %% 315360000) AS t
    FROM generate_series(%(first)s, %(last)s) g
    JOIN k ON true JOIN agencies a ON a.i = g %% k.n
)
INSERT INTO dossiers_dossier (
    public_id, code, procedure_id, applicant_id, receiving_agency_id, status, channel,
    form_data, result_method, delivery_address, submitted_at, created_at, updated_at,
    version, state, accepted_at, due_at, paused_at, outcome)
SELECT md5(s.n::text || 'fig')::uuid, s.agency_code || '-F' || lpad(s.n::text, 9, '0'),
       %(procedure)s, %(citizen)s, s.agency,
       (ARRAY[10, 10, 10, 9, 9, 9, 4, 5, 3, 1])[s.n %% 10 + 1], 1 + s.n %% 3, '{}', 'online',
       '', s.t, s.t, s.t, 1,
       (ARRAY['returned', 'returned', 'returned', 'finished', 'finished', 'finished',
              'processing', 'supplement_processing', 'refused', 'new'])[s.n %% 10 + 1],
       CASE WHEN s.n %% 10 < 8 THEN s.t + interval '1 hour' END,
       CASE WHEN s.n %% 10 < 8 THEN s.t + interval '3 days' END,
       CASE WHEN s.n %% 10 = 7 THEN s.t + interval '1 day' END, ''
FROM s
"""

# Each dossier's history, from its kind; the finish is 1 to 5 days after the submission
# (its due time is 3 days after): early, on time or late.
_EVENTS = """
INSERT INTO dossiers_dossierevent (dossier_id, at, action, from_status, to_status, note)
SELECT d.id, e.at, e.action, e.f, e.t, ''
FROM dossiers_dossier d
CROSS JOIN LATERAL (
    SELECT substring(d.code from '-F(\\d+)$')::bigint AS n
) k
CROSS JOIN LATERAL (VALUES
    (d.submitted_at, 'submit', 0, 1, true),
    (d.submitted_at + interval '1 hour', 'accept', 1, 2, k.n %% 10 < 8),
    (d.submitted_at + interval '2 hours', 'assign', 2, 4, k.n %% 10 < 7),
    (d.submitted_at + interval '1 day', 'ask_more', 4, 5, k.n %% 10 = 7),
    (d.submitted_at + make_interval(hours => 24 + (k.n %% 97)::int),
     'issue', 4, 9, k.n %% 10 < 6),
    (d.submitted_at + make_interval(hours => 25 + (k.n %% 97)::int),
     'return_result', 9, 10, k.n %% 10 < 3),
    (d.submitted_at + interval '1 hour', 'refuse', 1, 3, k.n %% 10 = 8)
) AS e(at, action, f, t, happened)
WHERE e.happened AND d.code LIKE '%%-F%%' AND d.id >= %(from_id)s
"""

# The rollups from the history, by dossiers.rollups' rules (one statement).
_ROLLUPS = f"""
WITH ev AS (
    SELECT d.receiving_agency_id AS agency, d.channel, d.due_at, e.at,
           e.from_status AS f, e.to_status AS t,
           (e.at AT TIME ZONE '{TZ}')::date AS day,
           (d.due_at AT TIME ZONE '{TZ}')::date AS due_day
    FROM dossiers_dossierevent e JOIN dossiers_dossier d ON d.id = e.dossier_id
    WHERE d.receiving_agency_id IS NOT NULL AND e.from_status <> e.to_status
), changes AS (
    SELECT agency, day,
        (t = 2 AND f < 2)::int AS received,
        (t = 2 AND f < 2 AND channel = 1)::int AS received_counter,
        (t = 2 AND f < 2 AND channel = 2)::int AS received_online,
        (t = 2 AND f < 2 AND channel = 3)::int AS received_post,
        (t = 9 AND (due_at IS NULL OR (at <= due_at AND day < due_day)))::int
            AS finished_early,
        (t = 9 AND at <= due_at AND day = due_day)::int AS finished_on_time,
        (t = 9 AND at > due_at)::int AS finished_late,
        (t IN (2, 4, 5, 6))::int - (f IN (2, 4, 5, 6))::int AS in_progress_change,
        (t IN (5, 6))::int - (f IN (5, 6))::int AS paused_change,
        0 AS overdue_change, 0 AS ratings, 0 AS rating_points
    FROM ev
    UNION ALL
    SELECT agency, greatest(day, due_day), 0, 0, 0, 0, 0, 0, 0, 0, 0,
           (t IN (2, 4))::int - (f IN (2, 4))::int, 0, 0
    FROM ev WHERE due_at IS NOT NULL AND (t IN (2, 4)) <> (f IN (2, 4))
    UNION ALL
    SELECT d.receiving_agency_id, (r.created_at AT TIME ZONE '{TZ}')::date,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, r.score
    FROM dossiers_rating r JOIN dossiers_dossier d ON d.id = r.dossier_id
    WHERE d.receiving_agency_id IS NOT NULL
), spans AS (
    SELECT 1 AS span, day AS first, c.* FROM changes c
    UNION ALL SELECT 2, date_trunc('month', day)::date, c.* FROM changes c
    UNION ALL SELECT 3, date_trunc('year', day)::date, c.* FROM changes c
)
INSERT INTO dossiers_dossierrollup (
    agency_id, span, day, received, received_counter, received_online, received_post,
    finished_early, finished_on_time, finished_late, ratings, rating_points,
    in_progress_change, paused_change, overdue_change)
SELECT agency, span, first, sum(received), sum(received_counter), sum(received_online),
       sum(received_post), sum(finished_early), sum(finished_on_time), sum(finished_late),
       sum(ratings), sum(rating_points), sum(in_progress_change), sum(paused_change),
       sum(overdue_change)
FROM spans GROUP BY agency, span, first
"""


@contextmanager
def _indexes_rebuilt_after(cursor: Any, *tables: str) -> Iterator[None]:
    """Drop the tables' secondary indexes (those that back no constraint) for a bulk load
    and build them again after it, as PostgreSQL's manual advises for populating a
    database: one sorted build per index instead of millions of random insertions into
    indexes far larger than shared_buffers (the 20 M seed's cost per million grew with
    each million). The indexes are built again even if the load fails."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
        "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace)",
        [list(tables)],
    )
    dropped = cursor.fetchall()
    for name, _definition in dropped:
        cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        started = time.monotonic()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in dropped:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        print(f"  {len(dropped)} indexes built again ({time.monotonic() - started:.0f} s)")


def _seed() -> None:
    """Bring the seeded dossiers to TARGET, then rebuild the rollups of everything in SQL.
    Past a million new dossiers, the secondary indexes of the dossiers and their events are
    built after the load rather than during it."""
    from django.db import connection, transaction

    from tinhso.accounts.models import User
    from tinhso.catalog.models import Procedure
    from tinhso.dossiers.models import Dossier, DossierRollup

    have = Dossier.objects.filter(code__contains="-F").count()
    if have >= TARGET:
        return
    started = time.monotonic()
    procedure = Procedure.objects.get(code="1.001193").pk
    citizen = User.objects.filter(kind="citizen").order_by("pk").values_list("pk", flat=True)[0]
    from_id = (Dossier.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    batch = 1_000_000
    tables = ("dossiers_dossier", "dossiers_dossierevent")
    with connection.cursor() as cursor:
        with _indexes_rebuilt_after(cursor, *tables) if TARGET - have > batch else nullcontext():
            for first in range(have, TARGET, batch):
                last = min(first + batch, TARGET) - 1
                with transaction.atomic():
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute(
                        _SEED,
                        {"first": first, "last": last, "procedure": procedure,
                         "citizen": citizen},
                    )  # fmt: skip
                print(f"  seeded {last + 1:,} dossiers ({time.monotonic() - started:.0f} s)")
            with transaction.atomic():
                # Each event's key checked as it is written: Django's deferred keys would
                # queue a check per row until COMMIT (5 GB for the 72 M events of 20 M).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(_EVENTS, {"from_id": from_id})
            print(f"  their history ({time.monotonic() - started:.0f} s)")
        with transaction.atomic():
            DossierRollup.objects.all().delete()
            # The grouping of every event by agency and day, in memory rather than on disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(_ROLLUPS)
            print(f"  rollups rebuilt ({time.monotonic() - started:.0f} s)")
    vacuum_analyze("dossiers_dossier", "dossiers_dossierevent", "dossiers_dossierrollup")


def _check(agency_code: str) -> None:
    """The rollups answer what the direct scan answers, for one commune and one year."""
    from django.utils import timezone

    from tinhso.agencies.models import Agency
    from tinhso.agencies.selectors import AgencyTree
    from tinhso.core.indicators import Scope
    from tinhso.dossiers.figures import dossier_figures, dossier_figures_direct

    today = timezone.localdate()
    scope = Scope(AgencyTree(Agency.objects.get(code=agency_code)), today - timedelta(365), today)
    rolled, direct = dict(dossier_figures(scope)), dict(dossier_figures_direct(scope))
    if rolled != direct:
        raise SystemExit(f"rollups differ from the scan:\n{rolled}\n{direct}")
    print(f"  rollups = direct scan for {agency_code}, last year: {rolled['received']} received")


def run() -> list[Row]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from tinhso.accounts.models import User
    from tinhso.cases.inbox import COUNT_LIMIT
    from tinhso.core.calendar import hours_for, working_day_left_until
    from tinhso.dossiers.inbox import inbox, inbox_counts
    from tinhso.dossiers.selectors import dossier_tracking
    from tinhso.dossiers.subject import DOSSIER

    if connection.vendor != "postgresql":
        print("figure benchmarks skipped: they need PostgreSQL (set DATABASE_URL)")
        return []
    print(f"\nfigures, due soon and tracking over {TARGET:,} seeded dossiers")
    _seed()
    receiver = User.objects.get(username="tiepnhan.hacthanh")
    agency = receiver.memberships.first().agency  # type: ignore[union-attr]
    _check(agency.code)
    settings.FIGURES_CACHE_SECONDS = 0  # time the computation, not the cache
    settings.TINHSO_FIGURES_RATE = 0  # nor the anonymous limit's 429s (120 a minute)
    client = Client()
    today = timezone.localdate()
    rows: list[Row] = []
    for label, days in (("1 year", 365), ("10 years", 3650)):
        query = {"agency": "000.00.00.H56", "start": str(today - timedelta(days)),
                 "end": str(today)}  # fmt: skip

        def figures(query: dict[str, str] = query) -> None:
            assert client.get("/api/v1/figures", query).status_code == 200

        def direct(days: int = days) -> None:
            from tinhso.agencies.models import Agency
            from tinhso.agencies.selectors import AgencyTree
            from tinhso.core.indicators import Scope
            from tinhso.dossiers.figures import dossier_figures_direct

            tree = AgencyTree(Agency.objects.get(code="000.00.00.H56"))
            dossier_figures_direct(Scope(tree, today - timedelta(days), today))

        # The scan takes seconds: timed once (its median and p95 are that one time).
        base = measure(direct, 1) if TARGET <= DIRECT_LIMIT else (float("nan"),) * 2
        rows.append(
            Row(f"figures, province, {label} (vs direct scan)", *measure(figures, 100), *base)
        )

    closed = list(DOSSIER.closed_statuses)
    where = (
        "d.receiving_agency_id = %s AND d.paused_at IS NULL AND NOT d.status = ANY(%s) "
        "AND d.due_at >= %s AND d.due_at <= %s"
    )

    def due_soon_sql() -> None:
        # The same rows: the bound is one working day from now in the agency's calendar.
        now = timezone.now()
        bound = working_day_left_until(now, hours_for(agency.calendar or None))
        with connection.cursor() as cursor:
            cursor.execute(
                INBOX_ROWS_SQL.format(where=where) + "ORDER BY d.due_at, d.id LIMIT 200",
                [agency.pk, closed, now, bound],
            )
            cursor.fetchall()

    limit = COUNT_LIMIT + 1

    def counts_sql() -> None:
        # The same counts as the boxes of a commune's receiver give them: each box's keys
        # read up to the limit on the agency's index, then counted.
        now = timezone.now()
        bound = working_day_left_until(now, hours_for(agency.calendar or None))
        mine = "d.status <> 0 AND d.receiving_agency_id = %s"
        running = f"{mine} AND d.paused_at IS NULL AND NOT d.status = ANY(%s)"
        boxes = [
            (f"{mine} AND d.state = 'new'", [agency.pk]),
            (f"{mine} AND d.state = 'received'", [agency.pk]),
            (f"{mine} AND d.state = 'finished'", [agency.pk]),
            (f"{running} AND d.due_at >= %s AND d.due_at <= %s", [agency.pk, closed, now, bound]),
            (f"{running} AND d.due_at < %s", [agency.pk, closed, now]),
            (f"{mine} AND d.paused_at IS NOT NULL", [agency.pk]),
        ]
        selects = ", ".join(
            f"(SELECT count(*) FROM (SELECT d.id FROM dossiers_dossier d WHERE {where} "
            f"LIMIT {limit}) b)"
            for where, _params in boxes
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {selects}", [p for _where, ps in boxes for p in ps])
            cursor.fetchall()

    def exact_counts_sql() -> None:
        # What the tabs would cost counted to the end: every dossier of the agency read.
        now = timezone.now()
        bound = working_day_left_until(now, hours_for(agency.calendar or None))
        running = "d.paused_at IS NULL AND NOT d.status = ANY(%s)"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE d.state = 'new'), "
                "count(*) FILTER (WHERE d.state IN ('received', 'processing')), "
                "count(*) FILTER (WHERE d.state = 'approving'), "
                "count(*) FILTER (WHERE d.state = 'issuing'), "
                "count(*) FILTER (WHERE d.state = 'finished'), "
                f"count(*) FILTER (WHERE {running} AND d.due_at >= %s AND d.due_at <= %s), "
                f"count(*) FILTER (WHERE {running} AND d.due_at < %s), "
                "count(*) FILTER (WHERE d.paused_at IS NOT NULL) "
                "FROM dossiers_dossier d WHERE d.receiving_agency_id = %s",
                [closed, now, bound, closed, now, agency.pk],
            )
            cursor.fetchall()

    rows.append(
        Row("inbox: due-soon box, its rows", *measure(lambda: inbox(receiver, "sap-den-han"), 100),
            *measure(due_soon_sql, 100))
    )  # fmt: skip
    rows.append(
        Row("inbox: the counts of its 8 boxes", *measure(lambda: inbox_counts(receiver), 100),
            *measure(counts_sql, 100))
    )  # fmt: skip
    exact = measure(exact_counts_sql, 20)
    rows.append(Row("  (the same counts to the end, raw SQL: no limit)", *exact, *exact))
    rng = random.Random(11)  # noqa: S311 (reproducible sample)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, id FROM dossiers_dossier "
            f"TABLESAMPLE SYSTEM ({sample_percent(500, TARGET)}) "
            "WHERE code LIKE '%%-F%%' LIMIT 500"
        )
        sample = cursor.fetchall()

    def track() -> None:
        code = rng.choice(sample)[0]
        assert client.get(f"/api/v1/track/{code}").status_code == 200

    def track_sql() -> None:
        code = rng.choice(sample)[0]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.id, d.code, d.status, d.submitted_at, p.code, p.name, a.name "
                "FROM dossiers_dossier d JOIN catalog_procedure p ON p.id = d.procedure_id "
                "LEFT JOIN agencies_agency a ON a.id = d.receiving_agency_id "
                "WHERE d.code = %s AND d.status <> 0",
                [code],
            )
            (pk, *_rest) = cursor.fetchone()
            cursor.execute(
                "SELECT id, dossier_id, at, to_status FROM dossiers_dossierevent "
                "WHERE dossier_id = %s ORDER BY at, id",
                [pk],
            )
            cursor.fetchall()

    def track_reads() -> None:
        dossier = dossier_tracking(rng.choice(sample)[0])
        assert dossier is not None
        assert dossier.events is not None

    rows.append(
        Row("tracking: GET /api/v1/track/{code}", *measure(track, 300), *measure(track_sql, 300))
    )
    rows.append(
        Row("tracking: its reads (dossier_tracking)", *measure(track_reads, 300),
            *measure(track_sql, 300))
    )  # fmt: skip
    return rows
