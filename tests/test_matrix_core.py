"""The permission matrix of the platform's own pages and endpoints (tests/permissions.py):
the home page, /healthz, the language switch, the API's document and root, the audit
chain's checkpoints, the working-day calendar and the figures. All public, and none of
them shows anyone's personal data."""

from __future__ import annotations

import pytest
from django.test import Client

from permissions import EVERYONE, PUBLIC_MARKERS, Route, Scene, check_route, hac_thanh, route_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _checkpointed(scene: Scene) -> None:
    """The applicant's dossier and payment in the audit chain and the figures, and a
    checkpoint of the chain after them."""
    import io

    from django.core.management import call_command

    from tinhso.core.models import AuditCheckpoint

    scene.payment  # noqa: B018
    call_command("audit_checkpoint", stdout=io.StringIO())
    assert AuditCheckpoint.objects.exists()


def _agency(scene: Scene, actor: str) -> dict[str, object]:
    return {"agency": hac_thanh().code}


ROUTES = [
    Route("GET", "", name="home", limited=EVERYONE),
    Route("GET", "healthz", limited=EVERYONE),
    # The phone web app: its manifest, its service worker and the offline page.
    Route("GET", "manifest.webmanifest", limited=EVERYONE),
    Route("GET", "sw.js", limited=EVERYONE),
    Route("GET", "ngoai-tuyen/", name="the offline page", limited=EVERYONE),
    Route("POST", "i18n/setlang/", name="language switch", limited=EVERYONE, ok=(302,),
          data={"language": "en", "next": "/"}),
    Route("GET", "api/v1/openapi.json", limited=EVERYONE),
    Route("GET", "api/v1/docs", limited=EVERYONE),
    Route("GET", "api/v1/", name="the API's root answers nothing"),
    Route("GET", "/api/v1/audit/checkpoints", limited=EVERYONE, before=_checkpointed,
          markers=lambda s: PUBLIC_MARKERS),
    Route("GET", "/api/v1/calendar/due", limited=EVERYONE,
          data=lambda s, a: {**_agency(s, a), "start": "2026-03-02T09:00:00+07:00", "days": 5}),
    # Figures hold no personal data: anyone reads them, for any agency.
    Route("GET", "/api/v1/figures", limited=EVERYONE, before=_checkpointed,
          data=lambda s, a: {**_agency(s, a), "start": "2026-01-01", "end": "2026-12-31"}),
    # What the figures are: the declared indicators, their names and units.
    Route("GET", "/api/v1/indicators", limited=EVERYONE, markers=lambda s: PUBLIC_MARKERS),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
