"""No stored file outlives the transaction that stored it, and the sweep finds orphans both
ways: files no row names, rows whose file is missing (core.files, ADR 0016). The same
contract holds on both file stores (core.filestore, ADR 0020): the local folder and an
S3-compatible bucket, here a real S3 server on this machine (moto's standalone server)."""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import pytest
from django.apps import apps
from django.core.exceptions import SuspiciousFileOperation
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, models, transaction
from django.test import Client

import samples
from processes import free_port
from tinhso.accounts.models import User
from tinhso.core import files
from tinhso.core.filestore import FileStore, LocalFileStore
from tinhso.core.filestores import file_store
from tinhso.core.models import IdempotencyKey
from tinhso.dossiers.models import DossierFile, StoredPaper

CONTENT = samples.pdf()
LATER = 2 * 3600  # seconds: past the sweep's grace period


def checked() -> files.CheckedFile:
    return files.check_upload(None, name="cs.pdf", content=CONTENT)


# --- The two stores ---------------------------------------------------------------------------


def _unavailable(reason: str) -> NoReturn:
    # CI installs the dev extra, so there the server must start: a skip would hide the
    # S3 store's tests.
    if os.environ.get("CI", "").lower() in {"1", "true"}:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's standalone S3 server on a free local port, for the whole session; its
    address. Skipped, saying why, only if it cannot start (outside CI)."""
    program = Path(sys.executable).with_name("moto_server")
    if not program.exists():
        _unavailable("moto_server is not installed (pip install -e '.[dev]')")
    port = free_port()
    # Its request log goes to a file: a pipe nobody reads would fill up and stall it.
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [str(program), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            reason = log.read_text(errors="replace")[-500:]
            _unavailable(f"moto_server could not start: {reason}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        if time.monotonic() > deadline:
            server.kill()
            server.wait()
            _unavailable("moto_server did not answer within 60 seconds")
        time.sleep(0.1)
    # boto3 reads the keys from the standard variables, as in production (moto takes any).
    keys = {"AWS_ACCESS_KEY_ID": "test-only", "AWS_SECRET_ACCESS_KEY": "test-only-secret"}
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _s3_settings(bucket: str, endpoint: str) -> dict[str, str]:
    return {
        "TINHSO_FILE_STORE": "s3",
        "TINHSO_S3_BUCKET": bucket,
        "TINHSO_S3_ENDPOINT_URL": endpoint,
        "TINHSO_S3_REGION": "us-east-1",
        "TINHSO_S3_ADDRESSING_STYLE": "",
    }


@pytest.fixture
def s3_bucket(s3_server: str, settings: Any) -> str:
    """A new empty bucket, and the settings that choose it: the S3 store."""
    import boto3

    bucket = f"tinhso-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    for name, value in _s3_settings(bucket, s3_server).items():
        setattr(settings, name, value)
    return bucket


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> FileStore:
    """The store the settings choose, each kind in turn (a fresh folder, a fresh bucket)."""
    if request.param == "s3":
        request.getfixturevalue("s3_bucket")
    else:
        settings.TINHSO_FILE_STORE = "local"
        settings.MEDIA_ROOT = tmp_path
    chosen = file_store()
    assert chosen.kind == request.param
    return chosen


def stored(store: FileStore) -> set[str]:
    """Every stored file of the registered folders, markers apart."""
    return {o.name for folder in files.folders() for o in store.listing(folder)}


def markers(store: FileStore) -> list[str]:
    return sorted(o.name for o in store.listing(files.PENDING))


def seed_into(store: FileStore, seeded: Path) -> None:
    """The demo's stored files (its open data, a stored paper), as the rows expect them."""
    for ff in files.FILE_FIELDS:
        for name in ff.queryset().exclude(**{ff.field: ""}).values_list(ff.field, flat=True):
            source = seeded / name
            if source.is_file() and not store.exists(name):
                store.put(name, source.read_bytes(), content_type="application/octet-stream")


