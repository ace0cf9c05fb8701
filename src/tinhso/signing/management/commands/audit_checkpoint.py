import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.core.models import AuditCheckpoint
from tinhso.core.schedule import chain_start
from tinhso.signing.checkpoints import (
    CheckpointError,
    audit_checkpoint_create,
    audit_checkpoint_hourly,
    checkpoints_export,
)


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the audit chain's head with the province People's Committee's "
        "seal (ADR 0017); or schedule one every hour on the worker; or export them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule", action="store_true",
            help="enqueue the hourly task on the worker instead of making one now",
        )  # fmt: skip
        parser.add_argument(
            "--export", metavar="FILE",
            help="write every checkpoint as JSON to FILE ('-': standard output), for a copy "
            "kept outside the database (`verify_audit --checkpoints FILE` checks against it)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            chain_start(audit_checkpoint_hourly)
            self.stdout.write("Audit checkpoints scheduled on the task worker (hourly).")
            return
        if options["export"]:
            text = json.dumps(checkpoints_export(), ensure_ascii=False, indent=1) + "\n"
            if options["export"] == "-":
                self.stdout.write(text, ending="")
            else:
                with open(options["export"], "w", encoding="utf-8") as out:
                    out.write(text)
                self.stdout.write(f"{AuditCheckpoint.objects.count()} checkpoints written.")
            return
        try:
            checkpoint = audit_checkpoint_create()
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        if checkpoint is None:
            last = AuditCheckpoint.objects.order_by("-number").first()
            self.stdout.write(
                "Nothing appended since the last checkpoint"
                + (f" ({last.number}, entry #{last.seq})." if last else ".")
            )
            return
        self.stdout.write(
            f"Checkpoint {checkpoint.number}: entry #{checkpoint.seq} {checkpoint.head_hash}, "
            f"sealed by {checkpoint.signer}"
            + (", time-stamped" if checkpoint.timestamped_at else "")
            + "."
        )
