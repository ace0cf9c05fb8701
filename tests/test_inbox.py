"""The officials' inboxes and dossier page: who sees what, actions without JavaScript,
and every look at a citizen's data logged for them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

import samples
from flows import user
from test_submission import submission
from tinhso.core.models import PersonalDataAccess
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.services import dossier_submit

pytestmark = pytest.mark.django_db


def codes(client: Client, box: str) -> list[str]:
    response = client.get("/can-bo/ho-so/", {"hop": box})
    assert response.status_code == 200
    return [d["dossier"].code for d in response.context["rows"]]


def post_action(client: Client, dossier: Dossier, action: str, **extra: str) -> Any:
    dossier.refresh_from_db()
    return client.post(
        f"/can-bo/ho-so/{dossier.code}/thao-tac/",
        {"action": action, "version": dossier.version, **extra},
        HTTP_ACCEPT_LANGUAGE="vi",
    )


def test_the_dossier_moves_through_the_inboxes(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    receiver = login_client(user("tiepnhan.hacthanh"))
    specialist = login_client(user("chuyenvien.hacthanh"))
    leader = login_client(user("lanhdao.hacthanh"))
    assert dossier.code in codes(receiver, "tiep-nhan")
    assert dossier.code not in codes(specialist, "xu-ly")
    assert post_action(receiver, dossier, "accept").status_code == 302
    assert (
        post_action(receiver, dossier, "assign", assignee="chuyenvien.hacthanh").status_code == 302
    )
    assert dossier.code in codes(specialist, "xu-ly")
    assert post_action(specialist, dossier, "forward", note="Đủ điều kiện").status_code == 302
    assert dossier.code in codes(leader, "phe-duyet")
    post_action(leader, dossier, "approve")
    clerk = login_client(user("vanthu.hacthanh"))
    assert dossier.code not in codes(receiver, "tra-ket-qua")
    assert dossier.code in codes(clerk, "phat-hanh")
    assert dossier.code not in codes(leader, "phat-hanh")
    assert post_action(clerk, dossier, "issue").status_code == 302
    assert dossier.code not in codes(clerk, "phat-hanh")
    assert dossier.code in codes(receiver, "tra-ket-qua")
    post_action(receiver, dossier, "return_result")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.RETURNED


def test_overdue_and_paused_boxes(login_client: Any, citizen: Any) -> None:
    late = dossier_submit(submission=submission(citizen))
    paused = dossier_submit(submission=submission(citizen))
    receiver = login_client(user("tiepnhan.hacthanh"))
    post_action(receiver, late, "accept")
    Dossier.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    post_action(receiver, paused, "ask_supplement", note="Thiếu giấy chứng sinh")
    assert late.code in codes(receiver, "qua-han")
    assert paused.code in codes(receiver, "tam-dung")
    assert paused.code not in codes(receiver, "qua-han")
    # The page marks the late one (its due time passed), nothing else; a row read only the
    # columns it shows (never the declaration).
    page = receiver.get("/can-bo/ho-so/", {"hop": "xu-ly"}, HTTP_ACCEPT_LANGUAGE="en")
    marked = {r["dossier"].code: r["late"] for r in page.context["rows"]}
    assert marked[late.code] is True
    on_time = dossier_submit(submission=submission(citizen))
    post_action(receiver, on_time, "accept")
    page = receiver.get("/can-bo/ho-so/", {"hop": "xu-ly"}, HTTP_ACCEPT_LANGUAGE="en")
    rows = {r["dossier"].code: r for r in page.context["rows"]}
    assert rows[on_time.code]["late"] is False
    assert rows[late.code]["late"] is True
    assert page.content.decode().count('class="late"') == 1
    assert not hasattr(rows[late.code]["dossier"], "form_data")  # only what a row shows


def test_who_may_open_the_dossier_page(
    client: Client, login_client: Any, citizen: Any, other_citizen: Any
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    url = f"/can-bo/ho-so/{dossier.code}/"
    assert client.get(url).status_code == 302  # anonymous → sign in
    assert login_client(other_citizen).get(url).status_code == 403
    assert login_client(user("chuyenvien")).get(url).status_code == 403  # another agency
    page = login_client(user("chuyenvien.hacthanh")).get(url)  # right agency, any role: may read
    assert page.status_code == 200
    assert "Tiếp nhận" not in [label for _n, label in page.context["actions"]]  # not a receiver
    look = PersonalDataAccess.objects.get(citizen=citizen)
    assert look.official == user("chuyenvien.hacthanh")
    assert dossier.code in look.purpose
    file_url = f"/can-bo/ho-so/{dossier.code}/tep/{dossier.files.get().pk}/"
    assert (
        login_client(user("tiepnhan.hacthanh")).get(file_url)["Content-Type"] == "application/pdf"
    )
    assert login_client(user("tiepnhan")).get(file_url).status_code == 403


def test_the_wrong_role_and_a_stale_form_change_nothing(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    specialist = login_client(user("chuyenvien.hacthanh"))
    response = post_action(specialist, dossier, "accept")
    assert response.status_code == 302
    assert "không được thực hiện" in str(next(iter(response.wsgi_request._messages)))
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.NEW
    receiver = login_client(user("tiepnhan.hacthanh"))
    stale_version = dossier.version
    post_action(receiver, dossier, "accept")
    stale = receiver.post(
        f"/can-bo/ho-so/{dossier.code}/thao-tac/",
        {"action": "refuse", "version": stale_version, "note": "x"},
    )
    assert stale.status_code == 303
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.ACCEPTED


def test_refusing_needs_a_reason(login_client: Any, citizen: Any) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    receiver = login_client(user("tiepnhan.hacthanh"))
    post_action(receiver, dossier, "refuse")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.NEW
    post_action(receiver, dossier, "refuse", note="Không thuộc thẩm quyền")
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.REFUSED
    assert dossier.events.last().note == "Không thuộc thẩm quyền"


def test_citizens_have_no_inbox(login_client: Any, citizen: Any) -> None:
    assert login_client(citizen).get("/can-bo/ho-so/").status_code == 403


def test_inboxes_and_counter_intake_over_the_api(
    client: Client, token_for: Any, citizen: Any
) -> None:
    import base64

    from tinhso.catalog.models import Procedure

    receiver = token_for(user("tiepnhan.hacthanh"))
    paper = Procedure.objects.get(code="1.001193").papers.get(paper_type="giay-chung-sinh")
    body = {
        "applicant": "038190000006",
        "channel": 1,
        "procedure": "1.001193",
        "receiving_agency": "000.02.60.H56",
        "result_method": "counter",
        "form": {
            "nguoi_yeu_cau": {
                "ho_ten": "Nguyễn Thị Bình",
                "so_dinh_danh": "038190000006",
                "noi_cu_tru": "Hạc Thành",
            },
            "quan_he": "me",
            "tre": {
                "ho_ten": "Bé Mai",
                "gioi_tinh": "nu",
                "ngay_sinh": "2026-11-20",
                "noi_sinh": "Trạm y tế",
            },
            "me": {"ho_ten": "Nguyễn Thị Bình"},
        },
        "attachments": [
            {
                "paper": paper.pk,
                "filename": "scan.pdf",
                "content_base64": base64.b64encode(samples.pdf()).decode(),
            }
        ],
    }
    created = client.post(
        "/api/v1/dossiers", body, content_type="application/json", headers=receiver
    )
    assert created.status_code == 201
    assert created.json()["status"]["code"] == 2
    assert created.json()["channel"] == 1
    online = dossier_submit(submission=submission(citizen))
    box = client.get("/api/v1/dossiers", {"box": "tiep-nhan"}, headers=receiver).json()
    assert [d["code"] for d in box["items"]] == [online.code]
    assert (
        client.get("/api/v1/dossiers", {"box": "xu-ly"}, headers=receiver).json()["items"][0][
            "code"
        ]
        == created.json()["code"]
    )
    assert client.get("/api/v1/dossiers", {"box": "nope"}, headers=receiver).status_code == 422
    # Citizens cannot register for others; specialists cannot register at all.
    assert (
        client.post(
            "/api/v1/dossiers", body, content_type="application/json", headers=token_for(citizen)
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/dossiers",
            body,
            content_type="application/json",
            headers=token_for(user("chuyenvien.hacthanh")),
        ).status_code
        == 403
    )


def test_a_box_met_several_ways_is_merged_in_due_order(citizen: Any, monkeypatch: Any) -> None:
    """An official who handles dossiers both as a commune's specialist (received there) and
    as the Sở Tư pháp's (its procedures, received at the centre): the box is read one way
    at a time along its own index and merged, most urgent first, at most BOX_LIMIT."""
    from flows import act
    from test_inter_agency import criminal_record_request
    from tinhso.accounts.services import membership_grant
    from tinhso.agencies.models import Agency
    from tinhso.cases import inbox as cases_inbox
    from tinhso.dossiers.inbox import inbox

    both = user("chuyenvien.hacthanh")
    membership_grant(
        actor=None, user=both, agency=Agency.objects.get(short_name="STP"), role="specialist"
    )
    births, records = [], []
    for _ in range(2):
        birth = dossier_submit(submission=submission(citizen))
        act(birth, "tiepnhan.hacthanh", "accept")
        births.append(act(birth, "tiepnhan.hacthanh", "assign", assignee=both))
        record = criminal_record_request(citizen)
        act(record, "tiepnhan", "accept")
        records.append(act(record, "tiepnhan", "assign", assignee=both))
    now = timezone.now()
    for days, dossier in enumerate([births[0], records[0], births[1], records[1]], start=1):
        Dossier.objects.filter(pk=dossier.pk).update(due_at=now + timedelta(days=days))
    expected = [births[0].code, records[0].code, births[1].code, records[1].code]
    from tinhso.dossiers.subject import DOSSIER

    look = cases_inbox.InboxLook(both, DOSSIER)
    assert len(look.arms(cases_inbox.box_get(DOSSIER, "xu-ly"))) > 1  # the merged path
    assert [d.code for d in inbox(both, "xu-ly")] == expected
    monkeypatch.setattr(cases_inbox, "BOX_LIMIT", 3)
    assert [d.code for d in inbox(both, "xu-ly")] == expected[:3]
    for dossier in (records[0], births[1]):  # overdue now: the overdue box, same order
        Dossier.objects.filter(pk=dossier.pk).update(due_at=now - timedelta(hours=dossier.pk))
    overdue = [d.code for d in inbox(both, "qua-han")]
    assert sorted(overdue) == sorted([records[0].code, births[1].code])
    assert overdue[0] == max((records[0], births[1]), key=lambda d: d.pk).code


def test_box_counts_count_a_case_once_and_stop_past_their_limit(
    login_client: Any, citizen: Any, monkeypatch: Any
) -> None:
    """The counts of the boxes: a dossier found several ways (received by one of the
    official's agencies, of a procedure another implements) counts once; past COUNT_LIMIT
    the count stops and the tab says "over" it; at the limit it is still exact."""
    from flows import act
    from test_inter_agency import criminal_record_request
    from tinhso.accounts.services import membership_grant
    from tinhso.agencies.models import Agency
    from tinhso.cases import inbox as cases_inbox
    from tinhso.dossiers.inbox import inbox_counts

    both = user("chuyenvien.hacthanh")
    membership_grant(
        actor=None, user=both, agency=Agency.objects.get(short_name="STP"), role="specialist"
    )
    records = []
    for _ in range(2):
        birth = dossier_submit(submission=submission(citizen))
        act(birth, "tiepnhan.hacthanh", "accept")
        act(birth, "tiepnhan.hacthanh", "assign", assignee=both)
        record = criminal_record_request(citizen)
        act(record, "tiepnhan", "accept")
        records.append(act(record, "tiepnhan", "assign", assignee=both))
    # The records' receiving agency too: each record is now found by two arms.
    membership_grant(actor=None, user=both, agency=records[0].receiving_agency, role="specialist")
    counts = inbox_counts(both)
    assert (counts["xu-ly"], counts["xu-ly"].more, counts["xu-ly"].label) == (4, False, "4")
    assert counts["phe-duyet"] == 0
    monkeypatch.setattr(cases_inbox, "COUNT_LIMIT", 4)
    assert (inbox_counts(both)["xu-ly"], inbox_counts(both)["xu-ly"].more) == (4, False)
    monkeypatch.setattr(cases_inbox, "COUNT_LIMIT", 3)
    counts = inbox_counts(both)
    assert (counts["xu-ly"], counts["xu-ly"].more) == (3, True)
    page = login_client(both).get("/can-bo/ho-so/", {"hop": "xu-ly"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert "(hơn 3)" in page.content.decode()
    assert len(page.context["rows"]) == 4  # the box still lists its cases
    english = login_client(both).get("/can-bo/ho-so/", HTTP_ACCEPT_LANGUAGE="en")
    assert "(over 3)" in english.content.decode()
    with translation.override("vi"):
        assert cases_inbox.BoxCount(1000, more=True).label == "hơn 1.000"
        assert cases_inbox.BoxCount(1000).label == "1.000"
    with translation.override("en"):
        assert cases_inbox.BoxCount(1000, more=True).label == "over 1,000"


def test_an_inbox_row_nests_related_columns_as_the_page_reads_them() -> None:
    from tinhso.cases.inbox import InboxRow

    columns = ("pk", "code", "status", "procedure__code", "procedure__name",
               "applicant__full_name", "receiving_agency__parent__code")  # fmt: skip
    row = InboxRow.of(columns, (7, "H56-1", 3, "1.0", "Khai sinh", "Lan", "H56"), str)
    assert (row.pk, row.code, row.status) == (7, "H56-1", 3)
    assert (row.procedure.code, row.procedure.name) == ("1.0", "Khai sinh")
    assert row.applicant.full_name == "Lan"
    assert row.receiving_agency.parent.code == "H56"
    assert row.get_status_display() == "3"
    other = InboxRow.of(columns, (8, "H56-2", 4, "2.0", "Kết hôn", "An", "H57"), str)
    assert (other.procedure.name, row.procedure.name) == ("Kết hôn", "Khai sinh")  # own rows
