"""The read replica's router (core.replica, ADR 0027), with the "replica" alias pointing at
the test database as Django's TEST MIRROR does: a second connection to the same data, so
each test sees where every query went. The routing tests commit their data
(transactional), since a second connection does not see a test's open transaction; the
bench (bench/replica.py) measures a real standby."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.catalog.models import Procedure
from tinhso.core.replica import (
    PIN_COOKIE,
    REPLICA,
    ReplicaRouter,
    primary_reads,
    read_database,
    replica_reads,
)
from tinhso.dossiers.models import Dossier


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The alias "replica": the test database's settings, marked as its mirror. Made before
    each test's database access is set up, so that the tests may name it."""
    with django_db_blocker.unblock():
        conf = copy.deepcopy(connections["default"].settings_dict)
    conf["TEST"] = {**conf.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = conf
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


class Queries:
    """The queries each connection ran inside the block."""

    def __enter__(self) -> Queries:
        self.primary = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections[REPLICA])
        self.primary.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    @staticmethod
    def _on(captured: CaptureQueriesContext, table: str) -> int:
        return sum(f'"{table}"' in q["sql"] for q in captured.captured_queries)

    def on_primary(self, table: str) -> int:
        return self._on(self.primary, table)

    def on_replica(self, table: str) -> int:
        return self._on(self.replica, table)


PROCEDURES = Procedure._meta.db_table
USERS = User._meta.db_table
AGENCIES = Agency._meta.db_table


# --- without a replica ----------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_replica_everything_reads_the_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(connections.settings, REPLICA)
    with replica_reads():
        assert read_database(Procedure) == "default"
        assert Procedure.objects.exists()


def test_the_replica_is_never_migrated_and_writes_go_to_the_primary() -> None:
    router = ReplicaRouter()
    assert router.allow_migrate("default", "dossiers") is True
    assert router.allow_migrate(REPLICA, "dossiers") is False
    assert router.db_for_write(Procedure) == "default"


def test_every_listed_view_exists() -> None:
    """TINHSO_REPLICA_VIEWS names URL names: a renamed page must not silently drop out."""
    from django.urls import get_resolver

    def names(resolver: Any, namespace: str = "") -> Iterator[str]:
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from names(pattern, inner)
            elif pattern.name:
                yield f"{namespace}{pattern.name}"

    known = set(names(get_resolver()))
    for listed in django_settings.TINHSO_REPLICA_VIEWS:
        if listed.endswith(":*"):
            assert any(n.startswith(listed[:-1]) for n in known), listed
        else:
            assert listed in known, listed
    # The officials' work pages are never listed.
    assert not [v for v in django_settings.TINHSO_REPLICA_VIEWS if "manage" in v]
    with pytest.raises(NoReverseMatch):
        reverse("opendata:nonexistent")


# --- routing decisions ------------------------------------------------------------------------

routed = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@routed
@pytest.mark.usefixtures("seeded_transactional_db")
def test_where_reads_go() -> None:
    """Lag-tolerant reads on the replica; users on the primary; after a write, inside a
    transaction and outside `replica_reads` on the primary."""
    with Queries() as queries:
        assert Procedure.objects.exists()  # not asked for: primary
        with replica_reads():
            assert read_database(Procedure) == REPLICA
            assert list(Procedure.objects.all()[:3])
            # Users, sessions, tokens: always where they are written.
            assert read_database(User) == "default"
            assert User.objects.filter(username="tiepnhan").exists()
            with primary_reads():
                assert read_database(Procedure) == "default"
    assert queries.on_primary(PROCEDURES) == 1
    assert queries.on_replica(PROCEDURES) == 1
    assert queries.on_replica(USERS) == 0

    agency = Agency.objects.order_by("pk").first()
    assert agency is not None
    with Queries() as queries, replica_reads():
        assert Agency.objects.filter(pk=agency.pk).exists()
        Agency.objects.filter(pk=agency.pk).update(name=agency.name)  # a write
        assert read_database(Agency) == "default"
        assert Agency.objects.filter(pk=agency.pk, name=agency.name).exists()
    assert queries.on_replica(AGENCIES) == 1  # only the read before the write
    assert queries.on_primary(AGENCIES) == 2  # the write and the read after it

    with Queries() as queries, replica_reads(), transaction.atomic():
        assert read_database(Procedure) == "default"
        assert Procedure.objects.exists()
    assert queries.on_replica(PROCEDURES) == 0

    @replica_reads()
    def lookup() -> str:
        return read_database(Procedure)

    assert lookup() == REPLICA
    assert read_database(Procedure) == "default"


