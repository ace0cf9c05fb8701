"""The demo province: what `tinhso seed_demo` (and `make run` on an empty database) loads."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from tinhso.accounts.demo import demo_accounts_seed, demo_registry_seed
from tinhso.agencies.models import Agency
from tinhso.agencies.services import province_seed
from tinhso.catalog.models import Procedure
from tinhso.catalog.services import catalog_demo_seed
from tinhso.dossiers.demo import demo_dossiers_seed, demo_stored_papers_seed
from tinhso.dossiers.transitions import workflow_standard_ensure
from tinhso.opendata.demo import demo_opendata_seed
from tinhso.payments.demo import demo_accounts_seed as demo_payment_accounts_seed
from tinhso.payments.demo import demo_payments_seed
from tinhso.signing.demo import demo_pki_seed, demo_revocation_seed


@dataclass(frozen=True)
class DemoResult:
    agencies_created: int
    accounts_created: int


def demo_is_empty() -> bool:
    return not Agency.objects.exists()


def demo_seed(*, dossiers: bool = True) -> DemoResult:
    """Load the demo province and its accounts (and, unless told not to, dossiers in every
    status over the past months). Safe to run again: it only adds what is missing."""
    with transaction.atomic():
        province = province_seed(province_code=settings.TINHSO_PROVINCE_CODE)
        demo_registry_seed()
        accounts = demo_accounts_seed(province=province.province)
        workflow_standard_ensure()
        if not Procedure.objects.exists():
            catalog_demo_seed()
        demo_stored_papers_seed()
        demo_pki_seed()
        demo_payment_accounts_seed()
        if dossiers and demo_dossiers_seed():
            demo_revocation_seed()
            demo_payments_seed()
        demo_opendata_seed()
    return DemoResult(agencies_created=province.created, accounts_created=accounts)
