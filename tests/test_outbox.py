"""The outbox's delivery runs (core.outbox): each run claims its messages first, then
delivers each in a transaction of its own, so no lock is held across a batch, a run that
dies keeps what it delivered, and two runs never deliver one message twice."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tinhso.core import outbox
from tinhso.core.models import OutboxMessage

TOPIC = "test.record"


class _Killed(BaseException):
    """The worker process killed in the middle of a handler (not an error it catches)."""


def _queue(count: int) -> list[int]:
    with transaction.atomic():
        return [outbox.outbox_put(topic=TOPIC, payload={"n": n}).pk for n in range(count)]


def _handled(monkeypatch: pytest.MonkeyPatch, handler: outbox.Handler) -> None:
    monkeypatch.setitem(outbox._HANDLERS, TOPIC, handler)


@pytest.mark.django_db
def test_a_run_that_dies_keeps_what_it_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third = _queue(3)
    calls: list[int] = []

    def handler(payload: dict[str, Any]) -> None:
        calls.append(payload["n"])
        if payload["n"] == 1 and calls.count(1) == 1:
            raise _Killed

    _handled(monkeypatch, handler)
    with pytest.raises(_Killed):
        outbox.outbox_deliver_pending()
    assert OutboxMessage.objects.get(pk=first).delivered_at is not None
    waiting = OutboxMessage.objects.filter(pk__in=[second, third])
    assert not waiting.filter(delivered_at__isnull=False).exists()
    # Still held by the dead run: nobody takes them until its lease ends.
    assert all(m.leased_until > timezone.now() + outbox.LEASE / 2 for m in waiting)
    assert outbox.outbox_deliver_pending() == 0
    waiting.update(leased_until=timezone.now())  # the lease ends
    assert outbox.outbox_deliver_pending() == 2
    # The first message's handler ran once: what was delivered is not delivered again.
    assert calls == [0, 1, 1, 2]
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_message_being_delivered_is_not_taken_by_another_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _queue(2)
    calls: list[int] = []
    meanwhile: list[int] = []

    def handler(payload: dict[str, Any]) -> None:
        calls.append(payload["n"])
        if not meanwhile:
            meanwhile.append(-1)
            meanwhile[0] = outbox.outbox_deliver_pending()  # another run, during this one

    _handled(monkeypatch, handler)
    assert outbox.outbox_deliver_pending() == 2
    assert meanwhile == [0]
    assert calls == [0, 1]


@pytest.mark.django_db
def test_a_failing_message_waits_for_its_retry_and_holds_up_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failing, fine = _queue(2)

    def handler(payload: dict[str, Any]) -> None:
        if payload["n"] == 0:
            raise ConnectionError("SMS gateway down")

    _handled(monkeypatch, handler)
    assert outbox.outbox_deliver_pending() == 1
    message = OutboxMessage.objects.get(pk=failing)
    assert (message.delivered_at, message.attempts) == (None, 1)
    assert message.last_error == "ConnectionError: SMS gateway down"
    assert timedelta(minutes=1) < message.available_at - timezone.now() <= timedelta(minutes=2)
    assert OutboxMessage.objects.get(pk=fine).delivered_at is not None


@pytest.mark.django_db
def test_a_run_past_half_its_lease_gives_the_rest_back(monkeypatch: pytest.MonkeyPatch) -> None:
    _queue(3)
    calls: list[int] = []

    def slow(payload: dict[str, Any]) -> None:
        calls.append(payload["n"])
        # This message took longer than half the lease: the run stops after it.
        monkeypatch.setattr(outbox, "LEASE", timedelta(0))

    _handled(monkeypatch, slow)
    assert outbox.outbox_deliver_pending() == 1
    rest = OutboxMessage.objects.filter(delivered_at__isnull=True)
    assert rest.count() == 2
    # Due again at once, untried.
    assert [(m.leased_until, m.attempts) for m in rest] == [(None, 0), (None, 0)]
    assert all(m.available_at <= timezone.now() for m in rest)
    assert calls == [0]


@pytest.mark.django_db
def test_a_message_that_kills_its_worker_every_time_is_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its attempt is counted as a run takes it: after MAX_ATTEMPTS it waits for an
    operator (/healthz says so) instead of taking a worker down every two minutes."""
    [poison] = _queue(1)

    def handler(payload: dict[str, Any]) -> None:
        raise _Killed

    _handled(monkeypatch, handler)
    for _ in range(outbox.MAX_ATTEMPTS):
        with pytest.raises(_Killed):
            outbox.outbox_deliver_pending()
        OutboxMessage.objects.filter(pk=poison).update(leased_until=timezone.now())
    assert outbox.outbox_deliver_pending() == 0
    assert OutboxMessage.objects.get(pk=poison).attempts == outbox.MAX_ATTEMPTS
    assert outbox.outbox_backlog().gave_up == 1


