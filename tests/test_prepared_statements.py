"""On PostgreSQL, parameters are bound on the server and a statement a connection keeps
running is prepared there once (ADR 0037): PostgreSQL then skips parsing and, where its
generic plan is as good, planning. TINHSO_DB_PREPARE_THRESHOLD sets after how many runs
("off" for a pooler that cannot keep prepared statements)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tinhso.settings import _postgresql

POSTGRESQL = {"ENGINE": "django.db.backends.postgresql", "NAME": "tinhso", "OPTIONS": {}}


def test_a_postgresql_database_binds_on_the_server_and_prepares_after_five_runs(
    monkeypatch: Any,
) -> None:
    monkeypatch.delenv("TINHSO_DB_PREPARE_THRESHOLD", raising=False)
    config: dict[str, object] = {**POSTGRESQL, "OPTIONS": {"sslmode": "require"}}
    _postgresql(config)
    assert config["ENGINE"] == "tinhso.core.postgresql"
    assert config["OPTIONS"] == {
        "sslmode": "require",  # what DATABASE_URL's query said is kept
        "server_side_binding": True,
        "prepare_threshold": 5,
    }


@pytest.mark.parametrize(
    ("value", "threshold"), [("off", None), ("OFF", None), ("0", 0), ("12", 12)]
)
def test_the_threshold_comes_from_the_environment(
    monkeypatch: Any, value: str, threshold: int | None
) -> None:
    monkeypatch.setenv("TINHSO_DB_PREPARE_THRESHOLD", value)
    config: dict[str, object] = dict(POSTGRESQL)
    _postgresql(config)
    assert config["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": threshold}


@pytest.mark.parametrize("value", ["five", "-1", "2.5", "²"])
def test_a_threshold_that_is_not_a_number_stops_the_server_from_starting(
    monkeypatch: Any, value: str
) -> None:
    monkeypatch.setenv("TINHSO_DB_PREPARE_THRESHOLD", value)
    with pytest.raises(ImproperlyConfigured, match="TINHSO_DB_PREPARE_THRESHOLD"):
        _postgresql(dict(POSTGRESQL))


def test_sqlite_is_left_as_it_is(monkeypatch: Any) -> None:
    monkeypatch.setenv("TINHSO_DB_PREPARE_THRESHOLD", "3")
    config: dict[str, object] = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}
    _postgresql(config)
    assert config == {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db
def test_a_statement_run_again_and_again_is_prepared_on_the_server_and_answers_rightly() -> None:
    from tinhso.agencies.models import Agency

    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    if threshold is None:
        pytest.skip("TINHSO_DB_PREPARE_THRESHOLD=off: nothing is prepared")
    first, second = Agency.objects.order_by("code")[:2]
    shape = 'ORDER BY "agencies_agency"."code" DESC, "agencies_agency"."name_en" ASC'

    def names(code: str) -> list[str]:
        # An ordering no other statement of the suite has, so this connection has not
        # prepared it before.
        rows = Agency.objects.filter(code=code).order_by("-code", "name_en")
        return list(rows.values_list("name", flat=True))

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall() if shape in row[0]]

    for _ in range(threshold):
        assert names(first.code) == [first.name]
    assert prepared() == []  # five runs (by default), each parsed and planned
    assert names(second.code) == [second.name]  # the next one prepares it
    [statement] = prepared()
    assert '"agencies_agency"."code" = $1' in statement  # the value is a parameter
    # The prepared statement answers each value's own rows, none left over from another.
    assert names(first.code) == [first.name]
    assert names(second.code) == [second.name]
    assert names("no-such-agency") == []
    assert len(prepared()) == 1  # prepared once, then run
