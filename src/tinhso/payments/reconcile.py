"""Daily reconciliation: a bank statement (CSV) of one day against the transactions the
platform recorded from the bank's notifications; every difference listed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.agencies.models import Agency
from tinhso.payments.models import BankTransaction

REQUIRED = ("transaction_id", "amount")


class StatementError(ValueError):
    """A statement that cannot be read (message for the accountant)."""


@dataclass(frozen=True)
class StatementLine:
    transaction_id: str
    reference: str
    amount: int


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_in_platform | missing_in_bank | amount_differs | not_credited
    transaction_id: str
    reference: str
    statement_amount: int | None
    recorded_amount: int | None


@dataclass
class Report:
    day: date
    matched: int = 0
    statement_total: int = 0
    recorded_total: int = 0
    differences: list[Difference] = field(default_factory=list)


def statement_read(content: bytes) -> list[StatementLine]:
    """Lines of a CSV statement with a header naming at least `transaction_id` and `amount`
    (and `reference`); UTF-8 with or without BOM, comma or semicolon."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatementError(_("The statement must be UTF-8 text.")) from exc
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    rows = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [name.strip().lower() for name in rows.fieldnames or []]
    if any(name not in header for name in REQUIRED):
        raise StatementError(_("The statement needs the columns transaction_id and amount."))
    lines = []
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            amount = int(row["amount"].replace(".", "").replace(",", ""))
        except ValueError as exc:
            raise StatementError(
                _("Line %(n)s: the amount %(a)s is not a number.")
                % {"n": number, "a": row["amount"]}
            ) from exc
        if not row["transaction_id"]:
            raise StatementError(_("Line %(n)s has no transaction_id.") % {"n": number})
        lines.append(StatementLine(row["transaction_id"], row.get("reference", ""), amount))
    return lines


def reconcile(
    day: date, lines: Iterable[StatementLine], recorded: Iterable[BankTransaction]
) -> Report:
    report = Report(day=day)
    statement = {line.transaction_id: line for line in lines}
    mine = {t.transaction_id: t for t in recorded}
    report.statement_total = sum(line.amount for line in statement.values())
    report.recorded_total = sum(t.amount for t in mine.values())
    for txn_id, line in sorted(statement.items()):
        ours = mine.get(txn_id)
        if ours is None:
            report.differences.append(
                Difference("missing_in_platform", txn_id, line.reference, line.amount, None)
            )
        elif ours.amount != line.amount:
            report.differences.append(
                Difference("amount_differs", txn_id, line.reference, line.amount, ours.amount)
            )
        elif ours.payment is None or ours.payment.bank_transaction != txn_id:
            # Money the bank and we agree on, but not credited to a payment: held.
            reference = ours.payment.reference if ours.payment else line.reference
            report.differences.append(
                Difference("not_credited", txn_id, reference, line.amount, ours.amount)
            )
        else:
            report.matched += 1
    for txn_id, ours in sorted(mine.items()):
        if txn_id not in statement:
            reference = ours.payment.reference if ours.payment else ""
            report.differences.append(
                Difference("missing_in_bank", txn_id, reference, None, ours.amount)
            )
    return report


def recorded_on(day: date, agencies: Iterable[Agency] | None = None) -> list[BankTransaction]:
    """The transactions recorded on `day`: into the accounts of `agencies` (and those that
    matched no payment, which every accountant sees), or all of them (None: the operator's
    command)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tz)
    recorded = BankTransaction.objects.filter(
        occurred_at__gte=start, occurred_at__lt=start + timedelta(days=1)
    )
    if agencies is not None:
        recorded = recorded.filter(Q(payment__agency__in=list(agencies)) | Q(payment__isnull=True))
    return list(recorded.select_related("payment"))


def reconcile_day(day: date, content: bytes, agencies: Iterable[Agency] | None = None) -> Report:
    """A statement of `day` against what was recorded into the accounts of `agencies` (an
    accountant reconciles their own agency's account: payments.keep), or into every account
    (None)."""
    return reconcile(day, statement_read(content), recorded_on(day, agencies))
