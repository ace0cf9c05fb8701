"""Satisfaction ratings and the agency figures computed from the events."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from flows import user
from test_submission import submission
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.services import dossier_submit
from tinhso.dossiers.transitions import dossier_act

pytestmark = pytest.mark.django_db


def run(dossier: Dossier, steps: list[tuple[Any, str]], at: datetime) -> Dossier:
    with mock.patch("django.utils.timezone.now", return_value=at):
        for who, action in steps:
            dossier.refresh_from_db()
            actor = user(who) if isinstance(who, str) else who
            extra = {"assignee": user("chuyenvien.hacthanh")} if action == "assign" else {}
            dossier = dossier_act(
                dossier=dossier, actor=actor, action=action, version=dossier.version, **extra
            )
    return dossier


PATH = [("tiepnhan.hacthanh", "accept"), ("tiepnhan.hacthanh", "assign"),
        ("chuyenvien.hacthanh", "forward"), ("lanhdao.hacthanh", "approve"),
        ("vanthu.hacthanh", "issue")]  # fmt: skip


def test_the_citizen_rates_once_after_return(
    client: Client, token_for: Any, citizen: Any, other_citizen: Any
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    url = f"/api/v1/dossiers/{dossier.code}/rating"
    assert (
        client.post(
            url, {"score": 3}, content_type="application/json", headers=token_for(citizen)
        ).status_code
        == 409
    )
    dossier = run(dossier, [*PATH, ("tiepnhan.hacthanh", "return_result")], timezone.now())
    assert (
        client.post(
            url, {"score": 3}, content_type="application/json", headers=token_for(other_citizen)
        ).status_code
        == 403
    )
    assert (
        client.post(
            url, {"score": 7}, content_type="application/json", headers=token_for(citizen)
        ).status_code
        == 422
    )
    assert (
        client.post(
            url,
            {"score": 3, "comment": "Nhanh"},
            content_type="application/json",
            headers=token_for(citizen),
        ).status_code
        == 201
    )
    assert (
        client.post(
            url, {"score": 1}, content_type="application/json", headers=token_for(citizen)
        ).status_code
        == 409
    )
    assert dossier.rating.score == 3


def test_figures_count_early_on_time_late_in_progress_and_paused(
    client: Client, citizen: Any
) -> None:
    monday = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    early = run(
        dossier_submit(submission=submission(citizen)), PATH, monday
    )  # finished the same day
    on_time = dossier_submit(submission=submission(citizen))
    run(on_time, PATH[:3], monday)
    on_time.refresh_from_db()
    run(on_time, PATH[3:], on_time.due_at - timedelta(minutes=30))
    late = dossier_submit(submission=submission(citizen))
    run(late, PATH[:3], monday)
    late.refresh_from_db()
    run(late, PATH[3:], late.due_at + timedelta(hours=1))
    open_one = run(dossier_submit(submission=submission(citizen)), PATH[:2], monday)
    paused = dossier_submit(submission=submission(citizen))
    run(paused, [("tiepnhan.hacthanh", "accept"), ("tiepnhan.hacthanh", "assign"),
                 ("chuyenvien.hacthanh", "ask_more")], monday)  # fmt: skip
    agency = early.receiving_agency
    body = client.get(
        "/api/v1/figures", {"agency": agency.code, "start": "2026-03-01", "end": "2026-03-31"}
    ).json()
    assert body["received"] == 5
    assert body["received_by_channel"] == {"counter": 0, "online": 5, "post": 0}
    assert (body["finished_early"], body["finished_on_time"], body["finished_late"]) == (1, 1, 1)
    assert body["on_time_rate"] == round(2 / 3, 4)
    assert body["in_progress"] == 2
    assert body["paused"] == 1
    assert open_one.status == DossierStatus.PROCESSING
    province = client.get(
        "/api/v1/figures", {"agency": "000.00.00.H56", "start": "2026-03-01", "end": "2026-03-31"}
    ).json()
    assert province["received"] == 5  # communes roll up into the province
    assert (
        client.get(
            "/api/v1/figures", {"agency": agency.code, "start": "2026-03-31", "end": "2026-03-01"}
        ).status_code
        == 422
    )


def _varied(citizen: Any) -> list[Dossier]:
    """Dossiers in every kind of history: early, on time, late (and returned, rated), paused
    then resumed, paused still, withdrawn while paused, refused, stopped, overdue and
    running, accepted and still running, new; spread over February and March 2026."""
    feb = datetime.fromisoformat("2026-02-16T09:00:00+07:00")
    mar = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    made = []

    def new() -> Dossier:
        with mock.patch("django.utils.timezone.now", return_value=feb):
            dossier = dossier_submit(submission=submission(citizen))
        made.append(dossier)
        return dossier

    early = run(new(), PATH, feb)
    run(early, [("tiepnhan.hacthanh", "return_result")], feb + timedelta(days=1))
    with mock.patch("django.utils.timezone.now", return_value=feb + timedelta(days=2)):
        from tinhso.dossiers.services import dossier_rate

        dossier_rate(dossier=Dossier.objects.get(pk=early.pk), citizen=citizen, score=2)
    on_time = run(new(), PATH[:3], mar)
    run(on_time, PATH[3:], on_time.due_at - timedelta(minutes=30))
    late = run(new(), PATH[:3], feb)
    run(late, PATH[3:], late.due_at + timedelta(days=3))
    resumed = run(new(), [*PATH[:2], ("chuyenvien.hacthanh", "ask_more")], feb)
    resumed = run(resumed, [("chuyenvien.hacthanh", "supplemented")], feb + timedelta(days=6))
    run(resumed, PATH[2:], resumed.due_at + timedelta(hours=2))
    run(new(), [*PATH[:2], ("chuyenvien.hacthanh", "ask_more")], mar)
    run(new(), [*PATH[:2], ("chuyenvien.hacthanh", "ask_more"),
                ("tiepnhan.hacthanh", "withdraw")], mar)  # fmt: skip
    refused = new()
    with mock.patch("django.utils.timezone.now", return_value=mar):
        dossier_act(dossier=refused, actor=user("tiepnhan.hacthanh"), action="refuse",
                    version=refused.version, note="Thiếu giấy tờ")  # fmt: skip
    run(new(), [*PATH[:2], ("lanhdao.hacthanh", "stop")], mar)
    run(new(), PATH[:2], feb)  # overdue by March, still running
    run(new(), PATH[:1], mar + timedelta(days=1))  # accepted, running
    new()  # new, never accepted
    return made


PERIODS = [
    ("2026-02-01", "2026-02-28"), ("2026-02-16", "2026-02-16"), ("2026-02-17", "2026-03-03"),
    ("2026-03-01", "2026-03-31"), ("2026-01-01", "2026-12-31"), ("2017-01-01", "2026-12-31"),
    ("2026-03-02", "2026-03-02"), ("2025-12-01", "2026-01-31"),
]  # fmt: skip


def test_the_rollups_give_the_figures_of_a_scan_of_the_dossiers(citizen: Any) -> None:
    from datetime import date

    from tinhso.agencies.models import Agency
    from tinhso.agencies.selectors import AgencyTree
    from tinhso.core.indicators import Scope
    from tinhso.dossiers.figures import dossier_figures, dossier_figures_direct
    from tinhso.dossiers.rollups import rollups_rebuild

    made = _varied(citizen)
    agencies = [made[0].receiving_agency, Agency.objects.get(code="000.00.00.H56")]
    seen = set()
    for rebuilt in (False, True):
        if rebuilt:
            rollups_rebuild()
        for agency in agencies:
            for start, end in PERIODS:
                scope = Scope(
                    AgencyTree(agency), date.fromisoformat(start), date.fromisoformat(end)
                )
                direct = dict(dossier_figures_direct(scope))
                assert dict(dossier_figures(scope)) == direct, (agency.code, start, end, rebuilt)
                seen.add(tuple(sorted((k, str(v)) for k, v in direct.items())))
    assert len(seen) >= 6  # the periods see different figures
    march = Scope(AgencyTree(agencies[0]), date(2026, 3, 1), date(2026, 3, 31))
    figures = dossier_figures(march)
    assert (figures["paused"], figures["in_progress"]) == (1, 3)
    assert figures["overdue"] >= 1
    feb = dossier_figures(Scope(AgencyTree(agencies[0]), date(2026, 2, 1), date(2026, 2, 28)))
    assert (feb["ratings"], feb["satisfaction_average"]) == (1, 2)


def test_the_transition_that_finishes_a_dossier_stores_its_outcome(citizen: Any) -> None:
    import io

    from django.core.management import call_command

    from tinhso.dossiers.models import DossierRollup

    made = _varied(citizen)
    stored = {
        d.pk: (d.finished_at, d.outcome, d.paused_for)
        for d in Dossier.objects.filter(pk__in=[m.pk for m in made])
    }
    early, on_time, late, resumed = (stored[m.pk] for m in made[:4])
    assert (early[1], on_time[1], late[1], resumed[1]) == ("early", "on_time", "late", "late")
    assert early[2] == timedelta(0)
    assert resumed[2] == timedelta(days=6)
    assert all(v == (None, "", None) for k, v in stored.items() if k not in
               {m.pk for m in made[:4]})  # fmt: skip
    Dossier.objects.update(finished_at=None, outcome="", paused_for=None)
    out = io.StringIO()
    call_command("figures_rebuild", stdout=out)  # the data migration's backfill
    assert out.getvalue() == f"{DossierRollup.objects.count()} rollup rows rebuilt.\n"
    assert {
        d.pk: (d.finished_at, d.outcome, d.paused_for)
        for d in Dossier.objects.filter(pk__in=[m.pk for m in made])
    } == stored


def test_public_figures_are_cached_for_a_minute(
    client: Client, settings: Any, citizen: Any
) -> None:
    from django.core.cache import cache

    settings.FIGURES_CACHE_SECONDS = 60
    cache.clear()
    query = {"agency": "000.00.00.H56", "start": "2026-03-01", "end": "2026-03-31"}
    first = client.get("/api/v1/figures", query)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=60"
    monday = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    run(dossier_submit(submission=submission(citizen)), PATH[:1], monday)
    assert client.get("/api/v1/figures", query).json() == first.json()  # kept a minute
    cache.clear()
    assert client.get("/api/v1/figures", query).json()["received"] == first.json()["received"] + 1
    cache.clear()


def test_an_anonymous_client_varying_the_period_is_slowed_down(
    client: Client, settings: Any, login_client: Any
) -> None:
    from django.core.cache import cache

    settings.FIGURES_CACHE_SECONDS = 60
    settings.TINHSO_FIGURES_RATE = 3
    cache.clear()

    def ask(asker: Client, day: int, address: str = "203.0.113.7") -> Any:
        period = {"start": f"2026-03-{day:02d}", "end": "2026-03-31"}
        return asker.get(
            "/api/v1/figures", {"agency": "000.00.00.H56", **period}, REMOTE_ADDR=address
        )

    # The start of the next minute on the clock (the cache's expiries are counted from it).
    minute = (int(time.time()) // 60 + 1) * 60
    with mock.patch("tinhso.core.rates.time.time", return_value=minute + 15.2):
        assert [ask(client, day).status_code for day in (1, 2, 3)] == [200, 200, 200]
        refused = ask(client, 4)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "45"  # what is left of the minute
        assert refused.json()["code"] == "rate"
        assert "phút" in refused.json()["detail"]  # in Vietnamese
        assert ask(client, 1).status_code == 200  # an answer already kept costs nothing
        assert ask(client, 4, address="203.0.113.8").status_code == 200  # another client
        # The same client behind a dual-stack socket: the same count.
        assert ask(client, 7, address="::ffff:203.0.113.7").status_code == 429
        official = login_client(user("tiepnhan.hacthanh"))
        assert ask(official, 5).status_code == 200  # signed in: not counted
    with mock.patch("tinhso.core.rates.time.time", return_value=minute + 60.1):
        assert ask(client, 6).status_code == 200  # the next minute, however it was counted
    cache.clear()
