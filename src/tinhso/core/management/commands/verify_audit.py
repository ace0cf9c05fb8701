from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tinhso.core.audit import audit_verify


class Command(BaseCommand):
    help = "Check the whole audit hash chain; exit non-zero naming the first bad entry."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if report.problem is not None:
            where = f"entry #{report.problem.seq}"
            if report.problem.entry_id is not None:
                where += f" (id {report.problem.entry_id})"
            raise CommandError(
                f"Audit chain BROKEN at {where}: {report.problem.reason}. "
                f"{report.checked} entries before it are intact."
            )
        self.stdout.write(
            f"Audit chain intact: {report.checked} entries; head #{report.head_seq} "
            f"{report.head_hash}"
        )
        self.stdout.write("Record the head hash outside this database to anchor the chain.")
