"""Least privilege (issue 12, docs/adr/0015-least-privilege.md): every page and endpoint
of the dossiers module, and every one that touches a dossier, its papers, its forms, the
register, its payment or its receipt, requested by every actor of the cast in
tests/permissions.py. Only the roles the ADR's table names get personal data or act; every
official's read is in the citizen's log."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from openpyxl import load_workbook

from flows import act, user
from permissions import (
    ACTORS,
    CITIZENS,
    EVERYONE,
    HANDLERS,
    OFFICIALS,
    PERSONAL_MARKERS,
    PUBLIC_MARKERS,
    SIGNED_IN,
    Route,
    Scene,
    body,
    check_route,
    hac_thanh,
    route_id,
    serving_anywhere,
)
from tinhso.core.models import PersonalDataAccess
from tinhso.dossiers.models import DocumentKind, Dossier, DossierStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


Answers = dict[str, HttpResponse]


def reads_of(scene: Scene) -> dict[str, int]:
    """How many reads of the applicant's data each official left in the citizen's log."""
    rows = PersonalDataAccess.objects.filter(citizen=scene.applicant)
    return {
        actor: rows.filter(official=person).count()
        for actor, person in scene.matrix.people.items()
        if person is not None and rows.filter(official=person).exists()
    }


def forget_reads(scene: Scene) -> None:
    scene.dossier  # noqa: B018 (built before the log is emptied)
    scene.payment  # noqa: B018
    PersonalDataAccess.objects.all().delete()


def built(scene: Scene) -> None:
    scene.dossier  # noqa: B018 (routes that name no part of it still list it)


def code(scene: Scene) -> dict[str, object]:
    return {"code": scene.dossier.code}


def current(scene: Scene) -> Dossier:
    return Dossier.objects.get(pk=scene.dossier.pk)


# --- the back office's pages --------------------------------------------------------------


def _dossier_page(scene: Scene, answers: Answers) -> None:
    for actor in HANDLERS:
        page = body(answers[actor])
        assert "038090000001" in page  # the declaration is shown
        assert "Lê Lai" in page
    clerk = body(answers["clerk"])
    assert "038******001" in clerk  # masked
    assert "form-data" not in clerk  # no declaration
    assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)


def _one_read_each(record: str) -> Any:
    def check(scene: Scene, answers: Answers) -> None:
        assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)
        assert PersonalDataAccess.objects.filter(record=record).count() == len(HANDLERS)

    return check


def _register_lists(scene: Scene, answers: Answers) -> None:
    """BM.06 lists applicants' addresses and phones: the agency's receivers and leaders
    keep it; an official keeping another agency's register gets that register only."""
    listed = set()
    for actor, response in answers.items():
        if response.status_code == 200:
            sheet = load_workbook(io.BytesIO(response.content)).active
            assert sheet is not None
            codes = {str(row[1]) for row in sheet.iter_rows(min_row=4, values_only=True)}
            if scene.dossier.code in codes:
                listed.add(actor)
    assert listed == {"receiver", "leader"}
    # Each applicant listed sees the download in their log.
    assert reads_of(scene) == {"receiver": 1, "leader": 1}
    assert set(PersonalDataAccess.objects.values_list("record", flat=True)) == {"bm06"}


def _forwarded(scene: Scene, answers: Answers) -> None:
    # The finding of issue 12: the province's specialist forwarded a commune's dossier. Now
    # only the specialist handling it may: the others changed nothing, so it went on from
    # the version they all named, once, by the specialist.
    dossier = current(scene)
    assert dossier.state == "approving"
    assert [e.actor for e in dossier.events.filter(action="forward")] == [
        scene.matrix.people["specialist"]
    ]


def _extended_twice(scene: Scene, answers: Answers) -> None:
    # The specialist and the leader each issued one; nobody else issued any.
    assert current(scene).documents.filter(kind=DocumentKind.BM04).count() == 2


def _extension(scene: Scene, actor: str) -> dict[str, object]:
    month = 2 if actor == "leader" else 1
    return {"version": current(scene).version, "reason": "Chờ xác minh",
            "new_due": f"2099-{month:02d}-01T09:00"}  # fmt: skip


