"""The indicator registry (core.indicators): what the modules declare, GET /api/v1/indicators,
and "on time" defined once, so that the figures, the open-data dossier statistics and the
process control sheet (BM.05) judge the same finish the same way."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from ninja import Schema

from test_figures import PATH, run
from test_submission import submission
from tinhso.core.indicators import (
    FigureSet,
    Indicator,
    IndicatorError,
    Timeliness,
    Unit,
    figure_set_register,
    figure_sets,
    timeliness,
)
from tinhso.dossiers.legal_forms import handover_result
from tinhso.dossiers.models import DossierEvent, DossierStatus
from tinhso.dossiers.services import dossier_submit
from tinhso.opendata.platform import dossier_statistics_csv

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DUE = datetime(2026, 3, 3, 17, 0, tzinfo=HANOI)


@pytest.mark.parametrize(
    ("done", "due", "expected"),
    [
        (DUE, DUE, Timeliness.ON_TIME),  # exactly at the due time is not late
        (DUE + timedelta(microseconds=1), DUE, Timeliness.LATE),
        (DUE + timedelta(minutes=1), DUE, Timeliness.LATE),
        (DUE.replace(hour=8), DUE, Timeliness.ON_TIME),  # on the due day
        (DUE - timedelta(days=1), DUE, Timeliness.EARLY),
        # Days are Vietnam's: 23:50 on the 2nd is the day before a 00:30 due on the 3rd,
        # although both fall on the 2nd in UTC.
        (
            datetime(2026, 3, 2, 23, 50, tzinfo=HANOI),
            datetime(2026, 3, 3, 0, 30, tzinfo=HANOI),
            Timeliness.EARLY,
        ),
        (DUE, None, None),  # nothing to be late against
    ],
)
def test_timeliness_on_the_boundaries(
    done: datetime, due: datetime | None, expected: Timeliness | None
) -> None:
    assert timeliness(done, due) == expected


@pytest.mark.django_db
def test_the_figures_the_open_data_statistics_and_bm05_agree(client: Client, citizen: Any) -> None:
    monday = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    finishes = {
        "finished_on_time": timedelta(0),  # exactly at the due time
        "finished_late": timedelta(minutes=1),
        "finished_early": -timedelta(days=1),
    }
    dossiers = {}
    for name, offset in finishes.items():
        dossier = dossier_submit(submission=submission(citizen))
        run(dossier, PATH[:4], monday)
        dossier.refresh_from_db()
        dossiers[name] = run(dossier, PATH[4:], dossier.due_at + offset)
    agency = dossiers["finished_late"].receiving_agency

    figures = client.get(
        "/api/v1/figures", {"agency": agency.code, "start": "2026-03-01", "end": "2026-03-31"}
    ).json()
    assert {name: figures[name] for name in finishes} == dict.fromkeys(finishes, 1)

    rows = list(csv.DictReader(io.StringIO(dossier_statistics_csv().decode("utf-8"))))
    [row] = [r for r in rows if r["Mã cơ quan"] == agency.code and r["Tháng"] == "2026-03"]
    assert (row["Hồ sơ đã giải quyết"], row["Trong đó quá hạn"]) == ("3", "1")

    # BM.05 judges a hand-over against its due time with the same rule.
    labels = {
        "finished_on_time": "Đúng hạn",
        "finished_late": "Quá hạn",
        "finished_early": "Trước hạn",
    }
    for name, dossier in dossiers.items():
        finish = dossier.events.get(to_status=DossierStatus.FINISHED)
        assert finish.at == dossier.due_at + finishes[name]
        handover = DossierEvent(at=finish.at, step_due_at=dossier.due_at)
        assert handover_result(handover) == labels[name]
    assert handover_result(DossierEvent(at=monday, step_due_at=None)) == ""


def test_the_indicators_list_every_declared_figure(client: Client, db: None) -> None:
    response = client.get("/api/v1/indicators")
    assert response.status_code == 200
    listed = {i["code"]: i for i in response.json()}
    assert listed["dossiers.finished_on_time"] == {
        "code": "dossiers.finished_on_time",
        "name_vi": "Hồ sơ giải quyết đúng hạn",
        "name_en": "Finished on time",
        "unit": "dossiers",
        "dimensions": [],
        "module": "dossiers",
    }
    assert listed["dossiers.received_by_channel"]["dimensions"] == [
        {"code": "channel", "values": ["counter", "online", "post"]}
    ]
    assert listed["payments.amount_collected"]["unit"] == "VND"
    assert listed["payments.cashless_share"]["module"] == "payments"
    assert listed["feedback.on_time_share"]["unit"] == "ratio"
    assert listed["products.stamps_issued"]["unit"] == "count"
    # Every figure GET /api/v1/figures answers is a declared indicator, and the reverse.
    figures = client.get(
        "/api/v1/figures", {"agency": "000.00.00.H56", "start": "2026-03-01", "end": "2026-03-31"}
    ).json()
    sections = {"payments", "feedback", "products", "documents"}
    answered = {f"dossiers.{k}" for k in figures if k not in {"agency", "start", "end", *sections}}
    for section in sections:
        answered |= {f"{section}.{k}" for k in figures[section]}
    assert answered == set(listed)


class _Values(Schema):
    received: int


def test_a_figure_set_must_match_its_schema_and_take_no_other_modules_place() -> None:
    def compute(scope: object) -> dict[str, int]:
        return {"received": 0}

    received = Indicator("received", "Hồ sơ tiếp nhận", "Received", Unit.DOSSIERS)
    other = Indicator("other", "Khác", "Other", Unit.DOSSIERS)
    with pytest.raises(IndicatorError, match="schema"):
        figure_set_register(FigureSet("reports", (received, other), compute, _Values))
    with pytest.raises(IndicatorError, match="already used"):
        figure_set_register(FigureSet("reports", (received,), compute, _Values))
    with pytest.raises(IndicatorError, match="already used"):
        figure_set_register(FigureSet("reports", (received,), compute, _Values, "payments"))
    assert [s.module for s in figure_sets()] == [
        "dossiers", "payments", "feedback", "products", "documents"
    ]  # fmt: skip
