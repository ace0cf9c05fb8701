"""The permission matrix of official documents, the e-office (tests/permissions.py): its
pages are for the officials holding a documents role (clerk, specialist, head of unit,
leader) and refuse everyone else (sent to sign in, or 403); an outgoing document, its
attachments and its moves are its drafting agency's own (Sở Tư pháp), never a recipient's
nor an agency above it; an incoming document is its receiving agency's (Sở Nông nghiệp và
Môi trường); an attachment is downloaded by its readers alone (404 for the documents roles
of other agencies); each move is for its role (the author submits and revises, the clerks
and leaders recall, the clerk registers and answers a recall): a wrong role of the right
agency is shown the refusal on the document's page and nothing changes. The edXML exchange
answers only requests signed by a configured peer (401 for everyone else, whatever session
or token they carry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.test.utils import override_settings

from permissions import (
    EVERYONE,
    MEMBERSHIPS,
    Route,
    Scene,
    agency,
    check_route,
    route_id,
    serving,
)
from tinhso.accounts.roles import LEADER
from tinhso.documents import exchange
from tinhso.documents.models import (
    Incoming,
    IncomingStatus,
    Outgoing,
    OutgoingStatus,
    RecallState,
)
from tinhso.documents.roles import CLERK, DOCUMENT_ROLES, SPECIALIST, UNIT_HEAD
from tinhso.dossiers.demo import simple_pdf

pytestmark = pytest.mark.django_db

STAFF = (
    "doc_specialist", "doc_unit_head", "doc_leader", "doc_clerk",  # Sở Tư pháp
    "other_doc_clerk", "other_doc_specialist", "ocop_leader",  # Sở Nông nghiệp và Môi trường
    "ocop_secretary",  # a role of no document at Sở Nông nghiệp và Môi trường
)  # fmt: skip
ALL = EVERYONE | set(STAFF)


def _holding(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """The actors of this matrix's cast who hold one of `roles` in some agency."""
    return frozenset(
        actor
        for actor, held in MEMBERSHIPS.items()
        if actor in ALL and any(role in roles for _where, role in held)
    )


HANDLE = _holding(DOCUMENT_ROLES)  # who enters the e-office at all
DRAFTERS = _holding({SPECIALIST, UNIT_HEAD, LEADER})  # who drafts somewhere
CLERKS = _holding({CLERK})  # who brings in a paper document somewhere
STP = {"doc_specialist", "doc_unit_head", "doc_leader", "doc_clerk"}  # the sender's roles
SNNMT = {"other_doc_clerk", "other_doc_specialist", "ocop_leader"}  # the recipient's roles

Answers = dict[str, HttpResponse]


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def test_the_sender_and_the_recipient_are_their_documents_roles() -> None:
    assert serving("documents.handle", "stp") == STP
    assert serving("documents.handle", "snnmt") == SNNMT
    # The cast holds documents roles elsewhere too: Hạc Thành's clerk and leader, the
    # province's leader; and roles of no document (the OCOP secretary, every other).
    assert {"clerk", "leader", "parent_leader"} <= HANDLE
    assert "ocop_secretary" not in HANDLE
    drafters = {"leader", "parent_leader", "ocop_leader", "doc_specialist", "doc_unit_head",
                "doc_leader", "other_doc_specialist"}  # fmt: skip
    assert drafters == DRAFTERS
    clerks = {"clerk", "doc_clerk", "other_doc_clerk"}
    assert clerks == CLERKS


# --- what each route is asked about ---------------------------------------------------------


def _subject(s: Scene) -> list[str]:
    """What a refusal must not tell: the documents' subjects and their attachment."""
    return [Scene.DOCUMENT_SUBJECT, "phu-luc.pdf"]


def _built(s: Scene) -> None:
    s.incoming  # noqa: B018 (the boxes list it)
    s.draft  # noqa: B018


def _outgoing(s: Scene) -> dict[str, object]:
    return {"pk": s.outgoing.pk}


def _draft(s: Scene) -> dict[str, object]:
    return {"pk": s.draft.pk}


def _incoming(s: Scene) -> dict[str, object]:
    return {"pk": s.incoming.pk}