OFFICE = [
    # The box of dossiers being processed: the specialist it is assigned to finds it there
    # (masked); every other holder of a workflow role sees their own boxes.
    Route("GET", "can-bo/ho-so/", name="the inboxes", data={"hop": "xu-ly"},
          full={"specialist"}, limited=serving_anywhere("dossiers.handle") & set(ACTORS),
          markers=lambda s: [*PUBLIC_MARKERS, s.dossier.code],
          check=lambda s, a: _shows(a["specialist"], s.dossier.code)),
    Route("GET", "can-bo/ho-so/<str:code>/", name="the dossier page", args=code,
          full=HANDLERS, limited={"clerk"}, before=forget_reads, check=_dossier_page),
    Route("GET", "can-bo/ho-so/<str:code>/tep/<int:file_id>/", name="an attached paper",
          args=lambda s: {"code": s.dossier.code, "file_id": s.file.pk},
          full=HANDLERS, before=forget_reads, check=_one_read_each("attachment")),
    Route("GET", "can-bo/ho-so/<str:code>/bieu-mau/<int:document_id>/", name="an issued form",
          args=lambda s: {"code": s.dossier.code, "document_id": s.bm01.pk},
          full=HANDLERS, before=forget_reads, check=_one_read_each("document")),
    Route("GET", "can-bo/ho-so/<str:code>/bm05/", name="the process control sheet", args=code,
          full=HANDLERS, before=forget_reads, check=_one_read_each("bm05")),
    Route("GET", "can-bo/so-theo-doi/", name="the register of dossiers (BM.06)",
          data=lambda s, a: {"co_quan": hac_thanh().code},
          full={"receiver", "leader"}, limited={"other_agency", "parent_leader"},
          markers=lambda s: [],  # a workbook: _register_lists reads it
          before=forget_reads, check=_register_lists),
    Route("POST", "can-bo/ho-so/<str:code>/thao-tac/", name="taking an action", args=code,
          data=lambda s, a: {"action": "forward", "version": s.dossier.version},
          # They handle it, but their role may not forward: the page says so.
          full={"specialist"}, limited={"receiver", "leader", "clerk"}, ok=(302,),
          refusal=(403,), check=_forwarded),
    Route("POST", "can-bo/ho-so/<str:code>/gia-han/", name="extending (BM.04)", args=code,
          # BM.04 is the decision of the specialist or the leader handling the dossier; the
          # accountant of the agency (or of any other) may not issue it.
          data=_extension, full={"specialist", "leader"}, limited={"receiver", "clerk"},
          ok=(302,), refusal=(403,), check=_extended_twice),
    Route("GET", "can-bo/tra-cuu-cong-dan/", name="looking a citizen up (page)",
          full={"receiver", "other_agency"}),
    # Receivers identify the people at their own counter (Hạc Thành's and Hoằng Hóa's both
    # receive this commune procedure); nobody else reaches the registry this way.
    Route("POST", "can-bo/tiep-nhan-truc-tiep/", name="registering at the counter",
          data={"procedure": "1.001193", "personal_id": "038190000006", "lookup": "1"},
          full={"receiver", "other_agency"}, markers=lambda s: ["038190000006", "0912000006"],
          check=lambda s, a: _shows(a["receiver"], "Nguyễn Thị Bình")),
]  # fmt: skip


def _shows(response: HttpResponse, text: str) -> None:
    assert text in body(response)


# --- the citizen's pages ------------------------------------------------------------------


def _no_read_logged(scene: Scene, answers: Answers) -> None:
    assert not PersonalDataAccess.objects.filter(citizen=scene.applicant).exists()


def _mine(scene: Scene) -> dict[str, object]:
    return {"public_id": scene.dossier.public_id}


def _submission_page(scene: Scene, answers: Answers) -> None:
    # Each citizen's form is prefilled from their own identity.
    assert "038090000002" in body(answers["other_citizen"])


