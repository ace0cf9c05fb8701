"""Counter and postal intake: found in the registry, prefilled, scanned, accepted with
BM.01 on the spot; the look at the registry is logged for the citizen."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from flows import user
from test_submission import EXE, PDF, _counts
from tinhso.accounts.models import User
from tinhso.catalog.models import Procedure
from tinhso.core.models import PersonalDataAccess
from tinhso.dossiers.models import Dossier, DossierStatus

pytestmark = pytest.mark.django_db
URL = "/can-bo/tiep-nhan-truc-tiep/"


def register(client: Any, personal_id: str, upload: Any, channel: str = "1") -> Any:
    paper = Procedure.objects.get(code="1.001193").papers.get(paper_type="giay-chung-sinh")
    return client.post(URL, {
        "procedure": "1.001193", "personal_id": personal_id, "channel": channel, "register": "1",
        "result_method": "counter", "form.nguoi_yeu_cau.ho_ten": "Nguyễn Thị Bình",
        "form.nguoi_yeu_cau.so_dinh_danh": personal_id,
        "form.nguoi_yeu_cau.noi_cu_tru": "Hạc Thành",
        "form.quan_he": "me", "form.tre.ho_ten": "Bé Mai", "form.tre.gioi_tinh": "nu",
        "form.tre.ngay_sinh": "2026-11-20", "form.tre.noi_sinh": "Trạm y tế phường",
        "form.me.ho_ten": "Nguyễn Thị Bình", f"paper-{paper.pk}": upload,
    }, HTTP_ACCEPT_LANGUAGE="vi")  # fmt: skip


def test_a_walk_in_citizen_is_registered_accepted_and_gets_bm01(login_client: Any) -> None:
    receiver = login_client(user("tiepnhan.hacthanh"))
    page = receiver.post(
        URL, {"procedure": "1.001193", "personal_id": "038190000006", "channel": "1", "lookup": "1"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Nguyễn Thị Bình"' in html  # prefilled from the registry
    citizen = User.objects.get(personal_id="038190000006")  # account made from the registry
    assert PersonalDataAccess.objects.filter(citizen=citizen, record="registry").count() == 1
    done = register(receiver, "038190000006", SimpleUploadedFile("scan.pdf", PDF))
    assert done.status_code == 302
    dossier = Dossier.objects.get(applicant=citizen)
    assert (dossier.status, dossier.channel) == (DossierStatus.ACCEPTED, 1)
    assert dossier.due_at is not None
    assert list(dossier.documents.values_list("kind", flat=True)) == ["BM01"]


def test_postal_intake_is_channel_3(login_client: Any) -> None:
    receiver = login_client(user("tiepnhan.hacthanh"))
    assert (
        register(
            receiver, "038190000006", SimpleUploadedFile("scan.pdf", PDF), channel="3"
        ).status_code
        == 302
    )
    assert Dossier.objects.get(applicant__personal_id="038190000006").channel == 3


def test_bad_scans_and_unknown_people_change_nothing(login_client: Any) -> None:
    receiver = login_client(user("tiepnhan.hacthanh"))
    before = _counts()
    bad = register(receiver, "038190000006", SimpleUploadedFile("scan.pdf", EXE))
    assert bad.status_code == 400
    assert "không phải là tệp PDF" in bad.content.decode()
    assert _counts() == before
    unknown = receiver.post(
        URL, {"procedure": "1.001193", "personal_id": "038090999999", "lookup": "1"}
    )
    assert unknown.status_code == 404


def test_only_receivers_register(login_client: Any, citizen: Any) -> None:
    assert login_client(user("chuyenvien.hacthanh")).get(URL).status_code == 403
    assert login_client(citizen).get(URL).status_code == 403
    # A province receiver cannot register a commune-level procedure.
    other = login_client(user("tiepnhan")).post(
        URL, {"procedure": "1.001193", "personal_id": "038190000006", "lookup": "1"}
    )
    assert other.status_code == 400


def test_the_personal_id_never_travels_in_a_url(login_client: Any) -> None:
    receiver = login_client(user("tiepnhan.hacthanh"))
    form = receiver.get(URL, {"procedure": "1.001193"})
    assert '<form method="post"' in form.content.decode()
    # A personal ID put in the address is ignored: nothing is looked up, nothing prefilled.
    page = receiver.get(URL, {"procedure": "1.001193", "personal_id": "038190000006"})
    assert page.status_code == 200
    assert "Nguyễn Thị Bình" not in page.content.decode()
    assert not PersonalDataAccess.objects.filter(record="registry").exists()


def test_the_procedure_is_picked_from_a_searchable_list(login_client: Any) -> None:
    receiver = login_client(user("tiepnhan.hacthanh"))
    page = receiver.get(URL, HTTP_ACCEPT_LANGUAGE="vi")
    html = page.content.decode()
    # The list the browser filters as the receiver types (no JavaScript of ours).
    assert 'list="procedures"' in html
    assert '<option value="1.001193">' in html
    # Typed a name instead of picking it: the one procedure it names is found …
    found = receiver.post(
        URL, {"procedure": "dang ki lai khai sinh", "personal_id": "038190000006", "lookup": "1"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    assert found.status_code == 200
    assert found.context["procedure"].name == "Thủ tục đăng ký lại khai sinh"
    # … and words several procedures share list them to pick from, the closest first.
    several = receiver.post(
        URL, {"procedure": "dang ki khai sinh", "personal_id": "038190000006", "lookup": "1"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    assert several.status_code == 400
    assert next(p.code for p in several.context["matches"]) == "1.001193"
    assert len(several.context["matches"]) >= 2
    assert 'type="radio" name="procedure" value="1.001193"' in several.content.decode()
    # Words that name nothing received here: a Vietnamese message, nothing looked up.
    missing = receiver.post(
        URL, {"procedure": "xyzzy quux", "personal_id": "038190000006", "lookup": "1"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    assert missing.status_code == 400
    assert "Không có thủ tục nào được tiếp nhận tại đây khớp" in missing.content.decode()
    # Only the lookup that found its procedure looked into the registry.
    assert PersonalDataAccess.objects.filter(record="registry").count() == 1


def test_the_counters_procedure_is_found_among_many_of_other_levels(login_client: Any) -> None:
    """Words that 60 province-level procedures share, ranked above the commune's one: the
    commune's receiver is still offered the procedure the commune receives (the search
    keeps the counter's procedures before it cuts the list, not after)."""
    from tinhso.catalog.services import catalog_export, catalog_import

    data = catalog_export()
    template = next(p for p in data["procedures"] if p["code"] == "1.001193")
    department = next(p for p in data["procedures"] if p["level"] == "province")
    for n in range(60):
        data["procedures"].append(
            template
            | {"code": f"9.{n:06d}", "name": "Đăng ký khai sinh", "level": "province"}
            | {"implementing_agency": department["implementing_agency"]}
        )
    catalog_import(data=data)
    receiver = login_client(user("tiepnhan.hacthanh"))
    found = receiver.post(
        URL, {"procedure": "dang ky khai sinh", "personal_id": "038190000006", "lookup": "1"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )  # fmt: skip
    codes = [p.code for p in found.context["matches"]]
    assert "1.001193" in codes
    assert not any(code.startswith("9.") for code in codes)
