"""Least privilege (issue 12, docs/adr/0015-least-privilege.md): every page and endpoint
that touches a dossier, its papers, its forms, the register, its payment or its receipt,
requested by every actor of the cast in tests/permissions.py. Only the roles the ADR's
table names get personal data or act; every official's read is in the citizen's log."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from flows import act, user
from permissions import ACTORS, HANDLERS, Matrix, assert_matrix, body, cast, refused
from test_payments import bank_through, pending
from test_submission import submission
from tinhso.accounts.selectors import identity_profile
from tinhso.catalog.models import Procedure
from tinhso.core.models import PersonalDataAccess
from tinhso.dossiers.models import DocumentKind, Dossier, DossierStatus
from tinhso.dossiers.services import Attachment, dossier_submit
from tinhso.payments.models import Payment

pytestmark = pytest.mark.django_db


def paying_dossier(citizen: Any) -> Dossier:
    """A change of civil-status record (15,000 đ, one scanned paper) asked of Phường Hạc
    Thành: received, assigned to its specialist, waiting for the fee."""
    from tinhso.core import files
    from tinhso.dossiers.demo import sample_form, simple_pdf

    procedure = Procedure.objects.get(code="TH.HT.07")
    scan = files.check_upload(None, name="can-cu.pdf", content=simple_pdf(["can cu"]))
    dossier = dossier_submit(
        submission=submission(
            citizen, procedure=procedure,
            form_data=sample_form(procedure.form_schema, identity_profile(citizen)),
            attachments=[Attachment(paper=p, upload=scan) for p in procedure.papers.all()
                         if not p.eform],
        )
    )  # fmt: skip
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    return act(dossier, "chuyenvien.hacthanh", "request_payment")


class Scene:
    """A change of civil-status record at Phường Hạc Thành: received (BM.01 issued), one
    scanned paper, assigned to its specialist, paid through the bank (signed receipt), being
    processed."""

    def __init__(self, client: Client) -> None:
        self.applicant = user("038090000001")
        dossier = paying_dossier(self.applicant)
        self.payment: Payment = pending(dossier)
        status, _answer = bank_through(client).pay(self.payment.vietqr())
        assert status == 200
        self.payment.refresh_from_db()
        assert self.payment.receipt_id is not None
        self.dossier = Dossier.objects.get(pk=dossier.pk)
        assert self.dossier.state == "processing"
        self.file = self.dossier.files.get()
        self.bm01 = self.dossier.documents.get(kind=DocumentKind.BM01)
        self.matrix = Matrix(cast())

    def official(self, suffix: str = "") -> str:
        return f"/can-bo/ho-so/{self.dossier.code}/{suffix}"


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def reads_of(scene: Scene) -> dict[str, int]:
    """How many reads of the applicant's data each official left in the citizen's log."""
    rows = PersonalDataAccess.objects.filter(citizen=scene.applicant)
    return {
        actor: rows.filter(official=person).count()
        for actor, person in scene.matrix.people.items()
        if person is not None and rows.filter(official=person).exists()
    }


# --- the back office's pages --------------------------------------------------------------


def test_the_dossier_page(scene: Scene) -> None:
    PersonalDataAccess.objects.all().delete()
    answers = scene.matrix.run(lambda c: c.get(scene.official()))
    assert_matrix(answers, full=HANDLERS, limited={"clerk"})
    for actor in HANDLERS:
        page = body(answers[actor])
        assert "038090000001" in page  # the declaration is shown
        assert "Lê Lai" in page
    clerk = body(answers["clerk"])
    assert "038******001" in clerk  # masked
    assert "form-data" not in clerk  # no declaration
    assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)


def test_an_attached_paper(scene: Scene) -> None:
    PersonalDataAccess.objects.all().delete()
    answers = scene.matrix.run(lambda c: c.get(scene.official(f"tep/{scene.file.pk}/")))
    assert_matrix(answers, full=HANDLERS)
    assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)
    assert PersonalDataAccess.objects.filter(record="attachment").count() == len(HANDLERS)


def test_an_issued_form(scene: Scene) -> None:
    PersonalDataAccess.objects.all().delete()
    answers = scene.matrix.run(lambda c: c.get(scene.official(f"bieu-mau/{scene.bm01.pk}/")))
    assert_matrix(answers, full=HANDLERS)
    assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)


def test_the_process_control_sheet(scene: Scene) -> None:
    PersonalDataAccess.objects.all().delete()
    answers = scene.matrix.run(lambda c: c.get(scene.official("bm05/")))
    assert_matrix(answers, full=HANDLERS)
    assert PersonalDataAccess.objects.filter(record="bm05").count() == len(HANDLERS)


def test_the_register_of_dossiers(scene: Scene) -> None:
    """BM.06 lists applicants' addresses and phones: the agency's receivers and leaders
    keep it; an official of another agency gets their own agency's register only."""
    PersonalDataAccess.objects.all().delete()
    hac_thanh = scene.dossier.receiving_agency
    assert hac_thanh is not None
    answers = scene.matrix.run(lambda c: c.get("/can-bo/so-theo-doi/", {"co_quan": hac_thanh.code}))
    listed = set()
    for actor, response in answers.items():
        if response.status_code == 200:
            sheet = load_workbook(io.BytesIO(response.content)).active
            assert sheet is not None
            codes = {str(row[1]) for row in sheet.iter_rows(min_row=4, values_only=True)}
            if scene.dossier.code in codes:
                listed.add(actor)
        else:
            assert refused(response, "web"), actor
    assert listed == {"receiver", "leader"}
    # Each applicant listed sees the download in their log.
    assert reads_of(scene) == {"receiver": 1, "leader": 1}
    assert set(PersonalDataAccess.objects.values_list("record", flat=True)) == {"bm06"}


