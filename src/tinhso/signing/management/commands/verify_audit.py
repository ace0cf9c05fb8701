from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.core.audit import audit_seal
from tinhso.signing.checkpoints import CheckpointError, audit_verify_anchored, checkpoints_load


class Command(BaseCommand):
    help = (
        "Check the whole audit hash chain against its signed checkpoints; exit non-zero "
        "naming the first bad entry or checkpoint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints", metavar="FILE", type=Path,
            help="also check against an exported copy (`audit_checkpoint --export`): a "
            "checkpoint deleted from the database is then found too",
        )  # fmt: skip
        parser.add_argument(
            "--trust-roots", metavar="PEM", type=Path,
            help="trust only these root certificates for the checkpoints' signatures (the "
            "root you keep outside the database, from `pki_export_root`)",
        )  # fmt: skip
        parser.add_argument(
            "--no-seal", action="store_true",
            help="do not chain the entries appended since the sealer last ran before "
            "checking (for a read-only replica): they are only counted",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            exported = checkpoints_load(options["checkpoints"]) if options["checkpoints"] else []
            roots = options["trust_roots"].read_bytes() if options["trust_roots"] else None
        except (CheckpointError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if not options["no_seal"]:
            # What the worker does within seconds, done now: everything committed is checked.
            sealing = audit_seal()
            if sealing.refused is not None:
                self.stderr.write(f"Entries appended lately were not sealed: {sealing.refused}.")
        report = audit_verify_anchored(exported=exported, roots_pem=roots)
        problem = report.problem
        if problem is not None:
            if problem.checkpoint is not None:
                raise CommandError(f"Audit checkpoint BAD: {problem.reason}.")
            where = f"entry #{problem.seq}"
            if problem.entry_id is not None:
                where += f" (id {problem.entry_id})"
            raise CommandError(
                f"Audit chain BROKEN at {where}: {problem.reason}. "
                f"{report.checked} entries before it are intact."
            )
        self.stdout.write(
            f"Audit chain intact: {report.checked} entries; head #{report.head_seq} "
            f"{report.head_hash}"
        )
        if report.unsealed:
            self.stdout.write(
                f"{report.unsealed} entries appended since are not sealed yet and were not checked."
            )
        if report.anchored_seq is None:
            self.stdout.write(
                "No signed checkpoint yet: run `tinhso audit_checkpoint` to anchor the chain."
            )
        else:
            self.stdout.write(
                f"{report.checkpoints} signed checkpoints verified; the chain matches them up "
                f"to entry #{report.anchored_seq}. Keep an export of them outside this "
                "database (`tinhso audit_checkpoint --export FILE`)."
            )