def _version(case: Callable[[Scene], Any], **data: object) -> Callable[[Scene, str], Any]:
    def form(s: Scene, actor: str) -> dict[str, object]:
        row = case(s)
        return {**data, "version": type(row).objects.get(pk=row.pk).version}

    return form


def _draft_form(s: Scene, actor: str) -> dict[str, object]:
    """A dispatch to Xã Hoằng Hóa (an agency of none of the drafters)."""
    return {"doc_type": "CV", "subject": f"Công văn của ma trận ({actor})",
            "content": "Nội dung.", "urgency": "1", "confidentiality": "0",
            "agencies": [agency("hoang_hoa").pk]}  # fmt: skip


def _revision(s: Scene, actor: str) -> dict[str, object]:
    return {**_draft_form(s, actor), "subject": f"Bản sửa của ma trận ({actor})",
            "version": Outgoing.objects.get(pk=s.draft.pk).version}  # fmt: skip


def _upload_form(s: Scene, actor: str) -> dict[str, object]:
    """A paper letter scanned by the clerk (its number the actor's: no duplicate)."""
    return {"source": "paper", "sender_name": "Công ty TNHH Ma Trận", "doc_type": "CV",
            "notation": f"12/{actor}", "promulgated_on": "2026-11-02",
            "subject": f"Đề nghị của ma trận ({actor})", "urgency": "1",
            "files": SimpleUploadedFile("quet.pdf", simple_pdf(["quet"]),
                                        content_type="application/pdf")}  # fmt: skip


def _recall_asked(s: Scene) -> None:
    """The sender's clerk recalls the dispatch; the request reaches the recipient."""
    from flows import user
    from tinhso.core.outbox import outbox_deliver_pending
    from tinhso.documents.services import outgoing_recall

    s.incoming  # noqa: B018 (arrived before the recall)
    outgoing_recall(outgoing=s.outgoing, actor=user("vanthu.tuphap"), reason="Ban hành nhầm")
    outbox_deliver_pending()
    assert Incoming.objects.get(pk=s.incoming.pk).recall == RecallState.REQUESTED


# --- what must hold after a route ran -------------------------------------------------------


def _drafted(s: Scene, answers: Answers) -> None:
    for actor in DRAFTERS:
        assert Outgoing.objects.filter(subject=f"Công văn của ma trận ({actor})").count() == 1
    assert not Outgoing.objects.filter(subject__startswith="Công văn của ma trận").exclude(
        subject__in=[f"Công văn của ma trận ({a})" for a in DRAFTERS]
    )


def _revised(s: Scene, answers: Answers) -> None:
    subjects = set(Outgoing.objects.filter(subject__startswith="Bản sửa của ma trận").values_list(
        "subject", flat=True))  # fmt: skip
    assert subjects == {"Bản sửa của ma trận (doc_specialist)"}
    assert Outgoing.objects.get(pk=s.draft.pk).subject == "Bản sửa của ma trận (doc_specialist)"


def _submitted(s: Scene, answers: Answers) -> None:
    assert Outgoing.objects.get(pk=s.draft.pk).status == OutgoingStatus.REVIEWING


def _recalled(s: Scene, answers: Answers) -> None:
    outgoing = Outgoing.objects.get(pk=s.outgoing.pk)
    assert outgoing.recall == RecallState.REQUESTED
    # The first to ask (the leader; the clerk then finds it asked already), once.
    assert outgoing.recall_reason == "Ban hành nhầm (doc_leader)"
    assert answers["doc_clerk"].status_code == 303  # asked already: See Other


def _uploaded(s: Scene, answers: Answers) -> None:
    found = dict(Incoming.objects.filter(notation__startswith="12/").values_list(
        "notation", "agency_id"))  # fmt: skip
    assert found == {"12/clerk": agency("hac_thanh").pk, "12/doc_clerk": agency("stp").pk,
                     "12/other_doc_clerk": agency("snnmt").pk}  # fmt: skip


def _registered(s: Scene, answers: Answers) -> None:
    incoming = Incoming.objects.get(pk=s.incoming.pk)
    assert incoming.status == IncomingStatus.REGISTERED
    assert incoming.number is not None


