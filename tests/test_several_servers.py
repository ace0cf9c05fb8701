"""Two app servers and two task workers on one PostgreSQL (issue 15, ADR 0027).

Each server is a gunicorn of its own with a data folder of its own (nothing on one
server's disk is seen by the other); the stored files are in one bucket of an
S3-compatible store (moto's server, as in test_file_store); the secret key and the database
are the same. Both servers start their hourly chains at the same moment. Then:

* a citizen submits a dossier, with a paper, on server A;
* the receiver opens it on server B (its signed-in session, made once, works on both) and
  accepts it there;
* the forms are issued (in the request or by either worker, whichever the code does): the
  test waits until each is ready and downloads it from both servers, the same bytes;
* the paper uploaded through A is downloaded through B, as uploaded;
* each hourly chain was scheduled once, and both workers sent their heartbeats.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from processes import database_url, free_port, wait_for

# The session's moto S3 server (a fixture) and the settings that choose a bucket.
from test_file_store import _s3_settings, s3_server  # noqa: F401

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several servers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

BIRTH = "1.001193"
RECEIVING = "000.02.60.H56"
WAIT = 120.0  # bound on waiting for a server, a worker or a form: only a hang fails it


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


def _wait(check: Callable[[], Any], what: str, seconds: float = WAIT) -> Any:
    return wait_for(check, what, seconds)


def _call(
    url: str,
    *,
    body: object = None,
    token: str | None = None,
    session: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    sent = {**(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if session:
        sent["Cookie"] = f"sessionid={session}"
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=data, headers=sent, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return Answer(response.status, response.read(), response.headers["Content-Type"])
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read(), exc.headers.get("Content-Type", ""))
    except (OSError, http.client.HTTPException):
        return Answer(0, b"", "")


@dataclass
class Cluster:
    servers: dict[str, str]  # name → base URL
    processes: list[subprocess.Popen[bytes]]
    schedules: list[subprocess.CompletedProcess[bytes]]
    logs: Path


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def cluster(
    tmp_path: Path,
    s3_server: str,  # noqa: F811 (the fixture imported above)
    seeded_transactional_db: None,
) -> Iterator[Cluster]:
    import boto3

    bucket = f"tinhso-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    common = {
        **os.environ,
        **_s3_settings(bucket, s3_server),
        "DATABASE_URL": database_url(),
        # The same on every server, as DEPLOY.md asks: this session's (the demo's signing
        # keys were encrypted under it).
        "SECRET_KEY": django_settings.SECRET_KEY,
        "DEBUG": "0",
        "TINHSO_PKI_DIR": str(django_settings.TINHSO_PKI_DIR),
        "ALLOWED_HOSTS": "127.0.0.1",
        "TINHSO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "TINHSO_WORKER_HEARTBEAT_SECONDS": "2",
    }
    common.pop("SECRET_KEY_FILE", None)
    logs = tmp_path / "logs"
    logs.mkdir()
    python = sys.executable
    processes: list[subprocess.Popen[bytes]] = []
    servers: dict[str, str] = {}
    envs: dict[str, dict[str, str]] = {}
    try:
        for name in ("a", "b"):
            # Each server has a disk of its own: a file only one of them wrote would be
            # missing on the other.
            env = {**common, "TINHSO_DATA_DIR": str(tmp_path / f"server-{name}")}
            envs[name] = env
            port = free_port()
            web = [python, "-m", "gunicorn", "tinhso.wsgi", "--bind", f"127.0.0.1:{port}",
                   "--workers", "1", "--threads", "4", "--worker-class", "gthread",
                   "--log-level", "warning"]  # fmt: skip
            worker = [python, "-m", "tinhso", "worker", "--queue-name", "*",
                      "--no-startup-delay", "--interval", "0.2", "-v", "0"]  # fmt: skip
            for kind, command in (("gunicorn", web), ("worker", worker)):
                log = (logs / f"{kind}-{name}.log").open("wb")
                processes.append(
                    subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
                )
            servers[name] = f"http://127.0.0.1:{port}"
        # Both servers start their hourly chains at the same moment (as `make run` does).
        starting = [
            subprocess.Popen(
                [python, "-m", "tinhso", "expire_payments", "--schedule"],
                env=envs[name],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for name in ("a", "b")
        ]
        schedules = []
        for process in starting:
            out, err = process.communicate(timeout=WAIT)
            schedules.append(
                subprocess.CompletedProcess(process.args, process.returncode, out, err)
            )
        for name, base in servers.items():
            _wait(lambda b=base: _call(f"{b}/healthz").status in (200, 503), f"server {name}")
        yield Cluster(servers, processes, schedules, logs)
    finally:
        _stop(processes)


def _session_of(user: Any) -> str:
    """A signed-in session made in the database (as a sign-in on any server makes it)."""
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=f"Giay chung sinh {uuid.uuid4().hex}")
    return bytes(pdf.output())


def test_a_dossier_moves_between_two_servers_and_two_workers(cluster: Cluster) -> None:
    from django_tasks_db.models import DBTaskResult, get_date_max

    from tinhso.accounts.models import User
    from tinhso.accounts.services import api_token_create
    from tinhso.catalog.models import Procedure
    from tinhso.core.models import WorkerHeartbeat
    from tinhso.dossiers.models import Dossier
    from tinhso.payments.tasks import payments_expire

    a, b = cluster.servers["a"], cluster.servers["b"]
    citizen = User.objects.get(username="038090000001")
    receiver = User.objects.get(username="tiepnhan.hacthanh")  # receives for RECEIVING
    citizen_token = api_token_create(user=citizen, name="server a")[1]
    receiver_token = api_token_create(user=receiver, name="server b")[1]
    paper = Procedure.objects.get(code=BIRTH).papers.get(paper_type="giay-chung-sinh")
    uploaded = _pdf()

    # Submitted on A.
    submitted = _call(
        f"{a}/api/v1/dossiers",
        token=citizen_token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        body={
            "procedure": BIRTH,
            "receiving_agency": RECEIVING,
            "result_method": "online",
            "form": {
                "nguoi_yeu_cau": {
                    "ho_ten": citizen.full_name,
                    "so_dinh_danh": citizen.username,
                    "noi_cu_tru": "Số 12 Lê Lai",
                },
                "quan_he": "cha",
                "tre": {
                    "ho_ten": "Bé Hai Máy",
                    "gioi_tinh": "nu",
                    "ngay_sinh": "2026-11-01",
                    "noi_sinh": "Bệnh viện Đa khoa tỉnh",
                },
                "me": {"ho_ten": "Nguyễn Thị Bình"},
            },
            "attachments": [
                {
                    "paper": paper.pk,
                    "filename": "chung-sinh.pdf",
                    "content_base64": base64.b64encode(uploaded).decode(),
                }
            ],
        },
    )
    assert submitted.status == 201, submitted.body[:500]
    code = submitted.json()["code"]
    dossier = Dossier.objects.get(code=code)
    documents_before = dossier.documents.count()

    # Seen and accepted on B.
    seen = _call(f"{b}/api/v1/dossiers/{code}", token=receiver_token)
    assert seen.status == 200, seen.body[:500]
    assert "accept" in seen.json()["actions"]
    accepted = _call(
        f"{b}/api/v1/dossiers/{code}/actions",
        token=receiver_token,
        body={"action": "accept", "version": seen.json()["version"]},
    )
    assert accepted.status == 200, accepted.body[:500]
    dossier.refresh_from_db()
    assert dossier.status == accepted.json()["status"]["code"]
    assert _call(f"{a}/api/v1/track/{code}").json()["status"] == accepted.json()["status"]

    # The forms: issued in the request or by either worker; each ready on both servers.
    citizen_session = _session_of(citizen)
    receiver_session = _session_of(receiver)

    def forms_ready() -> dict[int, bytes] | None:
        ids = list(dossier.documents.values_list("pk", flat=True))
        if len(ids) <= documents_before:
            return None
        ready: dict[int, bytes] = {}
        for document_id in ids:
            on_a = _call(
                f"{a}/ho-so-cua-toi/{dossier.public_id}/bieu-mau/{document_id}/",
                session=citizen_session,
            )
            if on_a.status != 200 or not on_a.body.startswith(b"%PDF"):
                return None
            ready[document_id] = on_a.body
        return ready

    forms = _wait(forms_ready, "the forms to be issued")
    for document_id, body in forms.items():
        on_b = _call(
            f"{b}/ho-so-cua-toi/{dossier.public_id}/bieu-mau/{document_id}/",
            session=citizen_session,
        )
        assert (on_b.status, on_b.body) == (200, body)
        official = _call(
            f"{b}/can-bo/ho-so/{code}/bieu-mau/{document_id}/", session=receiver_session
        )
        assert (official.status, official.body) == (200, body)

    # The paper uploaded through A, downloaded through B (and A) by the receiver.
    [attached] = dossier.files.all()
    for base in (b, a):
        download = _call(f"{base}/can-bo/ho-so/{code}/tep/{attached.pk}/", session=receiver_session)
        assert download.status == 200, download.body[:300]
        assert download.body == uploaded

    # Both servers scheduled the hourly chain at once: it was enqueued once (a run without
    # a time; each run then enqueues the next for an hour later).
    assert [s.returncode for s in cluster.schedules] == [0, 0], [
        s.stderr for s in cluster.schedules
    ]
    started = DBTaskResult.objects.filter(
        task_path=payments_expire.module_path, run_after=get_date_max()
    )
    assert started.count() == 1
    # Both workers are alive, each with its own heartbeat.
    _wait(
        lambda: (
            WorkerHeartbeat.objects.filter(
                stopped_at__isnull=True, beat_at__gt=timezone.now() - timedelta(seconds=30)
            ).count()
            >= 2
        ),
        "two workers' heartbeats",
    )
