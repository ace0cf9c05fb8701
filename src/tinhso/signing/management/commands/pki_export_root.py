from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tinhso.signing.pki import root_certificates


class Command(BaseCommand):
    help = "Print the trusted root certificates (PEM), e.g. to add to an NSS or OpenSSL store."

    def handle(self, *args: Any, **options: Any) -> None:
        roots = root_certificates()
        if not roots:
            raise CommandError("No root certificate: run `tinhso pki_init` or `pki_import`.")
        for root in roots:
            self.stdout.write(root.pem.strip())