CITIZEN = [
    Route("GET", "thu-tuc/<str:code>/nop-ho-so/", name="the submission form",
          args=lambda s: {"code": "1.001193"},
          full={"applicant"}, limited={"other_citizen"}, check=_submission_page),
    Route("GET", "ho-so-cua-toi/", name="my dossiers",
          full={"applicant"}, limited={"other_citizen"},
          markers=lambda s: [*PERSONAL_MARKERS, s.dossier.code]),
    Route("GET", "ho-so-cua-toi/<uuid:public_id>/", name="my dossier", args=_mine,
          full={"applicant"}, check=_no_read_logged),
    Route("GET", "ho-so-cua-toi/<uuid:public_id>/bieu-mau/<int:document_id>/", name="my form",
          args=lambda s: {"public_id": s.dossier.public_id, "document_id": s.bm01.pk},
          full={"applicant"}, check=_no_read_logged),
    # The result is not returned yet: the page says so to the applicant, and only to them
    # (a refusal for the dossier's state: 303 back to its page, core.errors.refusals_shown).
    Route("POST", "ho-so-cua-toi/<uuid:public_id>/danh-gia/", name="rating my dossier",
          args=_mine, data={"score": 3}, full={"applicant"}, ok=(303,)),
    Route("GET", "tra-cuu-ho-so/", name="public tracking", limited=EVERYONE,
          data=lambda s, a: {"ma": s.dossier.code}, markers=lambda s: PUBLIC_MARKERS),
    Route("GET", "/api/v1/track/{code}", name="public tracking", limited=EVERYONE, args=code,
          markers=lambda s: PUBLIC_MARKERS),
]  # fmt: skip


# --- payments and receipts ----------------------------------------------------------------

PAYMENT_READERS = {"applicant", "accountant", *HANDLERS}


def _one_look_each(scene: Scene, answers: Answers) -> None:
    # One look of each official reader, none of the applicant's own.
    assert reads_of(scene) == dict.fromkeys(PAYMENT_READERS - {"applicant"}, 1)


def _reference(scene: Scene) -> dict[str, object]:
    return {"reference": scene.payment.reference}


def _accountants_own(scene: Scene, answers: Answers) -> None:
    assert scene.payment.reference in body(answers["accountant"])


# The accountant of another agency (the service centre's) is asked too: payments are their
# own agency's only.
PAYMENTS = [
    Route("GET", "thanh-toan/<str:reference>/", name="the payment notice", args=_reference,
          full=PAYMENT_READERS, extra=("other_accountant",), before=forget_reads,
          check=_one_look_each),
    Route("GET", "thanh-toan/<str:reference>/bien-lai/", name="the receipt", args=_reference,
          full=PAYMENT_READERS, extra=("other_accountant",), before=forget_reads,
          check=_one_look_each),
    Route("GET", "/api/v1/payments/{reference}", args=_reference,
          full=PAYMENT_READERS, extra=("other_accountant",), before=forget_reads,
          check=_one_look_each),
    # The handlers may ask (the fee is paid already, so it is refused on its merits: 422);
    # nobody else learns that the dossier exists (404).
    Route("POST", "/api/v1/payments", body="json",
          data=lambda s, a: {"dossier": s.dossier.code},
          full={"applicant", *HANDLERS}, ok=(200, 201, 409, 422)),
    # The accountant keeps their agency's payments; the service centre's accountant keeps
    # the centre's, not a commune's.
    Route("GET", "can-bo/thanh-toan/", name="the accountant's page",
          full={"accountant"}, limited={"other_accountant"}, extra=("other_accountant",),
          markers=lambda s: [*PUBLIC_MARKERS, s.payment.reference], check=_accountants_own),
]  # fmt: skip


# --- the API ------------------------------------------------------------------------------


def _dossier_over_the_api(scene: Scene, answers: Answers) -> None:
    assert answers["receiver"].json()["form"]["so_dinh_danh"] == "038090000001"
    clerk = answers["clerk"].json()
    assert (clerk["form"], clerk["files"]) == (None, [])
    assert reads_of(scene) == dict.fromkeys(HANDLERS, 1)


def _listing(scene: Scene, answers: Answers) -> None:
    listing = {
        actor
        for actor, response in answers.items()
        if response.status_code == 200
        and scene.dossier.code in [d["code"] for d in response.json()["items"]]
    }
    assert listing == {"applicant", "clerk", *HANDLERS}
    assert answers["anonymous"].status_code == 401


def _forwarded_over_the_api(scene: Scene, answers: Answers) -> None:
    assert answers["specialist"].json()["state"] == "approving"


def _api_extension(scene: Scene, actor: str) -> dict[str, object]:
    month = 2 if actor == "leader" else 1
    return {"reason": "Chờ xác minh", "new_due": f"2099-{month:02d}-01T09:00:00+07:00",
            "version": current(scene).version}  # fmt: skip


