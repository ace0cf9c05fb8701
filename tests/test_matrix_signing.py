"""The permission matrix of the signatures' public side (tests/permissions.py): anyone
verifies a document the platform issued (its QR code) or any PDF, and fetches the PKI's
CRLs and CA certificates; what they learn names the document and its signers, never the
applicant's personal data."""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import EVERYONE, PUBLIC_MARKERS, Route, Scene, check_route, route_id
from tinhso.signing.models import Certificate, CertificateKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _issued(scene: Scene) -> dict[str, object]:
    return {"public_id": scene.bm01.signed.public_id}


def _ca(scene: Scene) -> dict[str, object]:
    issuing = Certificate.objects.filter(kind=CertificateKind.ISSUING_CA).first()
    assert issuing is not None
    return {"slug": issuing.fingerprint[:16]}


def _upload(scene: Scene, actor: str) -> dict[str, object]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tinhso.signing.services import signed_content

    pdf = signed_content(scene.bm01.signed)
    return {"file": SimpleUploadedFile("bm01.pdf", pdf, content_type="application/pdf")}


def _public(scene: Scene) -> list[str]:
    return PUBLIC_MARKERS


ROUTES = [
    Route("GET", "xac-thuc/", name="the verification page", limited=EVERYONE),
    Route("POST", "xac-thuc/", name="verifying an upload", limited=EVERYONE, data=_upload,
          markers=_public),
    Route("GET", "xac-thuc/<str:public_id>/", name="what a QR code opens", limited=EVERYONE,
          args=_issued, markers=_public),
    Route("GET", "pki/<str:slug>.crl", limited=EVERYONE, args=_ca),
    Route("GET", "pki/<str:slug>.crt", limited=EVERYONE, args=_ca),
    Route("GET", "/api/v1/verify/{public_id}", limited=EVERYONE, args=_issued,
          markers=_public),
    Route("POST", "/api/v1/verify", limited=EVERYONE, data=_upload, markers=_public),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