# --- pages and API operations -------------------------------------------------------------------


@routed
@pytest.mark.usefixtures("seeded_transactional_db")
def test_which_pages_read_the_replica(login_client: Any, settings: Any) -> None:
    # The public pages and API operations: the replica; the signed-in user: the primary.
    client = login_client(User.objects.get(username="038090000001"))
    for url in ("/thu-tuc/", "/api/v1/procedures", "/co-quan/"):
        with Queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert queries.on_replica(PROCEDURES) + queries.on_replica(AGENCIES) >= 1, url
        assert queries.on_primary(PROCEDURES) + queries.on_primary(AGENCIES) == 0, url
        assert queries.on_replica(USERS) == 0, url
        assert PIN_COOKIE not in response.cookies

    # An official's work pages: only the primary.
    official = login_client(User.objects.get(username="tiepnhan"))
    with Queries() as queries:
        assert official.get("/can-bo/ho-so/").status_code == 200
    assert queries.replica.captured_queries == []

    # A client that has just written reads the primary for a while, then the replica again.
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/thu-tuc/"})
    assert response.status_code == 302
    pin = response.cookies[PIN_COOKIE]
    assert int(pin["max-age"]) == settings.TINHSO_REPLICA_PIN_SECONDS
    assert pin["httponly"]
    with Queries() as queries:
        assert client.get("/thu-tuc/").status_code == 200
    assert queries.replica.captured_queries == []
    client.cookies[PIN_COOKIE] = "1"  # expired
    with Queries() as queries:
        assert client.get("/thu-tuc/").status_code == 200
    assert queries.on_replica(PROCEDURES) >= 1

    # Tracking: the replica, and the primary when the code is not (yet) there.
    dossiers = Dossier._meta.db_table
    with Queries() as queries:
        response = client.get("/api/v1/track/000.02.60.H56-261122-9999")
    assert response.status_code == 404
    assert queries.on_replica(dossiers) == 1
    assert queries.on_primary(dossiers) == 1
    with Queries() as queries:
        response = client.get("/tra-cuu-ho-so/", {"ma": "000.02.60.H56-261122-9999"})
    assert response.status_code == 404
    assert queries.on_replica(dossiers) == 1


@routed
@pytest.mark.usefixtures("seeded_transactional_db")
def test_cache_and_session_writes_do_not_pin_a_request_to_the_primary(settings: Any) -> None:
    """The anonymous figures count their computations and keep their answers in the shared
    cache, a table in the database unless Redis is set: those rows are always read on the
    primary, so writing them pins neither the rest of the request nor the client's next
    requests (the figures are summed on the replica; the catalogue afterwards reads it too)."""
    from django.core.cache import cache

    from tinhso.dossiers.models import DossierRollup

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tinhso_cache",
        }
    }
    settings.FIGURES_CACHE_SECONDS = 60
    settings.TINHSO_FIGURES_RATE = 120
    cache.clear()
    rollups = DossierRollup._meta.db_table
    client = Client()
    url = "/api/v1/figures?agency=000.02.60.H56&start=2026-01-01&end=2026-11-30"
    with Queries() as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert queries.on_replica(rollups) >= 1
    assert queries.on_primary(rollups) == 0
    assert queries.on_primary("tinhso_cache") >= 1  # the count and the answer kept
    assert PIN_COOKIE not in response.cookies
    with Queries() as queries:
        assert client.get("/api/v1/procedures").status_code == 200
    assert queries.on_replica(PROCEDURES) >= 1
    assert queries.on_primary(PROCEDURES) == 0
