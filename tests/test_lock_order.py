"""One lock order (core.locks): a citizen withdrawing a dossier and the bank crediting its
fee at the same moment never deadlock on PostgreSQL, and each race ends in exactly one of
the two coherent outcomes.

Before the platform layer, the withdrawal updated the dossier and then locked its
payments, while the credit locked the payment and then moved the dossier: two transactions
each holding what the other waited for.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from test_payments import pending, waiting_for_payment
from tinhso.accounts.models import User
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.transitions import TransitionConflictError, dossier_act
from tinhso.payments.bank import SimulatedBank
from tinhso.payments.models import Outcome, Payment, PaymentState, Review
from tinhso.payments.services import notification_receive

ROUNDS = 50
# Only a hang guard: a deadlock PostgreSQL did not detect would block the test forever.
HANG = 120


def _in_process(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    received = notification_receive(body=body, headers=headers)
    return received.status, received.outcome


def _race(dossier_pk: int, citizen_pk: int) -> dict[str, Any]:
    dossier = Dossier.objects.get(pk=dossier_pk)
    payment = dossier.payments.get(state=PaymentState.PENDING)
    citizen = User.objects.get(pk=citizen_pk)
    start = threading.Barrier(2)
    result: dict[str, Any] = {}

    def withdraw() -> None:
        try:
            start.wait()
            dossier_act(dossier=dossier, actor=citizen, action="withdraw", version=dossier.version)
            result["withdraw"] = "done"
        except TransitionConflictError:
            result["withdraw"] = "conflict"
        except Exception as exc:
            result["withdraw"] = repr(exc)
        finally:
            connections.close_all()

    def credit() -> None:
        try:
            start.wait()
            _status, outcome = SimulatedBank(transport=_in_process).pay(payment.vietqr())
            result["credit"] = outcome
        except Exception as exc:
            result["credit"] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=withdraw), threading.Thread(target=credit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG)
        assert not thread.is_alive(), "a transaction is still waiting: deadlock"
    dossier.refresh_from_db()
    payment = Payment.objects.get(pk=payment.pk)
    result.update(status=dossier.status, state=payment.state, review=payment.review)
    return result


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_a_withdrawal_racing_a_bank_credit_never_deadlocks() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the writers: nothing races (run on PostgreSQL)")
    citizen = User.objects.get(username="038090000001")
    withdrawn_first = credited_first = 0
    for round_ in range(ROUNDS):
        dossier = waiting_for_payment(citizen)
        assert pending(dossier).state == PaymentState.PENDING
        result = _race(dossier.pk, citizen.pk)
        # The withdrawal won: the dossier ended, its payment was cancelled, and the money
        # that still arrived is held for the accountant to refund.
        withdrawal_won = result == {
            "withdraw": "done", "credit": Outcome.LATE, "status": DossierStatus.WITHDRAWN,
            "state": PaymentState.CANCELLED, "review": Review.PAID_AFTER_EXPIRY,
        }  # fmt: skip
        # The credit won: the fee is paid, the dossier moved on, and the withdrawal (made
        # on the dossier as it was before) is refused as a conflict: reload and decide.
        credit_won = result == {
            "withdraw": "conflict", "credit": Outcome.CREDITED,
            "status": DossierStatus.PROCESSING, "state": PaymentState.SUCCEEDED,
            "review": Review.NONE,
        }  # fmt: skip
        assert withdrawal_won != credit_won, f"round {round_}: {result}"
        withdrawn_first += withdrawal_won
        credited_first += credit_won
    assert withdrawn_first + credited_first == ROUNDS
