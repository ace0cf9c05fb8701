"""The permission matrix of the Django admin at /quan-tri/ (tests/permissions.py): staff
only, and no page of it shows a citizen's identity or contact data, the accounts' pages
included (ADR 0015: administrators manage accounts, not people). Every page of every
registered model is requested (its list, add, change, history and delete pages, and the
address that leads to its change page) on a scene where the applicant has a dossier, a
payment and a log of who looked at their data; the catalogue's pages, which the catalogue
editor keeps, are in test_matrix_catalog.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client, RequestFactory

from permissions import EVERYONE, STAFF, Route, Scene, check_route
from tinhso.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def _superuser_may(model_admin: Any, what: str) -> bool:
    """What the ModelAdmin lets even a superuser do (read-only logs cannot be added to)."""
    request = RequestFactory().get("/quan-tri/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    return bool(getattr(model_admin, f"has_{what}_permission")(request))


def _rows(scene: Scene) -> None:
    """A row of every model the admin shows, the applicant's where there can be one: their
    dossier (its payment, receipt, signed forms and audit entries), a look at their data in
    their log, a checkpoint of the audit chain, a worker's heartbeat and a queued task."""
    import io

    from django.core.management import call_command
    from django.test.utils import override_settings
    from django.utils import timezone

    from tinhso.accounts.access import personal_data_access_record
    from tinhso.core.models import PersonalDataAccess, WorkerHeartbeat
    from tinhso.core.outbox import outbox_dispatch

    if PersonalDataAccess.objects.filter(purpose=LOOK).exists():
        return
    scene.dossier  # noqa: B018
    receiver = scene.matrix.people["receiver"]
    assert receiver is not None
    personal_data_access_record(
        official=receiver, citizen=scene.applicant, purpose=LOOK,
        agency=scene.dossier.receiving_agency,
    )  # fmt: skip
    call_command("audit_checkpoint", stdout=io.StringIO())
    # A citizen's report (its category comes with the demo) and an Open311 application.
    from tinhso.feedback.services import open311_client_create

    scene.report  # noqa: B018
    scene.signal  # noqa: B018 (a producer, its certified product, a batch, a signal)
    open311_client_create("Ma trận")
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="ma-tran", host="may-chu", host_key="ma-tran", pid=1, started_at=now,
        beat_at=now,
    )  # fmt: skip
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        outbox_dispatch.enqueue()


LOOK = "Ma trận: xem hồ sơ của người nộp"


def _row(model: type[Model], scene: Scene) -> Model | None:
    """The applicant's own row where the model has them (their account, an audit entry of
    theirs, a look at their data), else the newest row (the scene's)."""
    from tinhso.core.models import AuditEntry, PersonalDataAccess

    if model is User:
        return scene.applicant
    if model is AuditEntry:
        return AuditEntry.objects.filter(actor_id=scene.applicant.pk).order_by("-id").first()
    if model is PersonalDataAccess:
        return PersonalDataAccess.objects.filter(citizen=scene.applicant).order_by("-pk").first()
    return model._default_manager.order_by("-pk").first()


def _sample(model: type[Model]) -> Callable[[Scene], dict[str, object]]:
    def args(scene: Scene) -> dict[str, object]:
        _rows(scene)
        row = _row(model, scene)
        assert row is not None, model
        return {"object_id": row.pk, "id": scene.applicant.pk}

    return args


# The list's first page shows the scene's rows: the newest first.
NEWEST_FIRST = {"core.AuditEntry": {"o": "-1"}}


def _pages(model: type[Model], model_admin: Any) -> list[Route]:
    base = f"quan-tri/{model._meta.app_label}/{model._meta.model_name}/"
    args = _sample(model)
    admin_only = {"province_admin"}  # the superuser; the catalogue editor is refused

    def page(suffix: str, allowed: bool = True, **kw: Any) -> Route:
        return Route("GET", base + suffix, limited=admin_only if allowed else set(),
                     args=args, **kw)  # fmt: skip

    pages = [
        page("", data=NEWEST_FIRST.get(model._meta.label)),
        page("add/", _superuser_may(model_admin, "add")),
        page("<path:object_id>/change/"),
        page("<path:object_id>/history/"),
        page("<path:object_id>/delete/", _superuser_may(model_admin, "delete")),
        # Staff only: the address just leads to the change page, which asks again.
        Route(
            "GET",
            base + "<path:object_id>/",
            name="to its change page",
            limited=STAFF,
            ok=(302,),
            args=args,
        ),
    ]
    if model is User:
        # Nobody sets a citizen's password: they sign in with their electronic identity.
        pages.append(page("<id>/password/", allowed=False, refusal=(403,)))
    return pages