@pytest.mark.django_db
def test_a_run_schedules_a_later_run_for_retries_not_for_another_runs_lease(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages another run holds are that run's business: no run is scheduled for the end
    of its lease (runs would chain for nothing); a failure's retry gets one."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _handled(monkeypatch, lambda payload: None)
    [held] = _queue(1)
    OutboxMessage.objects.filter(pk=held).update(
        leased_until=timezone.now() + outbox.LEASE, attempts=1
    )
    runs = DBTaskResult.objects.filter(task_path=outbox.outbox_dispatch.module_path)
    runs.delete()
    assert outbox.outbox_dispatch.call() == 0
    assert not runs.exists()
    [failed] = _queue(1)
    runs.delete()
    OutboxMessage.objects.filter(pk=failed).update(
        attempts=1, available_at=timezone.now() + timedelta(minutes=2)
    )
    assert outbox.outbox_dispatch.call() == 0
    [later] = runs
    assert later.run_after is not None
    assert later.run_after > timezone.now() + timedelta(minutes=1)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite is embedded: the processes sharing it read one machine's clock",
)
@pytest.mark.django_db
def test_a_server_whose_clock_runs_ahead_takes_no_live_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Leases are set and read on the database's clock: a worker on a server five minutes
    ahead (more than the lease) neither takes messages another run holds nor hands out
    leases that end early for the others."""
    first, second = _queue(2)
    calls: list[int] = []

    def killed_after_the_first(payload: dict[str, Any]) -> None:
        calls.append(payload["n"])
        if payload["n"] == 1:
            raise _Killed

    _handled(monkeypatch, killed_after_the_first)
    with pytest.raises(_Killed):
        outbox.outbox_deliver_pending()  # this run holds the second message's lease
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=5))
    assert outbox.outbox_deliver_pending() == 0  # the server ahead takes nothing
    assert not outbox.outbox_nudge()  # nor sees anything due
    held = OutboxMessage.objects.get(pk=second)
    assert (held.attempts, held.delivered_at) == (1, None)
    # Its lease ends two minutes after the claim on the database's clock.
    assert timedelta(minutes=1) < held.leased_until - real_now() <= outbox.LEASE
    assert OutboxMessage.objects.get(pk=first).delivered_at is not None
    assert calls == [0, 1]


def _run_in_thread() -> int:
    try:
        return outbox.outbox_deliver_pending(limit=5)
    finally:
        connections.close_all()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel runs need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_runs_deliver_every_message_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def handler(payload: dict[str, Any]) -> None:
        time.sleep(0.01)  # a gateway's round trip
        with lock:
            seen.append(payload["n"])

    _handled(monkeypatch, handler)
    # Written without asking for a run (no on-commit delivery): the four runs below race.
    now = timezone.now()
    ids = [
        m.pk
        for m in OutboxMessage.objects.bulk_create(
            OutboxMessage(topic=TOPIC, payload={"n": n}, available_at=now) for n in range(40)
        )
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        while OutboxMessage.objects.filter(pk__in=ids, delivered_at__isnull=True).exists():
            list(pool.map(lambda _: _run_in_thread(), range(4)))
    assert sorted(seen) == list(range(40))
    assert set(OutboxMessage.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_a_notification_on_every_channel_is_written_in_two_statements(citizen: Any) -> None:
    """notify() writes the rows of every channel in one statement and their deliveries in
    another (a transition notifies on two or three channels), and nothing if it rolls back."""
    from django.test.utils import CaptureQueriesContext

    from tinhso.core.models import Notification
    from tinhso.core.notifications import notify

    citizen.email = "an@example.vn"
    assert citizen.phone
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        created = notify(user=citizen, subject="Hồ sơ đã tiếp nhận", body="…", link="/x")
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2, inserts
    assert [n.channel for n in created] == ["inbox", "sms", "email"]
    assert all(n.pk for n in created)
    queued = OutboxMessage.objects.filter(topic="notification.send", delivered_at__isnull=True)
    assert sorted(m.payload["id"] for m in queued) == sorted(n.pk for n in created)
    assert outbox.outbox_deliver_pending() == 3
    assert (
        Notification.objects.filter(pk__in=[n.pk for n in created], sent_at__isnull=True).count()
        == 0
    )

    before = (Notification.objects.count(), OutboxMessage.objects.count())

    def fails_after_notifying() -> None:
        with transaction.atomic():
            notify(user=citizen, subject="x", body="x")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fails_after_notifying()
    assert (Notification.objects.count(), OutboxMessage.objects.count()) == before


@pytest.mark.django_db(transaction=True)
def test_the_run_a_change_asks_for_commits_with_the_change_or_not_at_all(
    settings: Any,
) -> None:
    """With the task queue in the database, the delivery run's row is written in the
    transaction of the change that queued the message: it is there as soon as the message
    is (no commit of its own, no crash between the two), and a change rolled back leaves
    neither. With a backend elsewhere (here the immediate one), the run is asked for after
    the commit, as before."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    runs = DBTaskResult.objects.filter(task_path=outbox.outbox_dispatch.module_path)
    seen: list[int] = []

    def change_that_fails() -> None:
        with transaction.atomic():
            outbox.outbox_put(topic=TOPIC, payload={"n": 1})
            seen.append(runs.count())  # inside the change's own transaction
            raise _Killed

    with pytest.raises(_Killed):
        change_that_fails()
    assert seen == [1]
    assert not runs.exists()
    assert not OutboxMessage.objects.exists()
    with transaction.atomic():
        outbox.outbox_put(topic=TOPIC, payload={"n": 2})
    assert runs.count() == 1
    assert OutboxMessage.objects.count() == 1
    asked: list[str] = []
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with transaction.atomic():
        transaction.on_commit(lambda: asked.append("commit"))
        outbox.enqueue_with_change(outbox.outbox_dispatch, lambda: asked.append("run"))
        assert asked == []  # not a database queue: asked for after the commit
    assert asked == ["commit", "run"]