def _recall_answered(s: Scene, answers: Answers) -> None:
    incoming = Incoming.objects.get(pk=s.incoming.pk)
    assert incoming.recall == RecallState.DONE
    assert incoming.status == IncomingStatus.RECALLED


def _not_found_for_other_readers(readers: set[str]) -> Callable[[Scene, Answers], None]:
    """A documents role that may not read the file learns nothing of it: 404, as for a
    file that does not exist."""

    def check(s: Scene, answers: Answers) -> None:
        for actor in (HANDLE - readers) & set(answers):
            assert answers[actor].status_code == 404, actor
        for actor in readers:
            assert answers[actor]["Content-Type"] == "application/pdf", actor

    return check


def _attachment(document: Callable[[Scene], Any]) -> Callable[[Scene], dict[str, object]]:
    def args(s: Scene) -> dict[str, object]:
        return {"pk": document(s).attachments.get(name="phu-luc.pdf").pk}

    return args


def _refused_as_api(s: Scene, answers: Answers) -> None:
    for actor, response in answers.items():
        assert response.json()["code"] == "edxml_unauthenticated", actor


# --- the matrix -----------------------------------------------------------------------------

OUT, IN = "can-bo/van-ban/di/<int:pk>/", "can-bo/van-ban/den/<int:pk>/"
EDXML = "/api/v1/edxml"

ROUTES = [
    # The boxes: for every documents role (each sees its own agencies' boxes).
    Route("GET", "can-bo/van-ban/", name="the boxes", full=HANDLE, extra=STAFF,
          before=_built, markers=_subject),
    # Drafting: the specialists, heads of unit and leaders of some agency.
    Route("GET", "can-bo/van-ban/soan/", name="the draft form", full=DRAFTERS, extra=STAFF),
    Route("POST", "can-bo/van-ban/soan/", name="drafting a dispatch", full=DRAFTERS,
          extra=STAFF, ok=(302,), data=_draft_form, check=_drafted),
    # An outgoing document: its drafting agency's documents roles (the author among them).
    Route("GET", OUT, name="an issued dispatch", full=STP, extra=STAFF, args=_outgoing,
          markers=_subject),
    Route("GET", OUT, name="a draft", full=STP, extra=STAFF, args=_draft, markers=_subject),
    # Its signed PDF: the same readers (a draft has none yet: 404 for them too).
    Route("GET", OUT + "ban-ky/", name="the issued, signed PDF", full=STP, extra=STAFF,
          args=_outgoing),
    # Revising: the author alone (the other roles of the agency refused, 403).
    Route("GET", OUT + "sua/", name="revising a draft", full={"doc_specialist"}, extra=STAFF,
          args=_draft, markers=_subject),
    Route("POST", OUT + "sua/", name="the author revises", full={"doc_specialist"},
          extra=STAFF, args=_draft, ok=(302,), data=_revision, check=_revised,
          markers=_subject),
    # Moves: the author submits; the agency's other roles are shown the refusal on the
    # document's page (302) and nothing changes; everyone else is refused.
    Route("POST", OUT + "xu-ly/", name="the author submits", full={"doc_specialist"},
          limited=STP - {"doc_specialist"}, limited_ok=(302,), extra=STAFF, args=_draft,
          ok=(302,), data=_version(lambda s: s.draft, action="submit"), check=_submitted,
          markers=_subject),
    Route("POST", OUT + "thu-hoi/", name="the clerk or leader recalls",
          full={"doc_clerk", "doc_leader"}, limited={"doc_specialist", "doc_unit_head"},
          limited_ok=(302,), extra=STAFF, args=_outgoing, ok=(302, 303),
          data=lambda s, a: {"note": f"Ban hành nhầm ({a})"},
          check=_recalled, markers=_subject),
    # A paper document brought in: the clerks, each into their own agency.
    Route("GET", "can-bo/van-ban/den/them/", name="the upload form", full=CLERKS,
          extra=STAFF),
    Route("POST", "can-bo/van-ban/den/them/", name="a clerk brings in a letter", full=CLERKS,
          extra=STAFF, ok=(302,), data=_upload_form, check=_uploaded),
    # An incoming document: the receiving agency's documents roles.
    Route("GET", IN, name="an arrived dispatch", full=SNNMT, extra=STAFF, args=_incoming,
          markers=_subject),
    Route("POST", IN + "xu-ly/", name="the clerk registers", full={"other_doc_clerk"},
          limited=SNNMT - {"other_doc_clerk"}, limited_ok=(302,), extra=STAFF,
          args=_incoming, ok=(302,), data=_version(lambda s: s.incoming, action="register"),
          check=_registered, markers=_subject),
    Route("POST", IN + "thu-hoi/", name="the clerk answers a recall",
          full={"other_doc_clerk"}, limited=SNNMT - {"other_doc_clerk"}, limited_ok=(302,),
          extra=STAFF, args=_incoming, before=_recall_asked, ok=(302,),
          data={"answer": "accept"}, check=_recall_answered, markers=_subject),
    # Attachments: the readers of their document alone.
    Route("GET", "can-bo/van-ban/tep/<int:pk>/", name="an outgoing document's file",
          full=STP, extra=STAFF, args=_attachment(lambda s: s.outgoing),
          check=_not_found_for_other_readers(STP), markers=_subject),
    Route("GET", "can-bo/van-ban/tep/<int:pk>/", name="an incoming document's file",
          full=SNNMT, extra=STAFF, args=_attachment(lambda s: s.incoming),
          check=_not_found_for_other_readers(SNNMT), markers=_subject),
    # The edXML exchange: a peer's signature or nothing (the cast's tokens do not count).
    Route("POST", f"{EDXML}/messages", name="unsigned", extra=STAFF, refusal=(401,),
          check=_refused_as_api),
    Route("GET", f"{EDXML}/pending", name="unsigned", extra=STAFF, refusal=(401,),
          check=_refused_as_api),
    Route("GET", f"{EDXML}/messages/{{message_id}}", name="unsigned", extra=STAFF,
          refusal=(401,), args=lambda s: {"message_id": "matrix-1"}, check=_refused_as_api),
    Route("POST", f"{EDXML}/messages/{{message_id}}/received", name="unsigned", extra=STAFF,
          refusal=(401,), args=lambda s: {"message_id": "matrix-1"}, check=_refused_as_api),
    Route("GET", f"{EDXML}/traces", name="unsigned", extra=STAFF, refusal=(401,),
          data=lambda s, a: {"document_id": s.outgoing.document_id}, check=_refused_as_api,
          markers=_subject),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)


