"""Row locks taken in one fixed order, so that two transactions touching the same records
never wait for each other in a circle (a deadlock on PostgreSQL).

Every writer that locks rows of more than one model goes through `lock_rows`: models are
locked in the order of their rank (`lock_rank_register`, in AppConfig.ready: a case before
the records hanging from it), and rows of one model by primary key, as Saleor's
`lock_objects` does. A withdrawal (dossier, then its payments) and a bank credit (the
payment's dossier, then the payment) then queue on the dossier row instead of each holding
what the other needs.

    [dossier], [payment] = lock_rows(Dossier.objects.filter(pk=d), Payment.objects.filter(pk=p))
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

_RANKS: dict[type[models.Model], int] = {}


def lock_rank_register(model: type[models.Model], rank: int) -> None:
    """Lower ranks are locked first."""
    _RANKS[model] = rank


def lock_rows(*querysets: models.QuerySet[Any]) -> list[list[Any]]:
    """Lock the rows of each queryset (SELECT … FOR UPDATE, this model's rows only), models
    by rank and rows by primary key, in the current transaction; returns, per queryset, the
    locked rows as they are now. Call it inside `transaction.atomic()`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_rows needs a transaction (transaction.atomic()).")
    unknown = [qs.model.__name__ for qs in querysets if qs.model not in _RANKS]
    if unknown:
        raise LookupError(f"No lock rank for {', '.join(unknown)} (lock_rank_register).")
    order = sorted(range(len(querysets)), key=lambda i: _RANKS[querysets[i].model])
    locked: dict[int, list[Any]] = {}
    for index in order:
        locked[index] = list(querysets[index].select_for_update(of=("self",)).order_by("pk"))
    return [locked[i] for i in range(len(querysets))]