MODELS = sorted(
    (m for m in admin.site._registry if m._meta.app_label != "catalog"),
    key=lambda m: m._meta.label,
)
PAGES = {model._meta.label: _pages(model, admin.site._registry[model]) for model in MODELS}
ROUTES = [
    Route("GET", "quan-tri/", name="the admin's index", limited=STAFF),
    # The admin signs in through the platform's own sign-in page.
    Route("GET", "quan-tri/login/", limited=set(STAFF) | {"anonymous"}, ok=(302,),
          limited_ok=(302,)),
    # Anyone may sign out here too.
    Route("POST", "quan-tri/logout/", limited=EVERYONE, ok=(302,)),
    Route("GET", "quan-tri/password_change/", limited=STAFF),
    Route("GET", "quan-tri/password_change/done/", limited=STAFF),
    Route("GET", "quan-tri/jsi18n/", limited=STAFF),
    # The groups a user may be put in, for the administrator choosing them.
    Route("GET", "quan-tri/autocomplete/", limited={"province_admin"},
          data={"app_label": "accounts", "model_name": "user", "field_name": "groups"}),
    Route("GET", "quan-tri/r/<path:content_type_id>/<path:object_id>/", name="view on site",
          limited={"province_admin"}, ok=(302, 404),
          args=lambda s: _content_type_of(s.applicant)),
    # An application's index: the superuser's; the catalogue editor has nothing there.
    Route("GET", "quan-tri/<app_label>/", path=lambda s: "/quan-tri/accounts/",
          limited={"province_admin"}, refusal=(404,)),
    Route("GET", "quan-tri/<any other address>", path=lambda s: "/quan-tri/khong-co/"),
    *[route for pages in PAGES.values() for route in pages],
]  # fmt: skip


def _content_type_of(row: Model) -> dict[str, object]:
    from django.contrib.contenttypes.models import ContentType

    return {"content_type_id": ContentType.objects.get_for_model(row).pk, "object_id": row.pk}


@pytest.mark.parametrize("route", ROUTES[: len(ROUTES) - sum(map(len, PAGES.values()))],
                         ids=str)  # fmt: skip
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)


@pytest.mark.parametrize("label", list(PAGES))
def test_a_models_pages(label: str, scene: Scene) -> None:
    """One scene for the pages of one model (building it is the costly part)."""
    problems = []
    for route in PAGES[label]:
        try:
            check_route(route, scene)
        except AssertionError as exc:
            problems.append(f"{route}:\n{exc}")
    assert not problems, "\n\n".join(problems)


def test_the_administrator_sets_an_officials_password_never_a_citizens(scene: Scene) -> None:
    admin_client = scene.matrix.client("province_admin")
    official = scene.matrix.people["clerk"]
    assert official is not None
    page = admin_client.get(f"/quan-tri/accounts/user/{official.pk}/password/")
    assert page.status_code == 200
    changed = admin_client.post(
        f"/quan-tri/accounts/user/{official.pk}/password/",
        {"password1": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026"},
    )
    assert changed.status_code == 302
    official.refresh_from_db()
    assert official.check_password("Mat-khau-moi-2026")
    before = scene.applicant.password
    refused = admin_client.post(
        f"/quan-tri/accounts/user/{scene.applicant.pk}/password/",
        {"password1": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026"},
    )
    assert refused.status_code == 403
    scene.applicant.refresh_from_db()
    assert scene.applicant.password == before


def test_the_audit_chain_names_a_citizen_masked(scene: Scene) -> None:
    from tinhso.core.admin import AuditEntryAdmin
    from tinhso.core.audit import audit_verify
    from tinhso.core.models import AuditEntry

    scene.dossier  # noqa: B018 (submitted by the applicant)
    entry = AuditEntry.objects.filter(actor_id=scene.applicant.pk).order_by("-id").first()
    assert entry is not None
    assert entry.actor_label == "038******001"
    assert audit_verify().ok
    # Entries written before labels were masked name the citizen in full: shown masked.
    written_before = AuditEntry(actor_label="038090000001")
    assert AuditEntryAdmin(AuditEntry, admin.site).actor(written_before) == "038******001"
