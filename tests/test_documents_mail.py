"""Documents that arrive by e-mail (documents.mail): the clerk brings a saved message in
(the upload page, or `tinhso documents_mail_import` for a mail fetcher's folder); the
sender, subject, number and notation, date and attachments are read from the message;
a message that does not say its number, has no document attached or attaches something
that is not one is refused with what is missing, and nothing is stored; the same document
twice is 409."""

from __future__ import annotations

import io
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from flows import user
from tinhso.accounts.demo import demo_agency
from tinhso.core.errors import DomainError
from tinhso.core.pdf import page_bytes, plain_page
from tinhso.documents.mail import mail_import, mail_read
from tinhso.documents.models import Incoming, IncomingStatus, Source

pytestmark = pytest.mark.django_db


def pdf() -> bytes:
    page = plain_page()
    page.add_page()
    return page_bytes(page)


def mail(
    *,
    subject: str = "V/v báo cáo tình hình thực hiện TTHC quý IV",
    body: str = "Số: 123/UBND-VP\nThanh Hóa, ngày 05 tháng 11 năm 2026\nKính gửi Sở Tư pháp.",
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = "UBND huyện cũ Nông Cống <vanthu@nongcong.thanhhoa.gov.vn>"
    message["To"] = "vanthu.tuphap@thanhhoa.gov.vn"
    message["Subject"] = subject
    message["Date"] = "Mon, 09 Nov 2026 08:30:00 +0700"
    message.set_content(body)
    for name, content, kind in (
        attachments if attachments is not None else [("123-UBND-VP.pdf", pdf(), "application/pdf")]
    ):
        main, sub = kind.split("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=name)
    return bytes(message)


def test_an_emailed_document_is_read_from_the_message_and_waits_to_be_registered() -> None:
    stp = demo_agency("STP")
    incoming = mail_import(actor=user("vanthu.tuphap"), agency=stp, raw=mail())
    assert incoming.source == Source.EMAIL
    assert incoming.status == IncomingStatus.ARRIVED
    assert incoming.sender_name == "UBND huyện cũ Nông Cống"
    assert incoming.notation == "123/UBND-VP"
    assert incoming.doc_type == "CV"
    assert incoming.promulgated_on == date(2026, 11, 5)
    assert incoming.subject.startswith("V/v báo cáo")
    assert [a.name for a in incoming.attachments.all()] == ["123-UBND-VP.pdf"]


def test_the_type_and_date_come_from_the_notation_and_the_message() -> None:
    read = mail_read(mail(subject="Quyết định số 45/QĐ-UBND về kế hoạch", body="Xem tệp đính kèm."))
    assert read.notation == "45/QĐ-UBND"
    assert read.doc_type == "QĐ"
    assert read.promulgated_on == date(2026, 11, 9)  # the message's Date, in the local zone


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (lambda: mail(subject="Báo cáo", body="Không có số."), "notation"),
        (lambda: mail(attachments=[]), "files"),
        (lambda: mail(attachments=[("bao-cao.pdf", b"not a pdf at all", "application/pdf")]),
         "files"),
        (lambda: mail(subject=""), "subject"),
    ],
)  # fmt: skip
def test_an_incomplete_email_is_refused_with_what_is_missing_and_nothing_stored(
    raw: Any, field: str
) -> None:
    before = Incoming.objects.count()
    with pytest.raises(DomainError) as refused:
        mail_import(actor=user("vanthu.tuphap"), agency=demo_agency("STP"), raw=raw())
    assert refused.value.status == 422
    assert refused.value.errors is not None
    assert field in refused.value.errors
    assert Incoming.objects.count() == before


def test_a_file_that_is_not_an_email_and_the_same_document_twice_are_refused() -> None:
    stp = demo_agency("STP")
    with pytest.raises(DomainError) as refused:
        mail_read(pdf())
    assert refused.value.status == 422
    first = mail_import(actor=user("vanthu.tuphap"), agency=stp, raw=mail())
    with pytest.raises(DomainError) as twice:
        mail_import(actor=user("vanthu.tuphap"), agency=stp, raw=mail())
    assert twice.value.status == 409
    assert Incoming.objects.filter(agency=stp, notation="123/UBND-VP").get() == first


def test_only_the_agencys_clerks_bring_emails_in() -> None:
    with pytest.raises(DomainError) as refused:
        mail_import(actor=user("cv.tuphap"), agency=demo_agency("STP"), raw=mail())
    assert refused.value.status == 403


def test_the_clerk_brings_an_email_in_on_the_upload_page(login_client: Any) -> None:
    client = login_client(user("vanthu.tuphap"))
    eml = SimpleUploadedFile("thu.eml", mail(), "message/rfc822")
    answer = client.post("/can-bo/van-ban/den/them/", {"eml": eml})
    assert answer.status_code == 302
    incoming = Incoming.objects.get(notation="123/UBND-VP", agency=demo_agency("STP"))
    assert answer["Location"] == f"/can-bo/van-ban/den/{incoming.pk}/"
    bad = SimpleUploadedFile("thu.eml", mail(subject="Báo cáo", body="..."), "message/rfc822")
    page = client.post("/can-bo/van-ban/den/them/", {"eml": bad})
    assert page.status_code == 422
    assert "12/UBND-VP" in page.content.decode()  # the message says what to add


def test_the_command_takes_a_fetchers_folder_and_moves_what_it_brought_in(tmp_path: Path) -> None:
    good, bad = tmp_path / "1.eml", tmp_path / "2.eml"
    good.write_bytes(mail())
    bad.write_bytes(mail(attachments=[]))
    done = tmp_path / "done"
    out, err = io.StringIO(), io.StringIO()
    call_command("documents_mail_import", str(good), str(bad), agency=demo_agency("STP").code,
                 clerk="vanthu.tuphap", done=str(done), stdout=out, stderr=err)  # fmt: skip
    assert (done / "1.eml").exists()
    assert bad.exists()
    assert "1 brought in, 1 refused" in out.getvalue()
    assert "2.eml" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("documents_mail_import", str(bad), agency=demo_agency("STP").code,
                     clerk="vanthu.tuphap", stdout=out, stderr=err)  # fmt: skip