PEER = {"code": "matrix-peer", "name": "Tỉnh của ma trận", "url": "http://peer.invalid",
        "secret": "bi-mat-cua-ma-tran",
        "organs": [{"id": "000.00.99.H99", "name": "Sở X"}]}  # fmt: skip


@override_settings(TINHSO_EDXML_PEERS=[PEER], TINHSO_EDXML_SELF="matrix-peer")
def test_a_request_signed_by_a_configured_peer_is_answered(client: Client) -> None:
    """The peer's signature opens the exchange (its pending list, empty here); the same
    request with a signature under another secret, or for another path, does not."""
    peer = exchange.peers()["matrix-peer"]
    path = f"{EDXML}/pending"
    signed = exchange.request_sign(peer, "GET", path)
    answer = client.get(path, headers=signed)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"ids": []}
    forged = exchange.request_sign(exchange.Peer("matrix-peer", "", "", "other"), "GET", path)
    assert client.get(path, headers=forged).status_code == 401
    elsewhere = exchange.request_sign(peer, "GET", f"{EDXML}/messages/x")
    assert client.get(path, headers=elsewhere).status_code == 401
    # A signed request is taken once: the same headers again (a replay) are refused.
    replayed = client.get(path, headers=signed)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "edxml_replayed"
    # A query string is signed with the path: another document's traces need a signature.
    traces = f"{EDXML}/traces?document_id=a"
    signed = exchange.request_sign(peer, "GET", traces)
    assert client.get(traces, headers=signed).status_code == 200
    other = exchange.request_sign(peer, "GET", traces)
    assert client.get(f"{EDXML}/traces?document_id=b", headers=other).status_code == 401
