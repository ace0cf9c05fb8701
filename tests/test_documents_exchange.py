"""Two installations exchange an official document over HTTP (documents.exchange, edXML):
two servers and two databases on this machine.

* Installation A is this test's process: its test database (SQLite, or the PostgreSQL of
  DATABASE_URL), seeded with the demo, served by the live server.
* Installation B is a process of its own (gunicorn) with a data folder of its own: its own
  SQLite database (migrated and demo-seeded first), its own files and keys. Its officials'
  work and its worker's runs are short scripts in its environment (tests/exchange_peer.py);
  its task backend runs nothing by itself, so its messages leave only when the test says.

A's Sở Tư pháp issues a document to B's; it arrives over HTTP with its signed PDF, the
status 01 comes back by B's push, 03 and 04 by A's pull (poll); B answers its traces to A;
A recalls (13 travels to B), B's clerk accepts (15 travels back): the recall is done. B
refuses what it must (unsigned 401, a forged sender 403, a DTD 400, a status about a
document never sent 404, a PDF changed after signing 422) and takes a repeat once. Every
edXML message either side keeps validates against the schema."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

import exchange_peer
from flows import user
from processes import free_port, wait_for
from tinhso.accounts.demo import demo_agency
from tinhso.core.files import read_bytes
from tinhso.core.outbox import outbox_deliver_pending
from tinhso.documents import edxml, exchange
from tinhso.documents.models import (
    Message,
    MessageState,
    Outgoing,
    OutgoingStatus,
    RecipientKind,
    Unit,
)
from tinhso.documents.services import RecipientIn, draft_save, outgoing_act, outgoing_recall

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "the-secret-tinh-a-and-tinh-b-share"
WAIT = 120.0  # bound on a script or a server start: only a hang reaches it
TESTS = Path(__file__).resolve().parent
SHELL = "import exchange_peer; exchange_peer."  # + one of its calls


@dataclass
class Installation:
    url: str
    env: dict[str, str]
    code: str  # its Sở Tư pháp's organ id
    name: str
    log: Path

    def run(self, call: str) -> Any:
        """One of exchange_peer's functions, in B's process; what it printed."""
        done = subprocess.run(
            [sys.executable, "-m", "tinhso", "shell", "-c", SHELL + call],
            env=self.env,
            capture_output=True,
            timeout=WAIT,
            check=False,
        )  # fmt: skip
        lines = [
            line
            for line in done.stdout.decode().splitlines()
            if line.startswith(exchange_peer.MARK)
        ]
        if done.returncode or not lines:
            pytest.fail(f"B: {call} failed:\n{done.stdout.decode()}\n{done.stderr.decode()}")
        return json.loads(lines[-1][len(exchange_peer.MARK) :])


@pytest.fixture(scope="session")
def b_seeding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Any]]:
    """B's database migrated and demo-seeded in a process of its own, started before this
    session's own seed (asked for first), so that the two run side by side."""
    folder = tmp_path_factory.mktemp("installation-b")
    env = {
        **os.environ,
        "TINHSO_DATA_DIR": str(folder),
        "SECRET_KEY": "installation-b-has-a-key-of-its-own",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Nothing runs by itself: B's worker runs are the test's `deliver()`.
        "TINHSO_TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
        "TINHSO_EDXML_SELF": "tinh-b",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URL", "SECRET_KEY_FILE", "TINHSO_PKI_DIR"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tinhso", "shell", "-c", SHELL + "setup()"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield env, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def installation_b(
    b_seeding: tuple[dict[str, str], Any],
    live_server: Any,
    tmp_path: Path,
    settings: Any,
    seeded_transactional_db: None,
) -> Iterator[Installation]:
    b_env, seeding = b_seeding
    out, err = seeding.communicate(timeout=WAIT)
    if seeding.returncode or exchange_peer.MARK.encode() not in out:
        pytest.fail(f"B's seed failed:\n{out.decode()}\n{err.decode()}")
    a_stp = demo_agency("STP")
    env = {
        **b_env,
        "TINHSO_EDXML_PEERS": json.dumps(
            [
                {
                    "code": "tinh-a",
                    "name": "Tỉnh A",
                    "url": live_server.url,
                    "secret": SECRET,
                    "organs": [{"id": a_stp.code, "name": a_stp.name}],
                }
            ]
        ),
    }
    port = free_port()
    log = tmp_path / "gunicorn-b.log"
    b = Installation(f"http://127.0.0.1:{port}", env, exchange_peer.CODE, exchange_peer.NAME, log)
    settings.TINHSO_EDXML_SELF = "tinh-a"
    settings.TINHSO_EDXML_PEERS = [
        {
            "code": "tinh-b",
            "name": "Tỉnh B",
            "url": b.url,
            "secret": SECRET,
            "organs": [{"id": b.code, "name": b.name}],
        }
    ]
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tinhso.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--worker-class", "gthread",
             "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=errors,
        )  # fmt: skip
    try:
        wait_for(lambda: _get(f"{b.url}/healthz")[0] in (200, 503), "server B", WAIT)
        yield b
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return _http("GET", url, b"", headers or {})