def test_taking_an_action_on_the_page(scene: Scene) -> None:
    """The finding of issue 12: the province's specialist forwarded a commune's dossier.
    Now only the specialist handling it may, and nobody else changes anything."""
    version = scene.dossier.version
    others = [a for a in ACTORS if a != "specialist"]
    answers = scene.matrix.run(
        lambda c: c.post(scene.official("thao-tac/"), {"action": "forward", "version": version}),
        actors=others,
    )
    for actor, response in answers.items():
        scene.dossier.refresh_from_db()
        assert (scene.dossier.version, scene.dossier.state) == (version, "processing"), actor
        if actor in ("anonymous",):
            assert refused(response, "web")
        elif actor in HANDLERS | {"clerk"}:
            # They handle it, but their role may not forward: the page says so.
            assert response.status_code == 302
        else:
            assert response.status_code == 403, actor
    done = scene.matrix.client("specialist").post(
        scene.official("thao-tac/"), {"action": "forward", "version": version}
    )
    assert done.status_code == 302
    scene.dossier.refresh_from_db()
    assert scene.dossier.state == "approving"


def test_extending_on_the_page(scene: Scene) -> None:
    """BM.04 is the decision of the specialist or the leader handling the dossier; the
    accountant of the agency (or of any other) may not issue it."""
    version = scene.dossier.version
    due = scene.dossier.due_at
    assert due is not None
    form = {"version": version, "reason": "Chờ xác minh", "new_due": "2099-01-01T09:00"}
    others = [a for a in ACTORS if a not in ("specialist", "leader")]
    answers = scene.matrix.run(lambda c: c.post(scene.official("gia-han/"), form), actors=others)
    for actor, response in answers.items():
        assert response.status_code in (302, 403), actor
        scene.dossier.refresh_from_db()
        assert scene.dossier.due_at == due, actor
    assert not scene.dossier.documents.filter(kind=DocumentKind.BM04).exists()
    scene.matrix.client("leader").post(scene.official("gia-han/"), form)
    assert scene.dossier.documents.filter(kind=DocumentKind.BM04).exists()


def test_the_clerk_opens_only_the_result_they_seal(scene: Scene) -> None:
    dossier = act(scene.dossier, "chuyenvien.hacthanh", "forward")
    dossier = act(dossier, "lanhdao.hacthanh", "approve")
    result = dossier.documents.get(kind=DocumentKind.RESULT)
    clerk = scene.matrix.client("clerk")
    PersonalDataAccess.objects.all().delete()
    assert clerk.get(scene.official(f"bieu-mau/{result.pk}/")).status_code == 200
    assert clerk.get(scene.official(f"bieu-mau/{scene.bm01.pk}/")).status_code == 403
    assert clerk.get(scene.official(f"tep/{scene.file.pk}/")).status_code == 403
    assert clerk.get(scene.official("bm05/")).status_code == 403
    access = PersonalDataAccess.objects.get()
    assert (access.official.username, access.record) == ("vanthu.hacthanh", "document")
    page = clerk.get(scene.official())
    assert f"bieu-mau/{result.pk}/" in body(page)
    assert f"bieu-mau/{scene.bm01.pk}/" not in body(page)
    clerk.post(scene.official("thao-tac/"), {"action": "issue", "version": dossier.version})
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.FINISHED


