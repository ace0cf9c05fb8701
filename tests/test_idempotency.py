"""One Idempotency-Key service (core.idempotency) for the API's creating requests:
dossiers (citizens and counter intake), payments and ratings."""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from flows import user
from test_figures import PATH, run
from test_payments import fee_submission
from test_submission import api_body, submission
from tinhso.accounts.models import User
from tinhso.core.models import IdempotencyKey
from tinhso.dossiers.models import Dossier, Rating
from tinhso.dossiers.services import dossier_submit
from tinhso.payments.models import Payment


def post(client: Client, url: str, body: dict[str, Any], auth: dict[str, str], key: str) -> Any:
    return client.post(
        url, body, content_type="application/json", headers={**auth, "Idempotency-Key": key}
    )


@pytest.mark.django_db
def test_keys_are_scoped_per_user_and_per_operation(
    client: Client, token_for: Any, citizen: Any, other_citizen: Any
) -> None:
    """One key, two users, two operations: four separate creations, none refused."""
    mine, theirs = token_for(citizen), token_for(other_citizen)
    first = post(client, "/api/v1/dossiers", api_body(), mine, "same-key")
    other_user = post(client, "/api/v1/dossiers", api_body(), theirs, "same-key")
    assert (first.status_code, other_user.status_code) == (201, 201)
    assert first.json()["code"] != other_user.json()["code"]
    fee = dossier_submit(submission=fee_submission(citizen))
    payment = post(client, "/api/v1/payments", {"dossier": fee.code}, mine, "same-key")
    assert payment.status_code == 201
    assert (
        post(client, "/api/v1/payments", {"dossier": fee.code}, mine, "same-key").json()[
            "reference"
        ]
        == payment.json()["reference"]
    )
    assert IdempotencyKey.objects.filter(key="same-key").count() == 3


@pytest.mark.django_db
def test_counter_intake_honours_the_key(client: Client, token_for: Any) -> None:
    receiver = token_for(user("tiepnhan.hacthanh"))
    body = api_body(
        applicant="038190000006", channel=1, result_method="counter",
        form={
            "nguoi_yeu_cau": {"ho_ten": "Nguyễn Thị Bình", "so_dinh_danh": "038190000006",
                              "noi_cu_tru": "Hạc Thành"},
            "quan_he": "me",
            "tre": {"ho_ten": "Bé Mai", "gioi_tinh": "nu", "ngay_sinh": "2026-11-20",
                    "noi_sinh": "Trạm y tế"},
            "me": {"ho_ten": "Nguyễn Thị Bình"},
        },
    )  # fmt: skip
    first = post(client, "/api/v1/dossiers", body, receiver, "walk-in-1")
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/dossiers", body, receiver, "walk-in-1")
    assert (again.status_code, again.json()["code"]) == (200, first.json()["code"])
    other = post(client, "/api/v1/dossiers", {**body, "channel": 3}, receiver, "walk-in-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    assert Dossier.objects.filter(applicant__username="038190000006").count() == 1


@pytest.mark.django_db
def test_a_rating_retried_with_its_key_is_answered_as_the_first(
    client: Client, token_for: Any, citizen: Any
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    dossier = run(dossier, [*PATH, ("tiepnhan.hacthanh", "return_result")], timezone.now())
    url = f"/api/v1/dossiers/{dossier.code}/rating"
    auth = token_for(citizen)
    assert post(client, url, {"score": 3}, auth, "rate-1").status_code == 201
    assert post(client, url, {"score": 3}, auth, "rate-1").status_code == 200
    conflict = post(client, url, {"score": 1}, auth, "rate-1")
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")
    # Without the key a second rating is refused as before: a dossier is rated once.
    again = client.post(url, {"score": 3}, content_type="application/json", headers=auth)
    assert (again.status_code, again.json()["code"]) == (409, "rating")
    # What the key created is gone (an administrator removed the rating): the key is free.
    Rating.objects.filter(dossier=dossier).delete()
    assert post(client, url, {"score": 2}, auth, "rate-1").status_code == 201
    assert Rating.objects.get(dossier=dossier).score == 2


RACERS = 8


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises the writers")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
@pytest.mark.parametrize("endpoint", ["dossiers", "payments"])
def test_requests_racing_on_one_key_create_once(endpoint: str, token_for: Any) -> None:
    """Eight requests with one key at the same moment, through the one service: one
    creates (201), the seven others get its answer (200); one object, one key record."""
    citizen = User.objects.get(username="038090000001")
    auth = token_for(citizen)
    if endpoint == "dossiers":
        body, field = api_body(), "code"
    else:
        body, field = (
            {"dossier": dossier_submit(submission=fee_submission(citizen)).code},
            "reference",
        )
    dossiers, payments = Dossier.objects.count(), Payment.objects.count()
    barrier = threading.Barrier(RACERS)
    answers: list[tuple[int, str]] = []

    def racer(_n: int) -> None:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)
            answer = Client().post(
                f"/api/v1/{endpoint}", json.dumps(body), content_type="application/json",
                headers={**auth, "Idempotency-Key": "race"},
            )  # fmt: skip
            answers.append((answer.status_code, answer.json().get(field, answer.content)))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        list(pool.map(racer, range(RACERS)))
    statuses = sorted(status for status, _value in answers)
    assert statuses == [200] * (RACERS - 1) + [201], answers
    assert len({value for _status, value in answers}) == 1
    created = (Dossier.objects.count() - dossiers, Payment.objects.count() - payments)
    assert created == ((1, 0) if endpoint == "dossiers" else (0, 1))
    assert IdempotencyKey.objects.filter(key="race", operation=f"{endpoint}.create").count() == 1