def _counter_intake(scene: Scene, actor: str) -> dict[str, object]:
    import base64

    import samples
    from tinhso.catalog.models import Procedure

    paper = Procedure.objects.get(code="1.001193").papers.get(paper_type="giay-chung-sinh")
    return {
        "applicant": "038190000006", "channel": 1, "procedure": "1.001193",
        "receiving_agency": hac_thanh().code, "result_method": "counter",
        "form": {"quan_he": "me", "me": {"ho_ten": "Nguyễn Thị Bình"},
                 "tre": {"ho_ten": "Bé Mai", "gioi_tinh": "nu", "ngay_sinh": "2026-11-20",
                         "noi_sinh": "Trạm y tế"}},
        "attachments": [{"paper": paper.pk, "filename": "scan.pdf",
                         "content_base64": base64.b64encode(samples.pdf()).decode()}],
    }  # fmt: skip


def _online(scene: Scene, actor: str) -> dict[str, object]:
    return {**_counter_intake(scene, actor), "applicant": None, "channel": 2,
            "result_method": "online"}  # fmt: skip


API = [
    Route("GET", "/api/v1/dossiers/{code}", args=code, before=forget_reads,
          full={"applicant", *HANDLERS}, limited={"clerk"}, check=_dossier_over_the_api),
    Route("GET", "/api/v1/dossiers", limited=SIGNED_IN, markers=lambda s: PERSONAL_MARKERS[:2],
          before=built, check=_listing),
    # The inboxes over the API, as on the page; citizens have none (422: no such inbox).
    Route("GET", "/api/v1/dossiers", name="an inbox", data={"box": "xu-ly"},
          full={"specialist"}, limited=OFFICIALS, refusal=(401, 422),
          markers=lambda s: [*PUBLIC_MARKERS, s.dossier.code],
          check=lambda s, a: _shows(a["specialist"], s.dossier.code)),
    Route("POST", "/api/v1/dossiers/{code}/actions", args=code, body="json",
          data=lambda s, a: {"action": "forward", "version": s.dossier.version},
          full={"specialist"}, check=_forwarded_over_the_api),
    Route("POST", "/api/v1/dossiers/{code}/extension", args=code, body="json",
          data=_api_extension, full={"specialist", "leader"}, check=_extended_twice),
    # Citizens submit their own dossiers online; officials may not.
    Route("POST", "/api/v1/dossiers", name="submitting online", body="json", data=_online,
          full=set(CITIZENS), ok=(201,), markers=lambda s: []),
    # Receivers register at their own counter, for a person found in the registry.
    Route("POST", "/api/v1/dossiers", name="registering at the counter", body="json",
          data=_counter_intake, full={"receiver"}, ok=(201,),
          markers=lambda s: ["038190000006", "0912000006"]),
    Route("POST", "/api/v1/dossiers/{code}/rating", args=code, body="json",
          data={"score": 3}, full={"applicant"}, ok=(409,)),  # not returned yet
    # Only the counter looks a person up by personal ID; other roles reach people through
    # the dossiers they handle.
    Route("POST", "/api/v1/citizens/lookup", body="json",
          data={"personal_id": "038090000001", "purpose": "Kiểm tra danh tính tại quầy"},
          full={"receiver", "other_agency"}),
]  # fmt: skip

ROUTES = [*OFFICE, *CITIZEN, *PAYMENTS, *API]


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)


# --- stories across several routes ----------------------------------------------------------


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


def test_the_citizen_reads_every_official_look_and_no_refused_one(
    scene: Scene, token_for: Any
) -> None:
    forget_reads(scene)
    for suffix in ("", f"tep/{scene.file.pk}/", f"bieu-mau/{scene.bm01.pk}/", "bm05/"):
        scene.matrix.run(lambda c, s=suffix: c.get(scene.official(s)))  # type: ignore[misc]
    readers = set(PersonalDataAccess.objects.values_list("official__username", flat=True))
    assert readers == {"tiepnhan.hacthanh", "chuyenvien.hacthanh", "lanhdao.hacthanh"}
    log = Client().get(
        "/api/v1/me/data-access", {"page_size": 100}, headers=token_for(user("038090000001"))
    )
    assert log.status_code == 200
    items = log.json()["items"]
    assert len(items) == 4 * len(HANDLERS)
    assert {i["record"] for i in items} == {"dossier", "attachment", "document", "bm05"}
    assert all(i["agency"] == "Ủy ban nhân dân phường Hạc Thành" for i in items)
