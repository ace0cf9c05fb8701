"""The permission matrix of the payments module (tests/permissions.py), beside what
test_permissions.py states for the notice, the receipt, the API and the accountant's page:
paying again, reconciling and refunding (an agency's accountants, for their agency's
money only), the simulated bank (only in the demo) and the bank's callback (an unsigned
notification is refused, whoever sends it)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from permissions import EVERYONE, PUBLIC_MARKERS, Route, Scene, check_route, route_id
from tinhso.payments.models import Refund

pytestmark = pytest.mark.django_db

ACCOUNTANTS = ("other_accountant",)


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _statement(scene: Scene, actor: str) -> dict[str, object]:
    """An empty statement of the day the applicant paid: every transaction the platform
    recorded that day is a difference, so the page names it."""
    csv = b"transaction_id,reference,amount\r\n"
    return {
        "day": timezone.localdate(scene.payment.paid_at).isoformat(),
        "statement": SimpleUploadedFile("sao-ke.csv", csv, content_type="text/csv"),
    }


def _paid_by_the_applicant(scene: Scene) -> list[str]:
    transaction = scene.payment.transactions.get()
    return [*PUBLIC_MARKERS, scene.payment.reference, transaction.transaction_id]


def _reconciled(scene: Scene, answers: dict) -> None:
    transaction = scene.payment.transactions.get()
    assert transaction.transaction_id in answers["accountant"].content.decode()


def _refunded_once(scene: Scene, answers: dict) -> None:
    assert [r.created_by.username for r in Refund.objects.filter(payment=scene.payment)] == [
        "ketoan.hacthanh"
    ]


ROUTES = [
    # The applicant asks for a new VietQR; this fee is paid, and the page says so.
    Route("POST", "ho-so-cua-toi/<uuid:public_id>/thanh-toan/", name="paying again",
          args=lambda s: {"public_id": s.dossier.public_id}, full={"applicant"}, ok=(302,)),
    # Each agency reconciles its own collection account: the service centre's accountant
    # does not learn what was paid to a commune.
    Route("POST", "can-bo/thanh-toan/doi-soat/", name="reconciling a day",
          data=_statement, full={"accountant"}, limited={"other_accountant"},
          extra=ACCOUNTANTS, markers=_paid_by_the_applicant, check=_reconciled),
    Route("POST", "can-bo/thanh-toan/<str:reference>/hoan-tien/", name="a refund",
          args=lambda s: {"reference": s.payment.reference},
          data={"amount": 1000, "reason": "Nộp thừa"}, full={"accountant"}, ok=(302,),
          extra=ACCOUNTANTS, check=_refunded_once),
    Route("GET", "ngan-hang-mo-phong/", name="the simulated bank, in the demo",
          limited=EVERYONE, settings={"TINHSO_DEMO": True}),
    Route("GET", "ngan-hang-mo-phong/", name="no simulated bank outside the demo",
          settings={"TINHSO_DEMO": False}),
    Route("POST", "/api/v1/payments/callback", name="an unsigned notification", body="json",
          data=lambda s, a: {"transaction_id": f"FT-{a}", "reference": s.payment.reference,
                             "amount": 15000, "status": "succeeded",
                             "occurred_at": "2026-03-02T09:00:00+07:00"},
          refusal=(401,), writes_when_refused="every notification is kept, forged ones too "
          "(ADR 0013)"),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
