"""Numbering (core.numbering): the next number of a register, per scope and period,
gap-free under concurrency, a rolled-back take given back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from django.db import connection, connections, transaction

from tinhso.core.models import NumberSequence
from tinhso.core.numbering import Period, sequence_next

DAY = date(2026, 12, 31)


def take(register: str = "test", scope: str = "", period: Period = Period.NEVER,
         day: date | None = DAY) -> int:  # fmt: skip
    with transaction.atomic():
        return sequence_next(register=register, scope=scope, period=period, day=day)


def take_and_roll_back(register: str = "test") -> int:
    with transaction.atomic():
        number = sequence_next(register=register)
        transaction.set_rollback(True)  # as when the caller's work fails after the take
    return number


@pytest.mark.django_db
def test_numbers_run_per_register_scope_and_period() -> None:
    assert [take(), take(), take()] == [1, 2, 3]
    assert take(register="other") == 1
    assert take(scope="agency 2") == 1
    assert [take(period=Period.DAILY), take(period=Period.DAILY)] == [1, 2]
    assert take(period=Period.DAILY, day=date(2027, 1, 1)) == 1
    assert take(period=Period.YEARLY, day=date(2026, 1, 1)) == 1
    assert take(period=Period.YEARLY, day=DAY) == 2  # the same year
    assert take(period=Period.YEARLY, day=date(2027, 1, 1)) == 1
    with pytest.raises(ValueError, match="needs the day"):
        take(period=Period.DAILY, day=None)


@pytest.mark.django_db
def test_a_rolled_back_take_gives_its_number_back() -> None:
    assert take() == 1
    assert take_and_roll_back() == 2
    assert take() == 2
    assert NumberSequence.objects.get(register="test").last == 2


@pytest.mark.django_db(transaction=True)
def test_a_number_is_never_taken_outside_a_transaction() -> None:
    """Taken in autocommit, a number would be committed before its caller's work, and lost
    if that work failed."""
    with pytest.raises(transaction.TransactionManagementError):
        sequence_next(register="test")
    assert not NumberSequence.objects.exists()


TAKERS = 50


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rolled_back", [0, 10])
def test_concurrent_takers_get_every_number_once_without_gaps(rolled_back: int) -> None:
    """50 takers at the same moment, on one register of one agency and day: the ones that
    commit hold exactly 1..n (no duplicate, no gap), the numbers of those that roll back
    having gone to others."""
    barrier = threading.Barrier(TAKERS)
    rolls_back = set(range(0, TAKERS, TAKERS // rolled_back)) if rolled_back else set()
    kept: list[int] = []

    def taker(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            with transaction.atomic():
                number = sequence_next(register="dossier", scope="7", period=Period.DAILY, day=DAY)
                if n in rolls_back:
                    transaction.set_rollback(True)
                else:
                    kept.append(number)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=TAKERS) as pool:
        list(pool.map(taker, range(TAKERS)))
    committed = TAKERS - rolled_back
    assert sorted(kept) == list(range(1, committed + 1))
    assert NumberSequence.objects.get(register="dossier", scope="7").last == committed


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="numbers aside need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_numbers_with_gaps_are_held_by_two_transactions_at_once(settings: Any) -> None:
    """Dossier codes (ADR 0025): A takes a number and keeps its transaction open; B takes
    the next and commits meanwhile, without waiting for A. A then rolls back: its number is
    not given again (a gap), the next taker gets the one after B's."""
    settings.TINHSO_NUMBERING_ASIDE = True
    a_took, b_done = threading.Event(), threading.Event()
    taken: dict[str, int] = {}
    a_saw_b: list[bool] = []
    errors: list[BaseException] = []

    def gappy() -> int:
        return sequence_next(register="dossier", scope="7", period=Period.DAILY, day=DAY, gaps=True)

    def a() -> None:
        try:
            with transaction.atomic():
                taken["a"] = gappy()
                a_took.set()
                a_saw_b.append(b_done.wait(10))
                transaction.set_rollback(True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def b() -> None:
        try:
            assert a_took.wait(10)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")
            with transaction.atomic():
                taken["b"] = gappy()
            b_done.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert a_saw_b == [True]
    assert (taken["a"], taken["b"]) == (1, 2)
    with transaction.atomic():
        assert gappy() == 3
    # Gap-free registers keep their numbers in the caller's transaction even so.
    assert take_and_roll_back() == 1
    assert take() == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="numbers aside need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_with_gaps_get_unique_increasing_numbers(settings: Any) -> None:
    """50 takers at once, a fifth of them rolling back: every number is taken once, and
    each taker's numbers grow."""
    settings.TINHSO_NUMBERING_ASIDE = True
    barrier = threading.Barrier(TAKERS)
    kept: list[int] = []
    everyone: list[list[int]] = []

    def taker(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            mine = []
            for _ in range(2):
                with transaction.atomic():
                    number = sequence_next(
                        register="dossier", scope="8", period=Period.DAILY, day=DAY, gaps=True
                    )
                    mine.append(number)
                    if n % 5 == 0:
                        transaction.set_rollback(True)
                    else:
                        kept.append(number)
            everyone.append(mine)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=TAKERS) as pool:
        list(pool.map(taker, range(TAKERS)))
    numbers = sorted(n for mine in everyone for n in mine)
    assert numbers == list(range(1, 2 * TAKERS + 1))
    assert all(first < second for first, second in everyone)
    assert len(kept) == len(set(kept)) == 2 * (TAKERS - TAKERS // 5)
    assert NumberSequence.objects.get(register="dossier", scope="8").last == 2 * TAKERS


@pytest.mark.django_db
@pytest.mark.parametrize("aside", [True, False])
def test_a_submission_numbers_its_dossier_before_or_after_its_work_as_the_row_is_held(
    settings: Any, citizen: Any, aside: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where taking a number keeps the agency's daily row locked to the end of the
    transaction (PostgreSQL with numbers aside switched off, or a gap-free register), the
    submission takes it last; otherwise first, saving an UPDATE. The code is the same."""
    from django.test.utils import CaptureQueriesContext

    from test_submission import CODE_RE, submission
    from tinhso.core import numbering
    from tinhso.core.numbering import sequence_holds_row
    from tinhso.dossiers.services import dossier_submit

    settings.TINHSO_NUMBERING_ASIDE = aside
    # Aside, but in this test's own transaction (rolled back with it): what is tested here
    # is where the submission takes its number, not the side connection (tested above).
    monkeypatch.setattr(numbering, "_take_aside", numbering._upsert)
    postgres = connection.vendor == "postgresql"
    assert sequence_holds_row(gaps=True) is (postgres and not aside)
    assert sequence_holds_row(gaps=False) is postgres
    with CaptureQueriesContext(connection) as queries:
        dossier = dossier_submit(submission=submission(citizen))
    assert CODE_RE.match(dossier.code)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    code_updated = any('SET "code"' in sql for sql in updates)
    assert code_updated is (postgres and not aside)
