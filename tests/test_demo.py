"""The demo province comes with dossiers in every status over the past months."""

from typing import Any

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


def test_every_module_adds_its_demo_steps_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    from tinhso.core.demo import demo_is_empty, demo_steps

    assert [s.name for s in demo_steps()] == [
        "agencies.province", "agencies.boundaries", "accounts.registry", "accounts.accounts",
        "dossiers.workflow", "documents.workflows", "feedback.workflow", "feedback.categories",
        "products.workflows", "products.officials", "documents.officials", "catalog.procedures",
        "dossiers.stored_papers", "signing.pki", "payments.accounts", "dossiers.dossiers",
        "feedback.reports", "products.catalogue", "documents.records", "signing.revocation",
        "payments.payments", "opendata.portal",
    ]  # fmt: skip
    assert not demo_is_empty()
    call_command("seed_demo", "--if-empty")
    assert "already has data" in capsys.readouterr().out


def test_the_demo_results_of_hoang_hoa_are_signed_by_the_certificate_revoked_later(
    settings: Any,
) -> None:
    from django.test import Client

    from tinhso.core.models import PendingDocument, PendingDocumentState
    from tinhso.signing.models import Certificate, Signature

    # As `make run` has it: documents queued for a worker, not issued in the request.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    call_command("seed_demo")
    left = PendingDocument.objects.filter(state=PendingDocumentState.PENDING)
    assert set(left.values_list("kind", flat=True)) <= {"payments.receipt"}  # paid after it
    revoked = Certificate.objects.get(user__username="lanhdao.hoanghoa", revoked_at__isnull=False)
    signed = Signature.objects.filter(certificate=revoked).select_related("document")
    assert signed.exists()
    for signature in signed:
        assert signature.signed_at < revoked.revoked_at
    page = Client().get(f"/xac-thuc/{signed[0].document.public_id}/").content.decode()
    assert "thu hồi" in page  # the verification page says the certificate was revoked
