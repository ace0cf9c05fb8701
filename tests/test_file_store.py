"""No stored file outlives the transaction that stored it, and the sweep finds orphans both
ways: files no row names, rows whose file is missing (core.files, ADR 0016)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, models, transaction
from django.test import Client

import samples
from tinhso.accounts.models import User
from tinhso.core import files
from tinhso.core.models import IdempotencyKey
from tinhso.dossiers.models import DossierFile, StoredPaper

CONTENT = samples.pdf()


def checked() -> files.CheckedFile:
    return files.check_upload(None, name="cs.pdf", content=CONTENT)


def on_disk(root: Path) -> set[str]:
    """Every stored file under the storage root, markers apart."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and files.PENDING not in p.parts
    }


def markers(root: Path) -> list[Path]:
    return sorted((root / files.PENDING).glob("*.json"))


def seeded_copy(seeded: Path, root: Path) -> Path:
    """The demo's stored files (its open data, a stored paper), as the rows expect them."""
    shutil.copytree(seeded, root, dirs_exist_ok=True)
    return root


def age(root: Path, hours: float = 2) -> None:
    """Make every file and marker look `hours` old (past the sweep's grace period)."""
    then = time.time() - hours * 3600
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def stored_paper(name: str, owner: User) -> StoredPaper:
    return StoredPaper.objects.create(
        owner=owner, paper_type="giay-chung-sinh",
        name="Giấy chứng sinh", storage_name=name, content_type="application/pdf",
        size=len(CONTENT), sha256=hashlib.sha256(CONTENT).hexdigest(),
    )  # fmt: skip


def test_every_field_that_names_a_stored_file_is_registered() -> None:
    registered = {(f.model, f.field) for f in files.FILE_FIELDS}
    found = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField) and field.name in {"storage_name", "stored_file"}
    }
    assert found == registered
    with pytest.raises(ValueError, match="FILE_FIELDS"):
        files.store(checked(), folder="elsewhere")


# --- In the process that stored --------------------------------------------------------------


def _store_and_fail(owner: User) -> str:
    with transaction.atomic():
        name = files.store(checked(), folder="papers")
        stored_paper(name, owner)
        raise RuntimeError(name)


def _store_after_a_failing_callback(owner: User) -> str:
    def fails() -> None:
        raise RuntimeError("an earlier callback failed")

    with transaction.atomic():
        transaction.on_commit(fails)
        name = files.store(checked(), folder="papers")
        stored_paper(name, owner)
    return name


