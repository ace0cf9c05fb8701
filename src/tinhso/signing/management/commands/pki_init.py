from typing import Any

from django.core.management.base import BaseCommand

from tinhso.signing.demo import demo_pki_seed


class Command(BaseCommand):
    help = (
        "Create the demo PKI: root and issuing CA, a seal certificate for each agency with "
        "officials, a personal certificate for each leader and clerk, and the CRLs (adds "
        "only what is missing). Keys go to the database, encrypted with TINHSO_KEY_ENCRYPTION_KEY."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        made = demo_pki_seed()
        self.stdout.write(f"PKI: {made} certificates issued.")
