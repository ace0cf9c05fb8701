"""Inter-agency (liên thông) steps: the dossier goes to the other agency's inbox, only
that agency may act on it there, and it comes back."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from flows import act, user
from test_submission import submission
from tinhso.agencies.models import Agency
from tinhso.catalog.models import Procedure
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.services import Submission, dossier_save_draft, dossier_submit
from tinhso.dossiers.transitions import TransitionForbiddenError

pytestmark = pytest.mark.django_db


def criminal_record_request(citizen: Any) -> Dossier:
    procedure = Procedure.objects.get(code="2.000488")
    assert procedure.workflow == "lltp-lien-thong"
    form = {
        "ho_ten": "Nguyễn Văn An",
        "so_dinh_danh": "038090000001",
        "ngay_sinh": "1990-03-14",
        "noi_cu_tru": "Hạc Thành",
        "loai_phieu": "1",
        "so_luong": 1,
        "muc_dich": "Xin việc",
    }
    return dossier_submit(
        submission=Submission(
            procedure=procedure,
            applicant=citizen,
            receiving_agency=Agency.objects.get(kind="service_centre"),
            result_method="online",
            form_data=form,
        )
    )


def inbox(client: Client, box: str) -> list[str]:
    return [
        row["dossier"].code for row in client.get("/can-bo/ho-so/", {"hop": box}).context["rows"]
    ]


def test_the_police_step_goes_to_the_police_inbox_and_back(login_client: Any, citizen: Any) -> None:
    dossier = criminal_record_request(citizen)
    act(dossier, "tiepnhan", "accept")
    act(dossier, "tiepnhan", "assign", assignee=user("chuyenvien"))
    police = login_client(user("chuyenvien.congan"))
    assert dossier.code not in inbox(police, "xu-ly")
    dossier = act(dossier, "chuyenvien", "send_to_police", note="Đề nghị tra cứu")
    assert dossier.state == "police_check"
    assert dossier.status == DossierStatus.PROCESSING
    assert dossier.code in inbox(police, "xu-ly")
    assert police.get(f"/can-bo/ho-so/{dossier.code}/").status_code == 200
    with pytest.raises(TransitionForbiddenError):  # the department waits for the police
        act(dossier, "chuyenvien", "police_reply")
    dossier = act(dossier, "chuyenvien.congan", "police_reply", note="Không có án tích")
    assert dossier.state == "processing"
    assert police.get(f"/can-bo/ho-so/{dossier.code}/").status_code == 403
    dossier = act(dossier, "chuyenvien", "forward")
    dossier = act(dossier, "lanhdao", "approve", note="Không có án tích")
    dossier = act(dossier, "vanthu.tuphap", "issue")
    assert dossier.status == DossierStatus.FINISHED
    assert [e.action for e in dossier.events.order_by("id")][-5:] == [
        "send_to_police",
        "police_reply",
        "forward",
        "approve",
        "issue",
    ]


def test_a_commune_receiver_never_sees_the_police_step(login_client: Any, citizen: Any) -> None:
    dossier = criminal_record_request(citizen)
    act(dossier, "tiepnhan", "accept")
    act(dossier, "tiepnhan", "assign", assignee=user("chuyenvien"))
    act(dossier, "chuyenvien", "send_to_police")
    assert (
        login_client(user("chuyenvien.hacthanh")).get(f"/can-bo/ho-so/{dossier.code}/").status_code
        == 403
    )


def test_who_sees_a_dossier_is_decided_alike_from_its_row_and_by_the_filter(
    citizen: Any,
) -> None:
    """`dossier_visible` (the API's and pages' check on one loaded dossier) and
    `dossiers_visible_to` (the lists' filter) are one rule in two forms: equal for every
    user and every dossier, drafts and dossiers in another agency's step included."""
    from django.contrib.auth.models import AnonymousUser

    from tinhso.accounts.models import User
    from tinhso.dossiers.selectors import dossier_visible, dossiers_visible_to

    at_police = criminal_record_request(citizen)
    act(at_police, "tiepnhan", "accept")
    act(at_police, "tiepnhan", "assign", assignee=user("chuyenvien"))
    at_police = act(at_police, "chuyenvien", "send_to_police", note="Đề nghị tra cứu")
    assert at_police.state == "police_check"
    back = criminal_record_request(citizen)
    act(back, "tiepnhan", "accept")
    dossier_save_draft(submission=submission(citizen))
    dossiers = list(Dossier.objects.select_related("procedure", "receiving_agency"))
    assert any(d.status == DossierStatus.DRAFT for d in dossiers)
    assert any(d.procedure.implementing_agency_id for d in dossiers)
    # A membership ended and a commune closed: neither gives sight of anything.
    from tinhso.accounts.models import Membership

    Membership.objects.filter(user__username="chuyenvien.hacthanh").update(is_active=False)
    Agency.objects.filter(admin_unit_name="Phường Hạc Thành").update(is_active=False)
    users = list(User.objects.all())
    assert sum(u.kind == "official" for u in users) >= 10
    seen = 0
    for person in [*users, AnonymousUser()]:
        filtered = set(dossiers_visible_to(person).values_list("pk", flat=True))
        by_row = {d.pk for d in dossiers if dossier_visible(d, person)}
        assert by_row == filtered, person
        seen += len(filtered)
    assert seen > len(dossiers)  # most dossiers are seen by several people
    police = user("chuyenvien.congan")
    assert dossier_visible(at_police, police)
    assert not dossier_visible(back, police)