@pytest.mark.django_db(transaction=True)
def test_a_committed_file_stays_and_a_rolled_back_one_goes(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    owner = User.objects.create(username="038090000099", kind="citizen")
    with transaction.atomic():
        kept = files.store(checked(), folder="papers")
        stored_paper(kept, owner)
        assert len(markers(tmp_path)) == 1  # until the commit
    assert markers(tmp_path) == []
    with pytest.raises(RuntimeError):
        _store_and_fail(owner)
    with transaction.atomic():
        with contextlib.suppress(RuntimeError):
            _store_and_fail(owner)  # a savepoint rolled back, its transaction goes on
        StoredPaper.objects.filter(storage_name=kept).update(name="Giấy chứng sinh (bản sao)")
    assert len(on_disk(tmp_path)) == 3
    files.settle()  # as at the end of the request or task
    assert on_disk(tmp_path) == {kept}
    assert markers(tmp_path) == []


@pytest.mark.django_db(transaction=True)
def test_a_commit_whose_callback_was_skipped_keeps_its_file(settings: Any, tmp_path: Path) -> None:
    # Django stops running on-commit callbacks at the first that raises: the store's own
    # callback never runs, yet the row was committed and names the file.
    settings.MEDIA_ROOT = tmp_path
    owner = User.objects.create(username="038090000099", kind="citizen")
    with pytest.raises(RuntimeError, match="earlier callback"):
        _store_after_a_failing_callback(owner)
    (name,) = StoredPaper.objects.values_list("storage_name", flat=True)
    files.settle()
    assert on_disk(tmp_path) == {name}
    assert markers(tmp_path) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_a_request_that_fails_after_the_service_stored_leaves_no_file(
    settings: Any, tmp_path: Path, token_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dossier_submit stores and returns; the request's own transaction then fails (as when
    another request with the same Idempotency-Key wins): its file goes with it."""
    from test_submission import api_body

    settings.MEDIA_ROOT = tmp_path
    citizen = User.objects.get(username="038090000001")
    headers = {**token_for(citizen), "Idempotency-Key": "k-1"}

    def lost_the_race(**_kwargs: Any) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(IdempotencyKey.objects, "create", lost_the_race)
    answer = Client().post(
        "/api/v1/dossiers", api_body(), content_type="application/json", headers=headers
    )
    assert answer.status_code == 409
    assert DossierFile.objects.count() == 0
    assert on_disk(tmp_path) == set()
    assert markers(tmp_path) == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_requests_racing_on_one_idempotency_key_leave_no_orphan(
    settings: Any, tmp_path: Path, token_for: Any
) -> None:
    """The issue's measurement: requests racing on one key left 28 orphan files out of 80.
    Eight at once on each of five keys: one dossier per key, one file per dossier."""
    from test_submission import api_body

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the writers: nothing races")
    settings.MEDIA_ROOT = tmp_path
    citizen = User.objects.get(username="038090000001")
    auth = token_for(citizen)
    body = json.dumps(api_body())
    racers, keys = 8, 5
    statuses: list[int] = []

    def post(key: str, barrier: threading.Barrier) -> None:
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)
            answer = Client().post(
                "/api/v1/dossiers", body, content_type="application/json",
                headers={**auth, "Idempotency-Key": key},
            )  # fmt: skip
            statuses.append(answer.status_code)
        finally:
            connections.close_all()

    for k in range(keys):
        barrier = threading.Barrier(racers)
        with ThreadPoolExecutor(max_workers=racers) as pool:
            list(pool.map(lambda _n, k=k, b=barrier: post(f"race-{k}", b), range(racers)))
    assert sorted(set(statuses)) in ([200, 201], [201])
    assert statuses.count(201) == keys
    rows = set(DossierFile.objects.values_list("storage_name", flat=True))
    assert len(rows) == keys
    assert on_disk(tmp_path) == rows
    assert markers(tmp_path) == []


# --- A process killed mid-transaction --------------------------------------------------------

KILLED = """
import sys
import django
django.setup()
from django.db import transaction
from tinhso.core import files
content = sys.stdin.buffer.readline()
with transaction.atomic():
    name = files.store(files.CheckedFile("cs.pdf", content, "application/pdf", ".pdf", ""),
                       folder="dossiers")
    print(name, flush=True)
    sys.stdin.buffer.read()  # the transaction stays open until the process is killed
"""


@pytest.mark.django_db
def test_a_killed_process_leaves_a_marker_the_sweep_resolves(settings: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # Its own throw-away SQLite database: the killed transaction only has to be open.
    env.update(TINHSO_DATA_DIR=str(data), SECRET_KEY="test-only-not-a-secret", DEBUG="0")
    env["DJANGO_SETTINGS_MODULE"] = "tinhso.settings"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write(b"%PDF-1.4 stored by a process about to die\n")
    child.stdin.flush()
    name = child.stdout.readline().decode().strip()
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    root = data / "files"
    assert on_disk(root) == {name}
    assert len(markers(root)) == 1

    settings.MEDIA_ROOT = root
    young = files.orphans_find(remove=True)
    assert (young.files_without_row, young.in_grace) == ([], 1)
    assert on_disk(root) == {name}
    age(root)
    report = files.orphans_find(remove=True)
    assert report.files_without_row == [name]
    assert on_disk(root) == set()
    assert markers(root) == []


@pytest.mark.django_db
def test_a_committed_file_whose_marker_was_left_behind_is_kept(
    settings: Any, tmp_path: Path, citizen: Any, seeded_files: Path
) -> None:
    # In this test's transaction the on-commit callback never runs: the marker stays, as
    # after a crash between the commit and its removal.
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    settings.MEDIA_ROOT = seeded_copy(seeded_files, tmp_path)
    dossier = dossier_submit(submission=submission(citizen))
    name = dossier.files.get().storage_name
    assert len(markers(tmp_path)) == 1
    age(tmp_path)
    report = files.orphans_find(remove=True)
    assert not report.found
    assert report.markers_cleared == [name]
    assert report.files_without_row == []
    assert name in on_disk(tmp_path)
    assert markers(tmp_path) == []


# --- The command ----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("files_orphans", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_the_command_lists_and_removes_orphans_both_ways(
    settings: Any, tmp_path: Path, citizen: Any, seeded_files: Path
) -> None:
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    settings.MEDIA_ROOT = seeded_copy(seeded_files, tmp_path)
    assert run() == (0, "Files no row names: 0\nRows whose file is missing: 0\n")
    dossier = dossier_submit(submission=submission(citizen))
    attached = dossier.files.get()
    files.open_stored(attached.storage_name).unlink()
    stray = tmp_path / "dossiers" / "2020" / "01" / "stray.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(CONTENT)
    age(tmp_path)
    code, out = run("--json")
    report = json.loads(out)
    assert code == 1
    assert report["files_without_row"] == ["dossiers/2020/01/stray.pdf"]
    assert report["rows_without_file"] == [
        {"model": "dossiers.DossierFile", "pk": attached.pk, "name": attached.storage_name}
    ]
    assert stray.exists()  # listed, not removed
    code, out = run("--remove")
    assert code == 1
    assert "dossiers/2020/01/stray.pdf" in out
    assert f"dossiers.DossierFile #{attached.pk}: {attached.storage_name}" in out
    assert not stray.exists()
    young = tmp_path / "dossiers" / "2020" / "01" / "young.pdf"
    young.write_bytes(CONTENT)
    code, out = run("--remove", "--grace-minutes", "30")
    assert young.exists()  # its transaction may still be running
    assert "Left alone, younger than 30 minutes: 1" in out


@pytest.mark.django_db
def test_the_hourly_sweep_runs_on_the_worker(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    stray = tmp_path / "opendata" / "2020" / "01" / "stray.csv"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"a,b\n")
    age(tmp_path)
    # The tests' task backend runs a task when it is enqueued.
    assert run("--schedule") == (0, "File store sweep scheduled on the task worker (hourly).\n")
    assert not stray.exists()