# --- the citizen's pages ------------------------------------------------------------------


def test_the_applicants_own_pages(scene: Scene) -> None:
    page = f"/ho-so-cua-toi/{scene.dossier.public_id}/"
    assert_matrix(scene.matrix.run(lambda c: c.get(page)), full={"applicant"})
    form = f"{page}bieu-mau/{scene.bm01.pk}/"
    assert_matrix(scene.matrix.run(lambda c: c.get(form)), full={"applicant"})
    assert not PersonalDataAccess.objects.filter(citizen=scene.applicant).exists()


def test_public_tracking_shows_no_personal_data(scene: Scene) -> None:
    everyone = set(ACTORS)
    page = scene.matrix.run(lambda c: c.get("/tra-cuu-ho-so/", {"ma": scene.dossier.code}))
    assert_matrix(page, full=set(), limited=everyone)
    api = scene.matrix.run(lambda c: c.get(f"/api/v1/track/{scene.dossier.code}"), kind="api")
    assert_matrix(api, full=set(), limited=everyone, kind="api")


# --- payments and receipts ----------------------------------------------------------------

PAYMENT_READERS = {"applicant", "accountant", *HANDLERS}


def test_the_payment_notice_and_the_receipt(scene: Scene) -> None:
    PersonalDataAccess.objects.all().delete()
    reference = scene.payment.reference
    notice = scene.matrix.run(lambda c: c.get(f"/thanh-toan/{reference}/"))
    assert_matrix(notice, full=PAYMENT_READERS)
    receipt = scene.matrix.run(lambda c: c.get(f"/thanh-toan/{reference}/bien-lai/"))
    assert_matrix(receipt, full=PAYMENT_READERS)
    api = scene.matrix.run(lambda c: c.get(f"/api/v1/payments/{reference}"), kind="api")
    assert_matrix(api, full=PAYMENT_READERS, kind="api")
    # Three looks of each official (notice, receipt, API), none of the applicant's own.
    assert reads_of(scene) == dict.fromkeys(PAYMENT_READERS - {"applicant"}, 3)


def test_asking_for_a_payment_over_the_api(scene: Scene) -> None:
    answers = scene.matrix.run(
        lambda c: c.post(
            "/api/v1/payments", {"dossier": scene.dossier.code},
            content_type="application/json",
        ),
        kind="api",
    )  # fmt: skip
    # The handlers may ask (the fee is paid already, so it is refused on its merits: 422);
    # nobody else learns that the dossier exists (404).
    assert_matrix(answers, full={"applicant", *HANDLERS}, kind="api", ok=(200, 201, 409, 422))


def test_the_accountants_page_is_their_agencys_only(scene: Scene) -> None:
    answers = scene.matrix.run(lambda c: c.get("/can-bo/thanh-toan/"))
    assert_matrix(answers, full={"accountant"})
    assert scene.payment.reference in body(answers["accountant"])
    # The service centre's accountant keeps the centre's payments, not a commune's.
    centre = Client()
    centre.force_login(user("ketoan"))
    assert scene.payment.reference not in body(centre.get("/can-bo/thanh-toan/"))


# --- the API ------------------------------------------------------------------------------


def test_reading_the_dossier_over_the_api(scene: Scene) -> None:
    PersonalDataAccess.objects.all().delete()
    url = f"/api/v1/dossiers/{scene.dossier.code}"
    answers = scene.matrix.run(lambda c: c.get(url), kind="api")
    assert_matrix(answers, full={"applicant", *HANDLERS}, limited={"clerk"}, kind="api")
    assert answers["receiver"].json()["form"]["so_dinh_danh"] == "038090000001"
    clerk = answers["clerk"].json()
    assert (clerk["form"], clerk["files"]) == (None, [])
    assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)