def age(root: Path, hours: float = 2) -> None:
    """Make every file and marker of a folder look `hours` old (past the grace period)."""
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
        if isinstance(field, models.CharField)
        and field.name in {"storage_name", "stored_file", "raw_name"}
    }
    assert found == registered
    with pytest.raises(ValueError, match="FILE_FIELDS"):
        files.store(checked(), folder="elsewhere")


def test_a_misnamed_store_stops_start_up_with_a_message(tmp_path: Path) -> None:
    from test_deploy import TINHSO, _clean_environment

    env = {**_clean_environment(tmp_path), "SECRET_KEY": "test-only-not-a-secret"}
    for setting, message in [
        ({"TINHSO_FILE_STORE": "ftp"}, "TINHSO_FILE_STORE is 'ftp': use local or s3."),
        ({"TINHSO_FILE_STORE": "s3"}, "TINHSO_FILE_STORE=s3 needs TINHSO_S3_BUCKET."),
    ]:
        result = subprocess.run(
            [str(TINHSO), "check"], env={**env, **setting},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode != 0
        assert message in result.stderr
    chosen = {**env, "TINHSO_FILE_STORE": "s3", "TINHSO_S3_BUCKET": "tinhso-files"}
    result = subprocess.run(
        [str(TINHSO), "check"], env=chosen, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


# --- The contract -------------------------------------------------------------------------


# The database: closing the response ends a request, and request_finished's receivers (the
# connections' age check, the settling of stored files) look at it, as after any request.
@pytest.mark.django_db
def test_a_store_keeps_reads_streams_and_deletes(store: FileStore) -> None:
    name = "papers/2026/01/tep.pdf"
    assert not store.exists(name)
    for read in (store.read, store.open, store.size):
        with pytest.raises(FileNotFoundError):
            read(name)
    store.delete(name)  # nothing there: not an error
    store.put(name, CONTENT, content_type="application/pdf")
    assert store.exists(name)
    assert store.size(name) == len(CONTENT)
    assert store.read(name) == CONTENT
    with store.open(name) as stream:
        assert stream.read(5) == b"%PDF-"
        assert stream.read() == CONTENT[5:]
    assert [o.name for o in store.listing("papers")] == [name]
    assert abs(next(iter(store.listing("papers"))).modified - time.time()) < 3600
    response = store.response(name, content_type="application/pdf", headers={"X-Test": "1"})
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["X-Test"] == "1"
    assert b"".join(response.streaming_content) == CONTENT
    response.close()
    store.delete(name)
    assert not store.exists(name)
    assert list(store.listing("papers")) == []


def test_the_local_store_keeps_to_its_folder(tmp_path: Path) -> None:
    local = LocalFileStore(tmp_path / "files")
    (tmp_path / "secret").write_bytes(b"not a stored file")
    for name in ("../secret", "/etc/passwd", "papers/../../secret"):
        with pytest.raises(SuspiciousFileOperation):
            local.read(name)
    local.put("papers/a.pdf", CONTENT, content_type="application/pdf")
    with pytest.raises(FileExistsError):
        local.put("papers/a.pdf", b"other", content_type="application/pdf")
    assert local.read("papers/a.pdf") == CONTENT


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
def test_a_committed_file_stays_and_a_rolled_back_one_goes(store: FileStore) -> None:
    owner = User.objects.create(username="038090000099", kind="citizen")
    with transaction.atomic():
        kept = files.store(checked(), folder="papers")
        stored_paper(kept, owner)
        assert len(markers(store)) == 1  # until the commit
    assert markers(store) == []
    with pytest.raises(RuntimeError):
        _store_and_fail(owner)
    # The whole transaction rolled back: its file goes when the request or task ends.
    (rolled_back,) = stored(store) - {kept}
    with transaction.atomic():
        with contextlib.suppress(RuntimeError):
            _store_and_fail(owner)  # a savepoint rolled back, its transaction goes on
        # The savepoint's file went with it, while its transaction is still open.
        assert stored(store) == {kept, rolled_back}
        StoredPaper.objects.filter(storage_name=kept).update(name="Giấy chứng sinh (bản sao)")
    files.settle()  # as at the end of the request or task
    assert stored(store) == {kept}
    assert markers(store) == []


@pytest.mark.django_db(transaction=True)
def test_a_commit_whose_callback_was_skipped_keeps_its_file(store: FileStore) -> None:
    # Django stops running on-commit callbacks at the first that raises: the store's own
    # callback never runs, yet the row was committed and names the file.
    owner = User.objects.create(username="038090000099", kind="citizen")
    with pytest.raises(RuntimeError, match="earlier callback") as failed:
        _store_after_a_failing_callback(owner)
    name = StoredPaper.objects.get(owner=owner).storage_name
    # The traceback holds the callback Django dropped unrun; freed later, inside another
    # transaction, it must not take the committed file with it.
    with transaction.atomic():
        del failed
        gc.collect()
        assert stored(store) == {name}
    files.settle()
    assert stored(store) == {name}
    assert markers(store) == []


@pytest.mark.django_db(transaction=True)
def test_a_replaced_file_goes_only_when_its_replacement_commits(store: FileStore) -> None:
    owner = User.objects.create(username="038090000099", kind="citizen")
    with transaction.atomic():
        first = files.store(checked(), folder="papers")
        paper = stored_paper(first, owner)
    with contextlib.suppress(RuntimeError), transaction.atomic():
        files.discard(first)
        StoredPaper.objects.filter(pk=paper.pk).update(
            storage_name=files.store(checked(), folder="papers")
        )
        raise RuntimeError("the replacement fails")
    files.settle()
    assert stored(store) == {first}
    with transaction.atomic():
        files.discard(first)
        second = files.store(checked(), folder="papers")
        StoredPaper.objects.filter(pk=paper.pk).update(storage_name=second)
    files.settle()
    assert stored(store) == {second}
    assert markers(store) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_a_request_that_fails_after_the_service_stored_leaves_no_file(
    store: FileStore, token_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dossier_submit stores and returns; the request's own transaction then fails (as when
    another request with the same Idempotency-Key wins): its file goes with it."""
    from test_submission import api_body

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
    assert stored(store) == set()
    assert markers(store) == []


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
    assert stored(file_store()) == rows
    assert markers(file_store()) == []


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
def test_a_killed_process_leaves_a_marker_the_sweep_resolves(
    store: FileStore, settings: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # Its own throw-away SQLite database: the killed transaction only has to be open. Its
    # file store is this test's: the same folder, or the same bucket.
    env.update(TINHSO_DATA_DIR=str(data), SECRET_KEY="test-only-not-a-secret", DEBUG="0")
    env["DJANGO_SETTINGS_MODULE"] = "tinhso.settings"
    if store.kind == "s3":
        env.update(_s3_settings(settings.TINHSO_S3_BUCKET, settings.TINHSO_S3_ENDPOINT_URL))
    else:
        settings.MEDIA_ROOT = data / "files"
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
    target = file_store()
    assert stored(target) == {name}
    assert len(markers(target)) == 1

    young = files.orphans_find(remove=True)
    assert (young.files_without_row, young.in_grace) == ([], 1)
    assert stored(target) == {name}
    report = files.orphans_find(remove=True, now=time.time() + LATER)
    assert report.files_without_row == [name]
    assert stored(target) == set()
    assert markers(target) == []


@pytest.mark.django_db
def test_a_committed_file_whose_marker_was_left_behind_is_kept(
    store: FileStore, citizen: Any, seeded_files: Path
) -> None:
    # In this test's transaction the on-commit callback never runs: the marker stays, as
    # after a crash between the commit and its removal.
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    seed_into(store, seeded_files)
    dossier = dossier_submit(submission=submission(citizen))
    name = dossier.files.get().storage_name
    assert len(markers(store)) == 1
    report = files.orphans_find(remove=True, now=time.time() + LATER)
    assert not report.found
    assert report.markers_cleared == [name]
    assert report.files_without_row == []
    assert name in stored(store)
    assert markers(store) == []


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
    store: FileStore, citizen: Any, seeded_files: Path
) -> None:
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    seed_into(store, seeded_files)
    assert run() == (0, "Files no row names: 0\nRows whose file is missing: 0\n")
    dossier = dossier_submit(submission=submission(citizen))
    attached = dossier.files.get()
    store.delete(attached.storage_name)
    stray = "dossiers/2020/01/stray.pdf"
    store.put(stray, CONTENT, content_type="application/pdf")
    # Grace 0: every file written so far is past it.
    code, out = run("--json", "--grace-minutes", "0")
    report = json.loads(out)
    assert code == 1
    assert report["files_without_row"] == [stray]
    assert report["rows_without_file"] == [
        {"model": "dossiers.DossierFile", "pk": attached.pk, "name": attached.storage_name}
    ]
    assert store.exists(stray)  # listed, not removed
    code, out = run("--remove", "--grace-minutes", "0")
    assert code == 1
    assert stray in out
    assert f"dossiers.DossierFile #{attached.pk}: {attached.storage_name}" in out
    assert not store.exists(stray)
    young = "dossiers/2020/01/young.pdf"
    store.put(young, CONTENT, content_type="application/pdf")
    code, out = run("--remove", "--grace-minutes", "30")
    assert store.exists(young)  # its transaction may still be running
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


# --- End to end on the S3 store ----------------------------------------------------------------


@pytest.mark.django_db
def test_with_the_s3_store_a_dossier_s_files_live_in_the_bucket(
    s3_bucket: str, settings: Any, client: Client, token_for: Any, login_client: Any, citizen: Any
) -> None:
    """A citizen submits with an attachment (API); the receiver accepts (BM.01 is signed and
    stored); the official downloads the attachment and the form through the pages. Every
    file is in the bucket, none on this machine's disk."""
    from test_submission import PDF, api_body
    from tinhso.dossiers.models import Dossier

    answer = client.post(
        "/api/v1/dossiers", api_body(), content_type="application/json",
        headers={**token_for(citizen), "Idempotency-Key": "s3-1"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    dossier = Dossier.objects.get(code=answer.json()["code"])
    receiver = login_client(User.objects.get(username="tiepnhan.hacthanh"))
    moved = receiver.post(
        f"/can-bo/ho-so/{dossier.code}/thao-tac/", {"action": "accept", "version": dossier.version}
    )
    assert moved.status_code == 302
    attached = dossier.files.get()
    form = dossier.documents.get(kind="BM01")
    assert form.signed is not None
    assert form.storage_name == form.signed.storage_name

    download = receiver.get(f"/can-bo/ho-so/{dossier.code}/tep/{attached.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="cs.pdf"'
    assert download["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Length"] == str(len(PDF))
    assert b"".join(download.streaming_content) == PDF
    shown = receiver.get(f"/can-bo/ho-so/{dossier.code}/bieu-mau/{form.pk}/")
    assert shown.status_code == 200
    assert shown["Content-Disposition"] == f'inline; filename="BM01-{dossier.code}.pdf"'
    content = b"".join(shown.streaming_content)
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == form.sha256

    import boto3

    bucket = boto3.client(
        "s3", endpoint_url=settings.TINHSO_S3_ENDPOINT_URL, region_name="us-east-1"
    )
    keys = {o["Key"] for o in bucket.list_objects_v2(Bucket=s3_bucket).get("Contents", [])}
    assert {attached.storage_name, form.storage_name} <= keys
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))
    # The attachment is the citizen's file, byte for byte.
    body = bucket.get_object(Bucket=s3_bucket, Key=attached.storage_name)["Body"].read()
    assert body == base64.b64decode(api_body()["attachments"][0]["content_base64"])
