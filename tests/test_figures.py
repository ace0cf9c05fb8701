"""Satisfaction ratings and the agency figures computed from the events."""

from __future__ import annotations

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