def test_the_dossier_list_over_the_api(scene: Scene) -> None:
    answers = scene.matrix.run(lambda c: c.get("/api/v1/dossiers"), kind="api")
    listing = {
        actor
        for actor, response in answers.items()
        if response.status_code == 200
        and scene.dossier.code in [d["code"] for d in response.json()["items"]]
    }
    assert listing == {"applicant", "clerk", *HANDLERS}
    assert answers["anonymous"].status_code == 401
    for response in answers.values():
        assert not any(m in body(response) for m in ("038090000001", "0912000001"))


def test_actions_over_the_api(scene: Scene) -> None:
    url = f"/api/v1/dossiers/{scene.dossier.code}/actions"
    version = scene.dossier.version
    others = [a for a in ACTORS if a != "specialist"]
    answers = scene.matrix.run(
        lambda c: c.post(
            url, {"action": "forward", "version": version}, content_type="application/json"
        ),
        kind="api",
        actors=others,
    )
    assert_matrix(answers, full=set(), kind="api")
    scene.dossier.refresh_from_db()
    assert (scene.dossier.version, scene.dossier.state) == (version, "processing")
    done = scene.matrix.client("specialist", "api").post(
        url, {"action": "forward", "version": version}, content_type="application/json"
    )
    assert done.status_code == 200
    assert done.json()["state"] == "approving"


def test_extending_over_the_api(scene: Scene) -> None:
    url = f"/api/v1/dossiers/{scene.dossier.code}/extension"
    payload = json.dumps(
        {"reason": "Chờ xác minh", "new_due": "2099-01-01T09:00:00+07:00",
         "version": scene.dossier.version}
    )  # fmt: skip
    others = [a for a in ACTORS if a not in ("specialist", "leader")]
    answers = scene.matrix.run(
        lambda c: c.post(url, payload, content_type="application/json"), kind="api", actors=others
    )
    assert_matrix(answers, full=set(), kind="api")
    assert not scene.dossier.documents.filter(kind=DocumentKind.BM04).exists()
    done = scene.matrix.client("specialist", "api").post(
        url, payload, content_type="application/json"
    )
    assert done.status_code == 200


def test_looking_up_citizens(scene: Scene) -> None:
    """Only the counter looks a person up by personal ID; other roles reach people through
    the dossiers they handle."""
    payload = {"personal_id": "038090000001", "purpose": "Kiểm tra danh tính tại quầy"}
    answers = scene.matrix.run(
        lambda c: c.post("/api/v1/citizens/lookup", payload, content_type="application/json"),
        kind="api",
    )
    assert_matrix(answers, full={"receiver", "other_agency"}, kind="api")
    page = scene.matrix.run(lambda c: c.get("/can-bo/tra-cuu-cong-dan/"))
    assert_matrix(page, full={"receiver", "other_agency"})


def test_registering_at_the_counter(scene: Scene) -> None:
    """Receivers identify the people at their own counter (Hạc Thành's and Hoằng Hóa's both
    receive this commune procedure); nobody else reaches the registry this way."""
    lookup = {"procedure": "1.001193", "personal_id": "038190000006", "lookup": "1"}
    answers = scene.matrix.run(lambda c: c.post("/can-bo/tiep-nhan-truc-tiep/", lookup))
    assert_matrix(
        answers, full={"receiver", "other_agency"}, markers=["038190000006", "0912000006"]
    )
    assert "Nguyễn Thị Bình" in body(answers["receiver"])


def test_the_citizen_reads_every_official_look_and_no_refused_one(
    scene: Scene, token_for: Any
) -> None:
    PersonalDataAccess.objects.all().delete()
    for suffix in ("", f"tep/{scene.file.pk}/", f"bieu-mau/{scene.bm01.pk}/", "bm05/"):
        scene.matrix.run(lambda c, s=suffix: c.get(scene.official(s)))  # type: ignore[misc]
    readers = set(PersonalDataAccess.objects.values_list("official__username", flat=True))
    assert readers == {"tiepnhan.hacthanh", "chuyenvien.hacthanh", "lanhdao.hacthanh"}
    log = Client().get(
        "/api/v1/me/data-access", {"page_size": 100}, headers=token_for(scene.applicant)
    )
    assert log.status_code == 200
    items = log.json()["items"]
    assert len(items) == 4 * len(HANDLERS)
    assert {i["record"] for i in items} == {"dossier", "attachment", "document", "bm05"}
    assert all(i["agency"] == "Ủy ban nhân dân phường Hạc Thành" for i in items)
