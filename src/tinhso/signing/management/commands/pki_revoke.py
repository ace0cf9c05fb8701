from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.signing.models import Certificate, RevocationReason
from tinhso.signing.pki import PkiError, certificate_revoke


class Command(BaseCommand):
    help = "Revoke a certificate by its serial number (hex) and publish a new CRL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("serial", help="serial number in hexadecimal")
        parser.add_argument(
            "--reason", default=RevocationReason.UNSPECIFIED, choices=RevocationReason.values
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serial = options["serial"].lower().removeprefix("0x").lstrip("0")
        rows = list(Certificate.objects.filter(serial=serial))
        if len(rows) != 1:
            raise CommandError(f"{len(rows)} certificates have serial number {serial}.")
        try:
            row = certificate_revoke(certificate=rows[0], reason=options["reason"])
        except PkiError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Revoked {row} at {row.revoked_at:%Y-%m-%d %H:%M:%S %Z}.")
