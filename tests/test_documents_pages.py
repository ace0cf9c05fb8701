"""The e-office's pages (module documents) through Django's test client: each page for the
role it serves, the sign-in it needs, 403 for a citizen, an official of another agency or
one without a documents role, 404 for what does not exist; a draft saved through the form,
its moves by POST (a refusal shown, not an error page), a paper document added by the clerk
(a duplicate refused), a file that is not what its name says refused with nothing kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import samples
from flows import user
from tinhso.accounts.demo import demo_agency
from tinhso.core.audit import AuditEntry
from tinhso.documents.models import Attachment, Incoming, Outgoing, OutgoingStatus, Unit

pytestmark = pytest.mark.django_db

HOME = "/can-bo/van-ban/"
DRAFT = "/can-bo/van-ban/soan/"
UPLOAD = "/can-bo/van-ban/den/them/"


def _draft_post(client: Any, **extra: Any) -> Any:
    snnmt = demo_agency("SNNMT")
    unit = Unit.objects.get(agency=demo_agency("STP"), code="HCTP")
    data = {
        "doc_type": "CV",
        "unit": unit.pk,
        "subject": "Phối hợp rà soát thủ tục hành chính",
        "content": "Sở Tư pháp đề nghị...",
        "urgency": 0,
        "confidentiality": 0,
        "agencies": [snnmt.pk],
        **extra,
    }
    return client.post(DRAFT, data)


@pytest.fixture
def draft(login_client: Any) -> Outgoing:
    response = _draft_post(login_client(user("cv.tuphap")))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Outgoing.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))


def test_anonymous_is_sent_to_sign_in() -> None:
    from django.test import Client

    for url in (HOME, DRAFT, UPLOAD, "/can-bo/van-ban/di/1/", "/can-bo/van-ban/tep/1/"):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert "/dang-nhap/" in response["Location"], url


@pytest.mark.parametrize(
    "username", ["cv.tuphap", "tp.tuphap", "lanhdao", "vanthu.tuphap", "vanthu.hacthanh"]
)
def test_the_boxes_open_for_every_documents_role(login_client: Any, username: str) -> None:
    client = login_client(user(username))
    response = client.get(HOME)
    assert response.status_code == 200
    for slug in ("vao-so", "xem-xet", "nhap", "phoi-hop", "de-biet", "qua-han"):
        assert client.get(HOME, {"hop": slug}).status_code == 200
    assert client.get(HOME, {"hop": "khong-co"}).status_code == 404


def test_officials_without_a_documents_role_and_citizens_are_refused(
    login_client: Any, receiver: Any, citizen: Any
) -> None:
    for who in (receiver, citizen):
        client = login_client(who)
        for url in (HOME, DRAFT, UPLOAD):
            assert client.get(url).status_code == 403, (who, url)


def test_the_clerk_cannot_draft_and_the_specialist_cannot_upload(login_client: Any) -> None:
    assert login_client(user("vanthu.tuphap")).get(DRAFT).status_code == 403
    assert login_client(user("cv.tuphap")).get(UPLOAD).status_code == 403
    assert login_client(user("cv.tuphap")).get(DRAFT).status_code == 200
    assert login_client(user("vanthu.tuphap")).get(UPLOAD).status_code == 200


def test_a_draft_is_saved_moved_and_seen_only_by_its_agency(
    login_client: Any, draft: Outgoing, citizen: Any, receiver: Any
) -> None:
    url = f"/can-bo/van-ban/di/{draft.pk}/"
    author = login_client(user("cv.tuphap"))
    page = author.get(url).content.decode()
    assert "Phối hợp rà soát thủ tục hành chính" in page
    assert f"/can-bo/van-ban/di/{draft.pk}/sua/" in page
    assert author.get(f"{url}sua/").status_code == 200
    assert draft.recipients.get().agency == demo_agency("SNNMT")
    # The draft is in the author's "My drafts".
    assert url in author.get(HOME, {"hop": "nhap"}).content.decode()
    # Another agency's officials, a citizen, an official without the role: refused.
    assert login_client(user("cv.nnmt")).get(url).status_code == 403
    assert login_client(user("vanthu.hacthanh")).get(url).status_code == 403
    assert login_client(citizen).get(url).status_code == 403
    assert login_client(receiver).get(url).status_code == 403
    assert author.get("/can-bo/van-ban/di/999999/").status_code == 404
    assert author.get("/can-bo/van-ban/den/999999/").status_code == 404
    # Submit; the head's send-back without a reason is refused and shown, with one it moves.
    response = author.post(f"{url}xu-ly/", {"action": "submit", "version": draft.version})
    assert response.status_code == 302
    draft.refresh_from_db()
    head = login_client(user("tp.tuphap"))
    assert url in head.get(HOME, {"hop": "xem-xet"}).content.decode()
    response = head.post(f"{url}xu-ly/", {"action": "send_back", "version": draft.version})
    assert response.status_code in (302, 303)
    assert head.get(url).status_code == 200
    draft.refresh_from_db()
    assert draft.status == OutgoingStatus.REVIEWING
    stale = head.post(f"{url}xu-ly/", {"action": "forward", "version": draft.version - 1})
    assert stale.status_code == 303
    head.post(f"{url}xu-ly/", {"action": "send_back", "version": draft.version, "note": "Sửa"})
    draft.refresh_from_db()
    assert draft.status == OutgoingStatus.RETURNED
    # The author revises it through the edit form.
    response = author.post(
        f"{url}sua/",
        {
            "doc_type": "CV",
            "subject": "Phối hợp rà soát TTHC năm 2026",
            "content": "Nội dung mới",
            "urgency": 0,
            "confidentiality": 0,
            "agencies": [demo_agency("SNNMT").pk],
            "version": draft.version,
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.subject == "Phối hợp rà soát TTHC năm 2026"
    assert draft.revision == 2


def test_a_draft_with_a_file_that_is_not_a_pdf_is_refused_and_nothing_kept(
    login_client: Any,
) -> None:
    client = login_client(user("cv.tuphap"))
    before = (Outgoing.objects.count(), Attachment.objects.count())
    fake = SimpleUploadedFile("cong-van.pdf", b"just some text\n" * 20, "application/pdf")
    response = _draft_post(client, files=[fake])
    assert response.status_code == 422
    assert "cong-van.pdf" in response.content.decode()
    assert (Outgoing.objects.count(), Attachment.objects.count()) == before


def test_a_draft_with_a_pdf_keeps_it_and_only_readers_download_it(login_client: Any) -> None:
    client = login_client(user("cv.tuphap"))
    pdf = SimpleUploadedFile("du-thao.pdf", samples.pdf(), "application/pdf")
    response = _draft_post(client, files=[pdf])
    assert response.status_code == 302
    outgoing = Outgoing.objects.latest("pk")
    attachment = outgoing.attachments.get()
    url = f"/can-bo/van-ban/tep/{attachment.pk}/"
    assert url in client.get(response["Location"]).content.decode()
    download = login_client(user("tp.tuphap")).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert AuditEntry.objects.filter(
        action="document.file.read", object_id=str(attachment.pk)
    ).exists()
    assert login_client(user("cv.nnmt")).get(url).status_code == 404


def test_a_recipient_without_its_own_unit_is_refused_on_the_form(login_client: Any) -> None:
    client = login_client(user("cv.tuphap"))
    response = _draft_post(client, agencies=[])
    assert response.status_code == 422
    assert Outgoing.objects.filter(subject="Phối hợp rà soát thủ tục hành chính").count() == 0


def test_the_clerk_adds_a_paper_document_once(login_client: Any) -> None:
    clerk = login_client(user("vanthu.tuphap"))
    data = {
        "source": "paper",
        "sender_name": "Bộ Tư pháp",
        "notation": "12/BTP-VP",
        "doc_type": "CV",
        "promulgated_on": "2026-11-20",
        "subject": "Về việc triển khai",
        "urgency": 0,
    }
    scan = SimpleUploadedFile("scan.pdf", samples.pdf(), "application/pdf")
    response = clerk.post(UPLOAD, {**data, "files": [scan]})
    assert response.status_code == 302, response.content.decode()[:2000]
    incoming = Incoming.objects.get(notation="12/BTP-VP")
    page = clerk.get(response["Location"]).content.decode()
    assert "Bộ Tư pháp" in page
    assert 'value="register"' in page
    again = SimpleUploadedFile("scan.pdf", samples.pdf(), "application/pdf")
    response = clerk.post(UPLOAD, {**data, "files": [again]})
    assert response.status_code == 409
    assert "12/BTP-VP" in response.content.decode()
    assert Incoming.objects.filter(notation="12/BTP-VP").count() == 1
    fake = SimpleUploadedFile("scan.pdf", b"not a pdf at all", "application/pdf")
    response = clerk.post(UPLOAD, {**data, "notation": "13/BTP-VP", "files": [fake]})
    assert response.status_code == 422
    assert not Incoming.objects.filter(notation="13/BTP-VP").exists()
    # Register it; the leader sees it to assign, another agency's clerk cannot open it.
    url = f"/can-bo/van-ban/den/{incoming.pk}/"
    clerk.post(f"{url}xu-ly/", {"action": "register", "version": incoming.version})
    incoming.refresh_from_db()
    assert incoming.number is not None
    leader = login_client(user("lanhdao"))
    page = leader.get(url).content.decode()
    assert 'name="lead"' in page
    assert "Trần Thị Hà" in page
    assert login_client(user("vanthu.nnmt")).get(url).status_code == 403
    cv = user("cv.tuphap")
    leader.post(
        f"{url}xu-ly/",
        {"action": "assign", "version": incoming.version, "lead": cv.pk, "days": 5},
    )
    incoming.refresh_from_db()
    assert incoming.assignments.get().user == cv
    handler = login_client(cv)
    page = handler.get(url).content.decode()
    assert f"/can-bo/van-ban/soan/?tra-loi={incoming.pk}" in page
    assert handler.get(DRAFT, {"tra-loi": incoming.pk}).status_code == 200
    assert login_client(user("cv.nnmt")).get(DRAFT, {"tra-loi": incoming.pk}).status_code == 403
