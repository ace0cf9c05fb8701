"""`make bench`: print a table of latencies, each next to its same-run baseline.

`make bench` points DATABASE_URL at a throw-away PostgreSQL database when the local server
answers (the back-office benchmarks need PostgreSQL and pgbench); otherwise it uses a
throw-away SQLite database in a temporary folder (never var/). The database is migrated
and seeded if empty.

`python -m bench --dossiers 20000000` (or BENCH_DOSSIERS) sets how many dossiers the
dossier and figure benchmarks load (1,000,000 by default); BENCH_ONLY=figures,dossiers
runs only those modules.
"""

from __future__ import annotations

import os
import sys
import tempfile


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


def main() -> int:
    args = sys.argv[1:]
    if "--dossiers" in args:
        os.environ["BENCH_DOSSIERS"] = args[args.index("--dossiers") + 1]
    _setup()
    from django.db import connection

    from bench import (
        agencies,
        audit,
        catalog,
        documents,
        dossiers,
        feedback,
        figures,
        office,
        opendata,
        products,
        replica,
        signing,
    )
    from bench.common import ROUNDS, print_table

    only = os.environ.get("BENCH_ONLY", "")
    modules = {"agencies": agencies, "catalog": catalog, "signing": signing}
    modules |= {"dossiers": dossiers, "documents": documents, "figures": figures}
    modules |= {"opendata": opendata, "audit": audit, "feedback": feedback}
    modules |= {"products": products, "office": office}
    # Last: the standby is a copy of the database as the other benchmarks left it.
    modules |= {"replica": replica}
    rows = []
    for name, module in modules.items():
        if not only or name in only.split(","):
            rows += module.run()
    print(f"\nTỉnh Số benchmarks on {connection.vendor}, {ROUNDS} rounds each (ms)\n")
    print_table(rows)
    dossiers = int(os.environ.get("BENCH_DOSSIERS", "1000000"))
    print(
        f"\nThe dossier, figure and inbox rows ran over {dossiers:,} dossiers. Ten years of a "
        "province (about 20 M): BENCH_ONLY=figures BENCH_DOSSIERS=20000000 make bench (seeding "
        "them took 35 minutes and 23 GB on two cores: docs/bench/2026-12-01-figures-20M.txt)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
