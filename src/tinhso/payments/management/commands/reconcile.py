from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tinhso.payments.reconcile import StatementError, reconcile_day


class Command(BaseCommand):
    help = (
        "Reconcile a day's bank statement (CSV: transaction_id, reference, amount) against the "
        "transactions recorded from the bank's notifications; exits 1 when they differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("statement", type=Path)
        parser.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD (today)")

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["date"] or timezone.localdate()
        try:
            report = reconcile_day(day, options["statement"].read_bytes())
        except (OSError, StatementError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{day}: {report.matched} matched; statement {report.statement_total:,} đ, "
            f"recorded {report.recorded_total:,} đ; {len(report.differences)} differences"
        )
        for d in report.differences:
            self.stdout.write(
                f"  {d.kind:20} {d.transaction_id:24} {d.reference:14} "
                f"bank={d.statement_amount} platform={d.recorded_amount}"
            )
        if report.differences:
            raise SystemExit(1)
