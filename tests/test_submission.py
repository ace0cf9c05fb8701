"""Submitting dossiers: the web form, the API, bad input, drafts, stored papers, tracking."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

import samples
from tinhso.agencies.models import Agency
from tinhso.catalog.models import Procedure
from tinhso.core import files as dossier_files
from tinhso.core.models import AuditEntry, Notification, NumberSequence
from tinhso.core.outbox import outbox_deliver_pending
from tinhso.dossiers.models import Dossier, DossierFile, DossierStatus
from tinhso.dossiers.services import (
    Attachment,
    DossierInvalid,
    Submission,
    dossier_submit,
    stored_paper_add,
)

pytestmark = pytest.mark.django_db

PDF = samples.pdf()
PNG = samples.png()
EXE = samples.EXE
BIRTH = "1.001193"
CODE_RE = re.compile(r"^000\.\d{2}\.\d{2}\.H56-\d{6}-\d{4}$")


def hac_thanh() -> Agency:
    return Agency.objects.get(admin_unit_name="Phường Hạc Thành")


def birth_form() -> dict[str, Any]:
    return {
        "nguoi_yeu_cau": {
            "ho_ten": "Nguyễn Văn An",
            "so_dinh_danh": "038090000001",
            "noi_cu_tru": "Số 12 Lê Lai",
        },
        "quan_he": "cha",
        "tre": {
            "ho_ten": "Nguyễn Minh Khôi",
            "gioi_tinh": "nam",
            "ngay_sinh": "2026-11-01",
            "noi_sinh": "Bệnh viện Đa khoa tỉnh",
        },
        "me": {"ho_ten": "Nguyễn Thị Bình"},
    }


def birth_paper(procedure: Procedure) -> Any:
    return procedure.papers.get(paper_type="giay-chung-sinh")


def submission(
    citizen: Any, *, content: bytes = PDF, name: str = "chung-sinh.pdf", **over: Any
) -> Submission:
    procedure = Procedure.objects.get(code=BIRTH)
    checked = dossier_files.check_upload(None, name=name, content=content)
    values: dict[str, Any] = {
        "procedure": procedure,
        "applicant": citizen,
        "receiving_agency": hac_thanh(),
        "result_method": "online",
        "form_data": birth_form(),
        "attachments": [Attachment(paper=birth_paper(procedure), upload=checked)],
    }
    values.update(over)
    return Submission(**values)


def stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_submitting_numbers_the_dossier_and_records_everything(citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    today = timezone.localdate()
    assert dossier.code == f"{hac_thanh().code}-{today:%y%m%d}-0001"
    assert CODE_RE.match(dossier.code)
    assert dossier.status == DossierStatus.NEW
    assert dossier.channel == 2
    assert [(e.from_status, e.to_status) for e in dossier.events.all()] == [(0, 1)]
    assert AuditEntry.objects.filter(action="dossier.submitted", object_id=str(dossier.pk)).exists()
    stored = dossier.files.get()
    assert stored.content_type == "application/pdf"
    assert stored.original_name == "chung-sinh.pdf"
    path = Path(django_settings.MEDIA_ROOT) / stored.storage_name
    assert path.read_bytes() == PDF
    assert "chung-sinh" not in path.name
    assert dossier_submit(submission=submission(citizen)).code.endswith("-0002")
    notes = Notification.objects.filter(user=citizen)
    assert {n.channel for n in notes} == {"inbox", "sms"}
    assert {n.channel for n in notes if dossier.code in n.subject} == {"inbox", "sms"}
    assert outbox_deliver_pending() >= 2
    assert all(n.sent_at for n in Notification.objects.filter(user=citizen))


def _nothing_kept(before: tuple[int, int, int]) -> None:
    assert (
        Dossier.objects.exclude(status=DossierStatus.DRAFT).count(),
        DossierFile.objects.count(),
        sum(NumberSequence.objects.filter(register="dossier").values_list("last", flat=True)),
    ) == before
    assert stored_files() == []


def _counts() -> tuple[int, int, int]:
    return (
        Dossier.objects.exclude(status=DossierStatus.DRAFT).count(),
        DossierFile.objects.count(),
        sum(NumberSequence.objects.filter(register="dossier").values_list("last", flat=True)),
    )


def test_a_renamed_executable_is_refused_by_its_content() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        dossier_files.check_upload(None, name="giay-chung-sinh.pdf", content=EXE)
    assert "giay-chung-sinh.pdf" in str(caught.value)
    assert dossier_files.check_upload(None, name="anh.png", content=PNG).content_type == "image/png"


def test_bad_submissions_leave_nothing_behind(citizen: Any, settings: Any) -> None:
    before = _counts()
    bad_form = birth_form()
    bad_form["tre"]["ngay_sinh"] = "ngày mai"
    with pytest.raises(DossierInvalid) as caught:
        dossier_submit(submission=submission(citizen, form_data=bad_form))
    assert "tre.ngay_sinh" in caught.value.errors
    justice = Agency.objects.get(short_name="STP")
    with pytest.raises(DossierInvalid) as caught:
        dossier_submit(submission=submission(citizen, receiving_agency=justice))
    assert "receiving_agency" in caught.value.errors
    with pytest.raises(DossierInvalid) as caught:
        dossier_submit(submission=submission(citizen, attachments=[]))
    assert f"paper-{birth_paper(Procedure.objects.get(code=BIRTH)).pk}" in caught.value.errors
    _nothing_kept(before)


@pytest.mark.parametrize("level", ["province", "commune", "both"])
def test_the_named_agency_is_checked_as_the_offered_list_reads(level: str) -> None:
    """A submission checks its one agency in memory (`receives`); it must agree with the
    list the form offers (`receiving_agencies_for`) for every agency, closed ones included."""
    from tinhso.catalog.selectors import receives, receiving_agencies_for

    procedure = Procedure.objects.get(code=BIRTH)
    procedure.level = level
    closed = Agency.objects.filter(level="commune").first()
    assert closed is not None
    Agency.objects.filter(pk=closed.pk).update(is_active=False)
    offered = {a.pk for a in receiving_agencies_for(procedure)}
    assert offered
    agencies = list(Agency.objects.all())
    assert {a.pk for a in agencies if receives(a, procedure)} == offered
    assert closed.pk not in offered


def test_a_failure_after_files_were_written_removes_them(
    citizen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinhso.dossiers.services as services

    before = _counts()

    def boom(**_: Any) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", boom)
    with pytest.raises(RuntimeError):
        dossier_submit(submission=submission(citizen))
    _nothing_kept(before)


def _web_post(client: Client, upload: SimpleUploadedFile | None, **extra: str) -> Any:
    procedure = Procedure.objects.get(code=BIRTH)
    data: dict[str, Any] = {
        "action": "submit",
        "receiving_agency": hac_thanh().code,
        "result_method": "online",
        "form.nguoi_yeu_cau.ho_ten": "Nguyễn Văn An",
        "form.nguoi_yeu_cau.so_dinh_danh": "038090000001",
        "form.nguoi_yeu_cau.noi_cu_tru": "Số 12 Lê Lai",
        "form.quan_he": "cha",
        "form.tre.ho_ten": "Nguyễn Minh Khôi",
        "form.tre.gioi_tinh": "nam",
        "form.tre.ngay_sinh": "2026-11-01",
        "form.tre.noi_sinh": "Bệnh viện Đa khoa tỉnh",
        "form.me.ho_ten": "Nguyễn Thị Bình",
        **extra,
    }
    if upload is not None:
        data[f"paper-{birth_paper(procedure).pk}"] = upload
    return client.post(f"/thu-tuc/{BIRTH}/nop-ho-so/", data, HTTP_ACCEPT_LANGUAGE="vi")


def test_the_web_form_is_prefilled_and_submits(login_client: Any, citizen: Any) -> None:
    client = login_client(citizen)
    page = client.get(f"/thu-tuc/{BIRTH}/nop-ho-so/").content.decode()
    assert 'value="Nguyễn Văn An"' in page
    assert 'value="038090000001"' in page
    assert "Từ cơ sở dữ liệu quốc gia về dân cư" in page
    assert '<label for="f-tre-ho_ten">' in page
    response = _web_post(client, SimpleUploadedFile("cs.pdf", PDF, content_type="application/pdf"))
    assert response.status_code == 302
    dossier = Dossier.objects.get(applicant=citizen)
    detail = client.get(response["Location"]).content.decode()
    assert dossier.code in detail


def test_the_web_form_submits_once_and_confirms(login_client: Any, citizen: Any) -> None:
    client = login_client(citizen)
    page = client.get(f"/thu-tuc/{BIRTH}/nop-ho-so/", HTTP_ACCEPT_LANGUAGE="vi")
    once = page.context["once"]
    assert f'name="once" value="{once}"' in page.content.decode()
    first = _web_post(client, SimpleUploadedFile("cs.pdf", PDF), once=once)
    assert first.status_code == 302
    dossier = Dossier.objects.get(applicant=citizen)
    confirmation = client.get(first["Location"], HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Nộp hồ sơ thành công" in confirmation
    assert dossier.code in confirmation
    assert "Các bước tiếp theo" in confirmation
    assert "Dự kiến có kết quả trước ngày" in confirmation
    assert "Bạn nhận kết quả: Trực tuyến" in confirmation
    # The back button and a second press post the same page again: no second dossier.
    again = _web_post(client, SimpleUploadedFile("cs.pdf", PDF), once=once)
    assert again.status_code == 302
    assert again["Location"].startswith(f"/ho-so-cua-toi/{dossier.public_id}/")
    assert Dossier.objects.filter(applicant=citizen).count() == 1
    shown = client.get(again["Location"], HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Biểu mẫu này đã được nộp trước đó" in shown
    # A fresh page is a fresh submission.
    fresh = client.get(f"/thu-tuc/{BIRTH}/nop-ho-so/").context["once"]
    assert fresh != once
    assert _web_post(client, SimpleUploadedFile("cs.pdf", PDF), once=fresh).status_code == 302
    assert Dossier.objects.filter(applicant=citizen).count() == 2


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("giay-chung-sinh.pdf", EXE, content_type="application/pdf"),
            "không phải là tệp PDF, JPEG hoặc PNG",
        ),
        (
            SimpleUploadedFile("lon.pdf", PDF + b"0" * 2_000_000, content_type="application/pdf"),
            "tối đa 1 MB",
        ),
    ],
)
def test_the_web_form_refuses_bad_files_clearly(
    login_client: Any, citizen: Any, settings: Any, upload: Any, message: str
) -> None:
    settings.TINHSO_UPLOAD_MAX_BYTES = 1024 * 1024
    before = _counts()
    response = _web_post(login_client(citizen), upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    _nothing_kept(before)


def test_the_web_form_reports_schema_errors_per_field(login_client: Any, citizen: Any) -> None:
    response = _web_post(
        login_client(citizen),
        SimpleUploadedFile("cs.pdf", PDF),
        **{"form.tre.ngay_sinh": "", "form.quan_he": "hang-xom"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Vui lòng nhập Ngày, tháng, năm sinh." in html
    assert 'aria-invalid="true"' in html
    assert 'value="Nguyễn Minh Khôi"' in html  # what was typed is kept
    assert not Dossier.objects.filter(applicant=citizen).exists()


def test_drafts_keep_partial_work_and_submit_later(login_client: Any, citizen: Any) -> None:
    client = login_client(citizen)
    saved = client.post(
        f"/thu-tuc/{BIRTH}/nop-ho-so/", {"action": "draft", "form.tre.ho_ten": "Bé Na"}
    )
    assert saved.status_code == 302
    draft = Dossier.objects.get(applicant=citizen, status=DossierStatus.DRAFT)
    assert draft.code is None
    assert draft.form_data["tre"]["ho_ten"] == "Bé Na"
    again = client.get(saved["Location"]).content.decode()
    assert 'value="Bé Na"' in again
    assert "Bé Na" not in Client().get("/api/v1/track/x").content.decode()
    final = _web_post(client, SimpleUploadedFile("cs.pdf", PDF), draft=str(draft.public_id))
    assert final.status_code == 302
    draft.refresh_from_db()
    assert draft.status == DossierStatus.NEW
    assert draft.code


def test_a_stored_paper_is_attached_without_uploading(citizen: Any, other_citizen: Any) -> None:
    procedure = Procedure.objects.get(code=BIRTH)
    paper = birth_paper(procedure)
    checked = dossier_files.check_upload(None, name="giay-chung-sinh.pdf", content=PDF)
    mine = stored_paper_add(
        owner=citizen, paper_type="giay-chung-sinh", name="Giấy chứng sinh", checked=checked
    )
    theirs = stored_paper_add(
        owner=other_citizen, paper_type="giay-chung-sinh", name="Giấy chứng sinh", checked=checked
    )
    dossier = dossier_submit(
        submission=submission(citizen, attachments=[Attachment(paper=paper, stored=mine)])
    )
    assert dossier.files.get().stored_paper == mine
    with pytest.raises(DossierInvalid):
        dossier_submit(
            submission=submission(citizen, attachments=[Attachment(paper=paper, stored=theirs)])
        )


# --- API -----------------------------------------------------------------------------------------


def api_body(**over: Any) -> dict[str, Any]:
    procedure = Procedure.objects.get(code=BIRTH)
    body = {
        "procedure": BIRTH,
        "receiving_agency": hac_thanh().code,
        "result_method": "post",
        "delivery_address": "Số 12 Lê Lai, phường Hạc Thành",
        "form": birth_form(),
        "attachments": [
            {
                "paper": birth_paper(procedure).pk,
                "filename": "cs.pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    }
    body.update(over)
    return body


def test_api_submission_with_an_idempotency_key(
    client: Client, token_for: Any, citizen: Any
) -> None:
    headers = {**token_for(citizen), "Idempotency-Key": "abc-123"}
    first = client.post(
        "/api/v1/dossiers", api_body(), content_type="application/json", headers=headers
    )
    assert first.status_code == 201
    code = first.json()["code"]
    assert CODE_RE.match(code)
    assert first.json()["status"]["code"] == 1
    again = client.post(
        "/api/v1/dossiers", api_body(), content_type="application/json", headers=headers
    )
    assert again.status_code == 200
    assert again.json()["code"] == code
    other = client.post(
        "/api/v1/dossiers",
        api_body(result_method="online"),
        content_type="application/json",
        headers=headers,
    )
    assert other.status_code == 409
    assert Dossier.objects.filter(applicant=citizen).count() == 1
    no_key = client.post(
        "/api/v1/dossiers", api_body(), content_type="application/json", headers=token_for(citizen)
    )
    assert no_key.status_code == 201
    assert no_key.json()["code"] != code


def test_api_refuses_bad_input_with_field_errors(
    client: Client, token_for: Any, citizen: Any, clerk: Any
) -> None:
    headers = {**token_for(citizen), "Accept-Language": "vi"}
    exe = api_body()
    exe["attachments"][0]["content_base64"] = base64.b64encode(EXE).decode()
    response = client.post(
        "/api/v1/dossiers", exe, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert any("PDF, JPEG hoặc PNG" in m for ms in response.json()["errors"].values() for m in ms)
    form = birth_form()
    del form["me"]
    bad = client.post(
        "/api/v1/dossiers", api_body(form=form), content_type="application/json", headers=headers
    )
    assert bad.status_code == 422
    assert "me" in bad.json()["errors"]
    assert (
        client.post(
            "/api/v1/dossiers",
            api_body(procedure="9.9"),
            content_type="application/json",
            headers=headers,
        ).status_code
        == 422
    )
    assert (
        client.post("/api/v1/dossiers", api_body(), content_type="application/json").status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/dossiers",
            api_body(),
            content_type="application/json",
            headers=token_for(clerk),
        ).status_code
        == 403
    )
    assert not Dossier.objects.exclude(status=0).exists()


def test_who_sees_which_dossier(
    client: Client,
    token_for: Any,
    citizen: Any,
    other_citizen: Any,
    commune_receiver: Any,
    receiver: Any,
    specialist: Any,
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    url = f"/api/v1/dossiers/{dossier.code}"
    assert client.get(url).status_code == 401  # anonymous
    assert client.get(url, headers=token_for(citizen)).status_code == 200  # the applicant
    assert client.get(url, headers=token_for(other_citizen)).status_code == 403  # another citizen
    assert (
        client.get(url, headers=token_for(specialist)).status_code == 403
    )  # official of another agency
    assert (
        client.get(url, headers=token_for(commune_receiver)).status_code == 200
    )  # official of the agency
    from tinhso.core.models import PersonalDataAccess

    look = PersonalDataAccess.objects.get(citizen=citizen)
    assert (look.official, look.record, look.channel) == (commune_receiver, "dossier", "api")
    assert dossier.code in look.purpose

    def listing(user):
        return [
            d["code"]
            for d in client.get("/api/v1/dossiers", headers=token_for(user)).json()["items"]
        ]

    assert listing(citizen) == [dossier.code]
    assert listing(other_citizen) == []
    assert listing(commune_receiver) == [dossier.code]
    assert listing(receiver) == []


def test_tracking_shows_status_but_never_personal_data(client: Client, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    body = client.get(f"/api/v1/track/{dossier.code}").json()
    assert body["status"]["code"] == 1
    assert body["agency"] == "Ủy ban nhân dân phường Hạc Thành"
    text = str(body) + client.get("/tra-cuu-ho-so/", {"ma": dossier.code}).content.decode()
    for private in ["Nguyễn Văn An", "038090000001", "Nguyễn Minh Khôi", "Lê Lai", "0912000001"]:
        assert private not in text
    assert client.get("/api/v1/track/000.00.00.H56-000000-0000").status_code == 404
    assert client.get("/tra-cuu-ho-so/", {"ma": "khong-co"}).status_code == 404


def test_the_citizen_reads_notifications_and_dossiers_in_the_account(
    login_client: Any, citizen: Any
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    client = login_client(citizen)
    assert dossier.code in client.get("/tai-khoan/").content.decode()
    assert dossier.code in client.get("/ho-so-cua-toi/").content.decode()


def test_a_failed_delivery_is_retried_later_and_not_lost(
    citizen: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from tinhso.core import notifications
    from tinhso.core.models import OutboxMessage

    dossier_submit(submission=submission(citizen))

    class Down:
        def send(self, notification: Any) -> None:
            raise ConnectionError("SMS gateway unreachable")

    monkeypatch.setattr(notifications, "sender_for", lambda channel: Down())
    assert outbox_deliver_pending() == 0
    waiting = OutboxMessage.objects.filter(delivered_at__isnull=True)
    assert waiting.count() >= 2
    assert all("SMS gateway unreachable" in m.last_error for m in waiting)
    monkeypatch.undo()
    waiting.update(available_at=timezone.now() - timedelta(seconds=1))
    assert outbox_deliver_pending() >= 2
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    assert all(n.sent_at for n in Notification.objects.filter(user=citizen))


def test_the_demo_citizen_has_a_stored_paper_offered_on_the_form(
    login_client: Any, citizen: Any
) -> None:
    html = login_client(citizen).get(f"/thu-tuc/{BIRTH}/nop-ho-so/").content.decode()
    assert "Giấy chứng nhận kết hôn · 45/2018" in html
    stored = citizen.stored_papers.get()
    assert (Path(django_settings.MEDIA_ROOT) / stored.storage_name).exists() or stored.size > 0