def _http(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=body if method == "POST" else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (loopback)
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def _signed(peer: exchange.Peer, method: str, path: str, body: bytes = b"", query: str = "") -> Any:
    """A request to B signed as A: (status, the JSON answer or the bytes)."""
    headers = exchange.request_sign(peer, method, path + query, body)
    headers["Content-Type"] = "application/xml"
    status, answer = _http(method, peer.url + path + query, body, headers)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, answer


MESSAGES = "/api/v1/edxml/messages"


def _trace(outgoing: Outgoing) -> list[str]:
    return [e.code for e in outgoing.recipients.get().trace.all()]


def _issue(b: Installation) -> Outgoing:
    """A's Sở Tư pháp drafts, reviews, approves and issues a document to B's."""
    stp = demo_agency("STP")
    to_b = [RecipientIn(kind=RecipientKind.EXTERNAL, name=b.name, organ_id=b.code)]
    draft = draft_save(
        actor=user("cv.tuphap"),
        agency=stp,
        unit=Unit.objects.get(agency=stp, code="HCTP"),
        doc_type="CV",
        subject="Phối hợp rà soát thủ tục hành chính liên tỉnh",
        content="Sở Tư pháp tỉnh A đề nghị Sở Tư pháp tỉnh B phối hợp...\n\nTrân trọng.",
        recipients=to_b,
    )
    for who, action in (
        ("cv.tuphap", "submit"),
        ("tp.tuphap", "forward"),
        ("lanhdao", "approve"),
        ("vanthu.tuphap", "issue"),
    ):
        draft.refresh_from_db()
        outgoing_act(outgoing=draft, actor=user(who), action=action, version=draft.version)
    draft.refresh_from_db()
    assert draft.status == OutgoingStatus.ISSUED
    assert draft.signed_id is not None
    return draft


def _pdf_changed(pdf: bytes) -> bytes:
    """The signed PDF with one byte of its signed range changed (the binary comment of its
    second line: the file still reads as a PDF, its signature no longer matches)."""
    at = pdf.index(b"\n%", 0, 64) + 2
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def test_two_installations_exchange_a_document_over_http(installation_b: Installation) -> None:
    b = installation_b
    peer_b = exchange.peers()["tinh-b"]
    a_stp = demo_agency("STP")

    # --- A issues; the document is POSTed to B as it is sent (outbox, after commit) ------
    outgoing = _issue(b)
    outbox_deliver_pending()
    sent = Message.objects.get(direction="out", kind="document", document_id=outgoing.document_id)
    assert (sent.peer, sent.to_organ, sent.state) == ("tinh-b", b.code, MessageState.DELIVERED)
    there = b.run(f"state({outgoing.document_id!r})")
    [incoming] = there["incoming"]
    assert incoming["status"] == "arrived"
    assert (incoming["agency"], incoming["sender_organ_id"], incoming["sender_peer"]) == (
        b.code,
        a_stp.code,
        "tinh-a",
    )
    assert incoming["notation"] == outgoing.notation
    [(pdf_name, pdf_type, pdf_size)] = incoming["attachments"]
    assert (pdf_type, pdf_name[-4:]) == ("application/pdf", ".pdf")
    assert pdf_size > 1000
    assert _trace(outgoing) == []  # 01 waits in B's outbox

    # --- B's worker pushes 01 back over HTTP to A ----------------------------------------
    assert b.run("deliver()")["delivered"] >= 1
    assert _trace(outgoing) == ["01"]

    # --- B registers (03) and assigns (04); A pulls them from B's mailbox ----------------
    assert b.run(f"act({outgoing.document_id!r}, 'register')")["status"] == "registered"
    assert b.run(f"act({outgoing.document_id!r}, 'assign')")["status"] == "assigned"
    status, pending = _signed(peer_b, "GET", "/api/v1/edxml/pending")
    assert status == 200
    assert len(pending["ids"]) == 2, pending
    assert exchange.poll(peer_b) == 2
    assert _trace(outgoing) == ["01", "03", "04"]
    assert _signed(peer_b, "GET", "/api/v1/edxml/pending") == (200, {"ids": []})
    # B's worker runs its outbox: the pulled (confirmed) messages do not leave again.
    b.run("deliver()")
    assert _trace(outgoing) == ["01", "03", "04"]

    # --- B answers A the statuses it sent back about A's document -------------------------
    status, traces = _signed(
        peer_b, "GET", "/api/v1/edxml/traces", query=f"?document_id={outgoing.document_id}"
    )
    assert status == 200
    assert [(t["organ_id"], t["code"]) for t in traces] == [
        (b.code, "01"),
        (b.code, "03"),
        (b.code, "04"),
    ]
    assert _get(f"{b.url}/api/v1/edxml/traces?document_id={outgoing.document_id}")[0] == 401

    # --- what B refuses, and a repeat -----------------------------------------------------
    content = read_bytes(sent.storage_name)
    status, answer = _signed(peer_b, "POST", MESSAGES, content)
    assert (status, answer["repeat"]) == (200, True), answer
    assert _http("POST", b.url + MESSAGES, content, {"Content-Type": "application/xml"})[0] == 401
    wrong = exchange.request_sign(peer_b, "POST", MESSAGES, b"something else")
    assert _http("POST", b.url + MESSAGES, content, wrong)[0] == 401
    parsed = edxml.parse(content)
    assert isinstance(parsed, edxml.DocumentMessage)
    forged = edxml.document_build(
        replace(
            parsed,
            document_id=f"{parsed.document_id}1",
            sender=edxml.Organ(organ_id="000.00.99.H56", name="Một cơ quan không phải của A"),
        )
    )
    status, answer = _signed(peer_b, "POST", MESSAGES, forged)
    assert (status, answer["code"]) == (403, "edxml_forged_sender"), answer
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><e>&x;</e></edXML>'
    )
    status, answer = _signed(peer_b, "POST", MESSAGES, xxe)
    assert (status, answer["code"]) == (400, "edxml_dtd"), answer
    never = edxml.status_build(
        edxml.StatusMessage(
            response_for=edxml.Reference(
                organ_id=b.code,
                code="7/STP-VP",
                promulgation_date=timezone.localdate(),
                document_id=f"{b.code}.2026.1.7",
            ),
            sender=exchange.organ_of(a_stp),
            status_code="01",
            description="Đã đến",
            timestamp=timezone.now(),
        )
    )
    status, answer = _signed(peer_b, "POST", MESSAGES, never)
    assert (status, answer["code"]) == (404, "edxml_unknown_document"), answer
    [pdf] = [a for a in parsed.attachments if a.content_type == "application/pdf"]
    tampered = edxml.document_build(
        replace(
            parsed,
            document_id=f"{parsed.document_id}2",
            attachments=(replace(pdf, content=_pdf_changed(pdf.content), content_id=""),),
        )
    )
    status, answer = _signed(peer_b, "POST", MESSAGES, tampered)
    assert (status, answer["code"]) == (422, "edxml_broken_signature"), answer
    there = b.run(f"state({outgoing.document_id!r})")
    assert len(there["incoming"]) == 1  # the repeat registered nothing twice
    assert there["incoming"][0]["number"] == 1
    kinds = [(m["direction"], m["kind"]) for m in there["messages"]]
    assert kinds.count(("in", "document")) == 1

    # --- A recalls: 13 travels to B, B's clerk accepts, 15 travels back --------------------
    outgoing = outgoing_recall(
        outgoing=outgoing, actor=user("vanthu.tuphap"), reason="Ban hành nhầm đối tượng"
    )
    assert Message.objects.get(direction="out", status_code="13").state == MessageState.DELIVERED
    assert _trace(outgoing) == ["01", "03", "04", "13"]
    [incoming] = b.run(f"state({outgoing.document_id!r})")["incoming"]
    assert incoming["recall"] == "requested"
    answered = b.run(f"act({outgoing.document_id!r}, 'recall_accept')")
    assert (answered["status"], answered["recall"]) == ("recalled", "done")
    assert b.run("deliver()")["delivered"] >= 1
    outgoing.refresh_from_db()
    assert outgoing.recall == "done"
    assert _trace(outgoing) == ["01", "03", "04", "13", "15"]
    status, traces = _signed(
        peer_b, "GET", "/api/v1/edxml/traces", query=f"?document_id={outgoing.document_id}"
    )
    assert [t["code"] for t in traces] == ["01", "03", "04", "15"]

    # --- every message either side keeps is edXML the schema accepts ---------------------
    there = b.run(f"state({outgoing.document_id!r})")
    assert there["invalid"] == []
    assert sorted((m["direction"], m["kind"], m["status_code"]) for m in there["messages"]) == [
        ("in", "document", ""),
        ("in", "status", "13"),
        ("out", "status", "01"),
        ("out", "status", "03"),
        ("out", "status", "04"),
        ("out", "status", "15"),
    ]
    kept = list(Message.objects.order_by("id"))
    assert sorted((m.direction, m.kind, m.status_code) for m in kept) == [
        ("in", "status", "01"),
        ("in", "status", "03"),
        ("in", "status", "04"),
        ("in", "status", "15"),
        ("out", "document", ""),
        ("out", "status", "13"),
    ]
    for message in kept:
        edxml.validate(read_bytes(message.storage_name))
