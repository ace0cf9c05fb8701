import os
from pathlib import Path
from typing import Any

from cryptography import x509
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.signing.models import CertificateKind
from tinhso.signing.pki import (
    PkiError,
    certificate_import_pkcs12,
    certificate_store,
    crl_import,
)


class Command(BaseCommand):
    help = (
        "Import a real deployment's certificates: a trust root or CA (--ca FILE.pem), a CRL "
        "(--crl FILE), or an agency's seal / an official's personal key and certificate "
        "(--p12 FILE with --agency CODE or --user NAME; its passphrase from the environment "
        "variable named by --passphrase-env)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ca", type=Path)
        parser.add_argument("--crl", type=Path)
        parser.add_argument("--p12", type=Path)
        parser.add_argument("--agency", help="agency e-ID code (a seal certificate)")
        parser.add_argument("--user", help="official's user name (a personal certificate)")
        parser.add_argument("--passphrase-env", default="TINHSO_IMPORT_PASSPHRASE")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["ca"]:
                cert = x509.load_pem_x509_certificate(options["ca"].read_bytes())
                kind = (
                    CertificateKind.ROOT_CA
                    if cert.issuer == cert.subject
                    else CertificateKind.ISSUING_CA
                )
                row = certificate_store(cert, kind=kind)
                self.stdout.write(f"Imported {row.get_kind_display()}: {row}")
            if options["crl"]:
                crl = crl_import(options["crl"].read_bytes())
                self.stdout.write(f"Imported CRL number {crl.number} of {crl.issuer}")
            if options["p12"]:
                self._p12(options)
        except (OSError, ValueError, PkiError) as exc:
            raise CommandError(str(exc)) from exc

    def _p12(self, options: dict[str, Any]) -> None:
        passphrase = os.environ.get(options["passphrase_env"], "").encode()
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']}.")
            membership = user.memberships.filter(is_active=True).first()
            row = certificate_import_pkcs12(
                path=options["p12"], passphrase=passphrase, kind=CertificateKind.PERSONAL,
                user=user, agency=membership.agency if membership else None,
            )  # fmt: skip
        elif options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError(f"No agency {options['agency']}.")
            row = certificate_import_pkcs12(
                path=options["p12"], passphrase=passphrase, kind=CertificateKind.SEAL,
                agency=agency,
            )  # fmt: skip
        else:
            raise CommandError("--p12 needs --agency or --user.")
        self.stdout.write(f"Imported {row.get_kind_display()}: {row}")
