"""The applicant's identity comes from the state, not from the form (issue 12, finding 5):
fields prefilled from the population registry are read-only and set again on the server,
on the web form, at the counter and over the API; values the e-form does not declare, and
oversized declarations, are refused with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from flows import user
from test_submission import BIRTH, PDF, _web_post, api_body, birth_form
from tinhso.dossiers.models import Dossier, DossierFile

pytestmark = pytest.mark.django_db

SOMEONE_ELSE = {"ho_ten": "Trần Minh Đức", "so_dinh_danh": "038090000002"}


def test_the_web_form_shows_the_identity_read_only(login_client: Any, citizen: Any) -> None:
    page = login_client(citizen).get(f"/thu-tuc/{BIRTH}/nop-ho-so/").content.decode()
    for name in ("ho_ten", "so_dinh_danh", "noi_cu_tru"):
        field = page.split(f'id="f-nguoi_yeu_cau-{name}"', 1)[1].split(">", 1)[0]
        assert " readonly" in field, name
    # Fields of other people (the child, the mother) stay editable.
    child = page.split('id="f-tre-ho_ten"', 1)[1].split(">", 1)[0]
    assert "readonly" not in child


def test_a_posted_identity_is_replaced_by_the_registrys(login_client: Any, citizen: Any) -> None:
    client = login_client(citizen)
    response = _web_post(
        client,
        SimpleUploadedFile("cs.pdf", PDF, content_type="application/pdf"),
        **{
            "form.nguoi_yeu_cau.ho_ten": SOMEONE_ELSE["ho_ten"],
            "form.nguoi_yeu_cau.so_dinh_danh": SOMEONE_ELSE["so_dinh_danh"],
            "form.nguoi_yeu_cau.noi_cu_tru": "Nhà của người khác",
            "form.khong_co_trong_mau": "x" * 1000,
        },
    )
    assert response.status_code == 302
    applicant = Dossier.objects.get(applicant=citizen).form_data["nguoi_yeu_cau"]
    assert applicant["ho_ten"] == "Nguyễn Văn An"
    assert applicant["so_dinh_danh"] == "038090000001"
    assert applicant["noi_cu_tru"] == citizen.permanent_address
    assert "khong_co_trong_mau" not in Dossier.objects.get(applicant=citizen).form_data


def test_the_api_takes_the_identity_from_the_registry(
    client: Client, token_for: Any, citizen: Any
) -> None:
    form = birth_form()
    form["nguoi_yeu_cau"].update(SOMEONE_ELSE)
    response = client.post(
        "/api/v1/dossiers", api_body(form=form), content_type="application/json",
        headers=token_for(citizen),
    )  # fmt: skip
    assert response.status_code == 201
    stored = response.json()["form"]["nguoi_yeu_cau"]
    assert (stored["ho_ten"], stored["so_dinh_danh"]) == ("Nguyễn Văn An", "038090000001")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**birth_form(), "khong_co_trong_mau": "x"}, "không thuộc biểu mẫu"),
        ({**birth_form(), "ghi_chu_an": "x" * (10 * 1024 * 1024)}, "không thuộc biểu mẫu"),
        (
            {**birth_form(), "tre": {**birth_form()["tre"], "bi_mat": {"a": 1}}},
            "không thuộc biểu mẫu",
        ),
        # A declared field with no maxLength still has a bound (the whole form too).
        ({**birth_form(), "quan_he": "x" * 70_000}, "quá dài"),
    ],
    ids=["undeclared", "undeclared-10MB", "undeclared-nested", "oversized"],
)
def test_the_api_refuses_what_the_form_does_not_declare(
    client: Client, token_for: Any, citizen: Any, form: dict[str, Any], message: str
) -> None:
    response = client.post(
        "/api/v1/dossiers", api_body(form=form), content_type="application/json",
        headers={**token_for(citizen), "Accept-Language": "vi"},
    )  # fmt: skip
    assert response.status_code == 422
    assert message in response.json()["errors"]["__all__"][0]
    assert not Dossier.objects.exists()
    assert not DossierFile.objects.exists()


def test_a_long_text_in_a_field_without_a_limit_is_refused(
    client: Client, token_for: Any, citizen: Any
) -> None:
    form = birth_form()
    form["quan_he"] = "x" * 5000
    response = client.post(
        "/api/v1/dossiers", api_body(form=form), content_type="application/json",
        headers={**token_for(citizen), "Accept-Language": "vi"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "quan_he" in response.json()["errors"]
    assert not Dossier.objects.exists()


def test_drafts_refuse_undeclared_values_too(client: Client, citizen: Any) -> None:
    from test_submission import submission
    from tinhso.dossiers.services import DossierInvalid, dossier_save_draft

    with pytest.raises(DossierInvalid):
        dossier_save_draft(
            submission=submission(citizen, form_data={**birth_form(), "ngoai_mau": 1})
        )
    assert not Dossier.objects.exists()


def test_the_counter_takes_the_identity_from_the_registry(login_client: Any) -> None:
    from test_counter import URL, register

    receiver = login_client(user("tiepnhan.hacthanh"))
    page = receiver.post(
        URL, {"procedure": "1.001193", "personal_id": "038190000006", "lookup": "1"}
    ).content.decode()
    field = page.split('id="f-nguoi_yeu_cau-so_dinh_danh"', 1)[1].split(">", 1)[0]
    assert " readonly" in field
    done = register(receiver, "038190000006", SimpleUploadedFile("scan.pdf", PDF))
    assert done.status_code == 302
    form = Dossier.objects.get(applicant__personal_id="038190000006").form_data
    assert form["nguoi_yeu_cau"]["ho_ten"] == "Nguyễn Thị Bình"
