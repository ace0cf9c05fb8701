"""The demo province comes with dossiers in every status over the past months."""

import pytest
from django.core.management import call_command

from tinhso.core.audit import audit_verify
from tinhso.dossiers.demo import demo_dossiers_seed
from tinhso.dossiers.models import Dossier, DossierStatus, Rating

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_every_status_with_events_forms_and_figures() -> None:
    made = demo_dossiers_seed()
    assert made >= 30
    statuses = set(Dossier.objects.values_list("status", flat=True))
    assert statuses >= set(DossierStatus.values) - {DossierStatus.DRAFT}
    returned = Dossier.objects.filter(status=DossierStatus.RETURNED).first()
    assert returned is not None
    assert returned.events.count() >= 6
    assert returned.documents.filter(kind="BM01").exists()
    assert Rating.objects.exists()
    assert Dossier.objects.filter(status=DossierStatus.REFUSED, documents__kind="BM03").exists()
    assert demo_dossiers_seed() == 0  # only once
    assert audit_verify().ok


def test_the_seed_command_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo")
    count = Dossier.objects.count()
    call_command("seed_demo")
    assert Dossier.objects.count() == count > 0
