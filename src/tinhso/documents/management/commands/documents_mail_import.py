"""Bring in the e-mailed documents a mail fetcher left in a folder (one .eml file each) for
one agency, as its clerk: each becomes an incoming document waiting to be registered
(documents.mail). Files brought in are moved to `--done`; refused ones stay, and why is
printed.

    tinhso documents_mail_import --agency 000.00.04.H56 --clerk vanthu.tuphap \\
        --done /var/mail/vanthu/done /var/mail/vanthu/new/*.eml
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.errors import DomainError
from tinhso.documents.mail import mail_import


class Command(BaseCommand):
    help = "Bring in e-mailed documents (.eml files) as incoming documents of an agency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--agency", required=True, help="the agency's code")
        parser.add_argument("--clerk", required=True, help="the clerk's user name")
        parser.add_argument("--done", type=Path, help="where files brought in are moved")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(code=options["agency"]).first()
        clerk = User.objects.filter(username=options["clerk"]).first()
        if agency is None or clerk is None:
            raise CommandError("No such agency or clerk.")
        done = Path(options["done"]) if options["done"] else None
        if done is not None:
            done.mkdir(parents=True, exist_ok=True)
        taken = refused = 0
        for path in map(Path, options["files"]):
            try:
                incoming = mail_import(actor=clerk, agency=agency, raw=path.read_bytes())
            except DomainError as exc:
                refused += 1
                reasons = "; ".join(m for ms in (exc.errors or {}).values() for m in ms)
                self.stderr.write(f"{path}: {exc.message} {reasons}".strip())
                continue
            taken += 1
            self.stdout.write(f"{path}: {incoming.notation} — {incoming.subject[:80]}")
            if done is not None:
                path.rename(done / path.name)
        self.stdout.write(f"{taken} brought in, {refused} refused.")
        if refused and not taken:
            raise CommandError("Nothing was brought in.")
