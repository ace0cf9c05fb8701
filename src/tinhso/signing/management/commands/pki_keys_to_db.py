from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from tinhso.signing.models import Certificate
from tinhso.signing.pki import PkiError, key_file_to_db


class Command(BaseCommand):
    help = (
        "Move the PKCS#12 key files under TINHSO_PKI_DIR into the database, encrypted with "
        "TINHSO_KEY_ENCRYPTION_KEY (ADR 0024), so every server can sign. Each key is moved "
        "in its own transaction and audited; its file is removed afterwards (--keep-files "
        "to keep them). Running it again moves only what is left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep-files", action="store_true", help="do not remove the files")

    def handle(self, *args: Any, **options: Any) -> None:
        moved = failed = 0
        for row in Certificate.objects.filter(key_uri__startswith="pkcs12:").order_by("pk"):
            try:
                with transaction.atomic():
                    path = key_file_to_db(row)
            except (PkiError, OSError, ValueError) as exc:
                failed += 1
                self.stderr.write(f"{row}: {exc}")
                continue
            moved += 1
            if not options["keep_files"]:
                path.unlink(missing_ok=True)
        self.stdout.write(f"{moved} key(s) moved into the database, {failed} left as files.")
        if failed:
            raise SystemExit(1)
