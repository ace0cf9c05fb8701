"""Test set-up: the demo province is loaded once per session through the real services;
each test runs in a transaction that is rolled back. Transactional tests (browser,
concurrency) run last (pytest-django orders them so) and use `seeded_transactional_db`,
which loads the demo again when an earlier transactional test's flush emptied the
database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEMO_PASSWORD = "demo"


@pytest.fixture(scope="session", autouse=True)
def _pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # The demo PKI's key files of this test session, apart from the developer's own.
    with override_settings(TINHSO_PKI_DIR=tmp_path_factory.mktemp("pki")):
        yield


@pytest.fixture(scope="session")
def seeded_files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Where the session's demo seed stored its files (the demo's open-data resources);
    a test that reads them points MEDIA_ROOT here."""
    return tmp_path_factory.mktemp("seeded-files")


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None, django_db_blocker: Any, _pki_dir: None, seeded_files: Any
) -> None:
    from tinhso.core.demo import demo_seed

    # Without the demo dossiers: tests make the dossiers they look at (test_demo checks those).
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=seeded_files),
    ):
        demo_seed(dossiers=False)


@pytest.fixture
def seeded_transactional_db(transactional_db: None, seeded_files: Any) -> None:
    from tinhso.agencies.models import Agency
    from tinhso.core.demo import demo_seed

    if not Agency.objects.exists():
        with override_settings(MEDIA_ROOT=seeded_files):
            demo_seed(dossiers=False)


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Dossier numbers in the test's own (rolled-back) transaction, not committed on a side
    # connection: tests that number dossiers stay independent of one another on PostgreSQL
    # (tests of numbering aside turn it on, in transactional tests).
    settings.TINHSO_NUMBERING_ASIDE = False
    # Figures answered fresh (tests change the data between two requests); the cache has
    # its own test (test_figures).
    settings.FIGURES_CACHE_SECONDS = 0
    # Nor counted per client (the cache table is shared by the tests of one run on Redis);
    # the limit has its own test (test_figures).
    settings.TINHSO_FIGURES_RATE = 0


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # Each test starts in the site's language (Vietnamese), whatever language the last
    # request of the test before it was answered in.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _workflow_memo() -> Iterator[None]:
    # A request that raised into the test leaves no workflow read remembered for the next.
    from tinhso.cases.memo import workflow_memo_end

    yield
    workflow_memo_end()


@pytest.fixture(autouse=True)
def _stored_files_forgotten() -> Iterator[None]:
    # The files a test stored in its rolled-back transaction wait, in this thread, for the
    # end of the next request or task to be settled (core.files): forgotten here, so that
    # the next test, which may have no database, does not settle them. Which test comes
    # next differs from run to run when the suite runs in several processes.
    from tinhso.core import files

    yield
    files._local.intents = {}


@pytest.fixture(autouse=True)
def _file_storage(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Uploaded papers of each test land in a folder of their own.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("files")


@pytest.fixture
def user_model() -> Any:
    from tinhso.accounts.models import User

    return User


def _user(username: str) -> Any:
    from tinhso.accounts.models import User

    return User.objects.get(username=username)


@pytest.fixture
def citizen(db: None) -> Any:
    return _user("038090000001")


@pytest.fixture
def other_citizen(db: None) -> Any:
    return _user("038090000002")


@pytest.fixture
def receiver(db: None) -> Any:
    """Receiver at the provincial service centre."""
    return _user("tiepnhan")


@pytest.fixture
def specialist(db: None) -> Any:
    return _user("chuyenvien")


@pytest.fixture
def commune_receiver(db: None) -> Any:
    return _user("tiepnhan.hacthanh")


@pytest.fixture
def clerk(db: None) -> Any:
    """An official of Sở Tư pháp whose only role (clerk) does not involve citizens' data."""
    from tinhso.accounts.roles import CLERK
    from tinhso.accounts.services import membership_grant, official_create
    from tinhso.agencies.models import Agency

    user = official_create(
        actor=None, username="vanthu", full_name="Văn Thư", password=DEMO_PASSWORD
    )
    membership_grant(actor=None, user=user, agency=Agency.objects.get(short_name="STP"), role=CLERK)
    return user


@pytest.fixture
def login_client() -> Any:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def token_for() -> Any:
    from tinhso.accounts.services import api_token_create

    def make(user: Any) -> dict[str, str]:
        _row, plain = api_token_create(user=user, name="test")
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true"}


@pytest.fixture
def vi() -> Iterator[None]:
    from django.utils import translation

    with translation.override("vi"):
        yield
