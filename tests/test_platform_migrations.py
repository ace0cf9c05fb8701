"""The data migrations that moved numbering and Idempotency-Keys into core carry every row
over: codes issued today continue without a duplicate, keys sent before still replay."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from test_payments import fee_submission
from test_submission import api_body, submission
from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.models import IdempotencyKey, NumberSequence
from tinhso.dossiers.api import DossierIn
from tinhso.dossiers.services import dossier_submit
from tinhso.payments.services import payment_request

Node = tuple[str, str]


def _before(executor: MigrationExecutor, app: str, suffix: str) -> Node:
    """The migration of `app` just before the one named `…_{suffix}`."""
    graph = executor.loader.graph
    (node,) = [n for n in graph.nodes if n[0] == app and n[1].endswith(suffix)]
    (parent,) = [p for p in graph.node_map[node].parents if p.key[0] == app]
    return parent.key


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_rows_from_before_are_carried_into_core(token_for: Any) -> None:
    citizen = User.objects.get(username="038090000001")
    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    earlier = dossier_submit(submission=submission(citizen))
    fee = dossier_submit(submission=fee_submission(citizen))
    payment = payment_request(dossier=fee, actor=citizen)
    auth = token_for(citizen)

    executor = MigrationExecutor(connection)
    targets = [
        _before(executor, "dossiers", "_daily_sequences_to_core"),
        _before(executor, "payments", "_idempotency_to_core"),
    ]
    executor.migrate(targets)
    old = executor.loader.project_state(targets).apps
    today = timezone.localdate()
    old.get_model("dossiers", "DailySequence").objects.filter(
        agency_id=agency.pk, day=today
    ).update(last=41)
    # Digests as the old endpoints computed them.
    dossier_digest = hashlib.sha256(
        json.dumps(
            DossierIn(**api_body()).dict(), sort_keys=True, ensure_ascii=False, default=str
        ).encode()
    ).hexdigest()
    payment_body = {"dossier": fee.code, "exemption": ""}
    payment_digest = hashlib.sha256(json.dumps(payment_body, sort_keys=True).encode()).hexdigest()
    old.get_model("dossiers", "IdempotencyRecord").objects.create(
        user_id=citizen.pk, key="before-1", request_digest=dossier_digest, dossier_id=earlier.pk
    )
    old.get_model("payments", "PaymentIdempotency").objects.create(
        user_id=citizen.pk, key="before-1", request_digest=payment_digest, payment_id=payment.pk
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    sequence = NumberSequence.objects.get(
        register="dossier", scope=str(agency.pk), period=today.isoformat()
    )
    assert sequence.last == 41
    assert dossier_submit(submission=submission(citizen)).code.endswith(f"{today:%y%m%d}-0042")
    assert IdempotencyKey.objects.filter(key="before-1").count() == 2
    client = Client()
    replay = client.post(
        "/api/v1/dossiers", api_body(), content_type="application/json",
        headers={**auth, "Idempotency-Key": "before-1"},
    )  # fmt: skip
    assert (replay.status_code, replay.json()["code"]) == (200, earlier.code)
    paid = client.post(
        "/api/v1/payments", payment_body, content_type="application/json",
        headers={**auth, "Idempotency-Key": "before-1"},
    )  # fmt: skip
    assert (paid.status_code, paid.json()["reference"]) == (200, payment.reference)
