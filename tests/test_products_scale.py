"""Half a million stamps in one order (issue 18): issued by the worker after the order
commits, a chunk per transaction, so the order's page shows how far it has gone and a
worker that dies part-way leaves a batch the next run finishes; no serial repeats."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.test import Client

from test_products import product
from tinhso.core.models import OutboxMessage
from tinhso.products import services
from tinhso.products.models import Batch, BatchState, Producer, Stamp
from tinhso.products.services import batch_order, stamps_issue

pytestmark = pytest.mark.django_db
HALF_A_MILLION = 500_000


def test_half_a_million_stamps_in_one_order(monkeypatch: Any) -> None:
    from datetime import date

    item = product()
    # The province raises a large producer's allowance (a new one may order 100,000).
    Producer.objects.filter(pk=item.producer_id).update(order_limit=HALF_A_MILLION)
    item.producer.refresh_from_db()
    owner = item.producer.owner
    batch = batch_order(
        product=item, actor=owner, lot="L500K", produced_on=date(2026, 11, 1),
        expires_on=date(2027, 11, 1), place="Phường Hạc Thành", quantity=HALF_A_MILLION,
    )  # fmt: skip
    # Nothing is issued in the order's request: the worker does it after commit.
    assert batch.state == BatchState.QUEUED
    assert not Stamp.objects.filter(batch=batch).exists()
    assert OutboxMessage.objects.filter(topic=services.STAMPS_ISSUE,
                                        payload={"batch": batch.pk}).exists()  # fmt: skip

    # The worker dies after two chunks.
    chunks = 0
    real = services._stamps_insert

    def dying(rows: Any) -> None:
        nonlocal chunks
        chunks += 1
        if chunks == 3:
            raise RuntimeError("the worker was killed")
        real(rows)

    monkeypatch.setattr(services, "_stamps_insert", dying)
    with pytest.raises(RuntimeError):
        stamps_issue(batch.pk)
    batch.refresh_from_db()
    done = 2 * services.ISSUE_CHUNK
    assert (batch.state, batch.issued) == (BatchState.ISSUING, done)
    assert Stamp.objects.filter(batch=batch).count() == done
    # Its page shows the progress.
    client = Client()
    client.force_login(owner)
    page = client.get(f"/ocop/co-so/tem/{batch.code}/").content.decode()
    assert f'value="{done}"' in page
    assert f'max="{HALF_A_MILLION}"' in page
    assert 'hx-trigger="every 3s"' in page

    # The next run finishes it, from where it stopped.
    monkeypatch.setattr(services, "_stamps_insert", real)
    assert stamps_issue(batch.pk) == HALF_A_MILLION - done
    assert stamps_issue(batch.pk) == 0  # a run too many issues nothing
    batch.refresh_from_db()
    assert (batch.state, batch.issued) == (BatchState.ISSUED, HALF_A_MILLION)
    numbers = Stamp.objects.filter(batch=batch).aggregate(low=Min("number"), high=Max("number"))
    assert numbers == {"low": 1, "high": HALF_A_MILLION}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(DISTINCT serial), MIN(LENGTH(serial)) "
            "FROM products_stamp WHERE batch_id = %s",
            [batch.pk],
        )
        assert cursor.fetchone() == (HALF_A_MILLION, HALF_A_MILLION, 16)
    assert Batch.objects.get(pk=batch.pk).sheets.count() == 0  # 250 parts: made when asked
