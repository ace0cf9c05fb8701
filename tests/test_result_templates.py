"""Result papers laid out by each procedure's template (catalog.results, ADR 0029): for the
demo's most used procedures a dossier made through the real services is taken to the
leader's signature and the clerk's seal, and its PDF, read back by an independent parser
(pypdf), holds the person's name, the register's number and the signer's title on one
page, values in words and no raw codes; templates are checked at import and previewed by
the catalogue editors only; numbers in words are read as Vietnamese papers read them."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from flows import act, user
from test_signing import nss_db, pdfsig  # noqa: F401 (fixture)
from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.catalog.eform import form_sample
from tinhso.catalog.models import Procedure
from tinhso.catalog.results import result_template_problems
from tinhso.catalog.services import CatalogError, catalog_export, catalog_import
from tinhso.core.files import check_upload, read_bytes
from tinhso.core.words import date_words, grouped, money_words, number_words, vnd
from tinhso.dossiers.demo import profile_of, simple_pdf
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.services import Attachment, Submission, dossier_submit

pytestmark = pytest.mark.django_db

COMMUNE = ("tiepnhan.hacthanh", "chuyenvien.hacthanh", "lanhdao.hacthanh", "vanthu.hacthanh")
CENTRE = ("tiepnhan", "chuyenvien", "lanhdao", "vanthu.tuphap")

# procedure → (title on the paper, where it is handled, the form's own values, the number's
# shape, what else the paper must say in words, the codes of the form that must not show)
CASES: dict[str, dict[str, Any]] = {
    "1.001193": {
        "title": "TRÍCH LỤC KHAI SINH",
        "staff": COMMUNE,
        "form": {
            "quan_he": "me",
            "tre": {
                "ho_ten": "Lê Minh Khang",
                "gioi_tinh": "nu",
                "ngay_sinh": "2026-04-05",
                "noi_sinh": "Bệnh viện Đa khoa tỉnh Thanh Hóa",
            },
            "me": {"ho_ten": "Trần Thị Thu Hà"},
        },
        "name": "LÊ MINH KHANG",
        "number": r"Số: 0\d/TLKS",
        "says": [
            "Quyển số: 01/",
            "Giới tính: Nữ",
            "(mẹ của người được khai sinh)",
            "ngày mồng năm tháng tư năm hai nghìn không trăm hai mươi sáu",
        ],
        "codes": ["nu", "me"],
    },
    "1.000894": {
        "title": "GIẤY CHỨNG NHẬN KẾT HÔN",
        "staff": COMMUNE,
        "form": {
            "ben_nam": {
                "ho_ten": "Phạm Văn Đức",
                "so_dinh_danh": "038090000011",
                "ngay_sinh": "1995-02-14",
                "noi_cu_tru": "Phường Hạc Thành",
            },
            "ben_nu": {
                "ho_ten": "Đỗ Thị Lan",
                "so_dinh_danh": "038190000012",
                "ngay_sinh": "1997-10-21",
                "noi_cu_tru": "Xã Hoằng Hóa",
            },
        },
        "name": "PHẠM VĂN ĐỨC",
        "number": r"Số: 0\d\b",
        "says": ["ĐỖ THỊ LAN", "Bên nam", "Bên nữ", "14/02/1995", "Quyển số: 01/"],
        "codes": [],
    },
    "1.000656": {
        "title": "TRÍCH LỤC KHAI TỬ",
        "staff": COMMUNE,
        "form": {
            "quan_he": "Con",
            "nguoi_chet_ho_ten": "Nguyễn Văn Thành",
            "ngay_chet": "2026-11-21",
            "noi_chet": "Tại nhà, phường Hạc Thành",
        },
        "name": "NGUYỄN VĂN THÀNH",
        "number": r"Số: 0\d/TLKT",
        "says": [
            "ngày hai mươi mốt tháng mười một năm hai nghìn không trăm hai mươi sáu",
            "(Con của người đã chết)",
        ],
        "codes": [],
    },
    "1.004873": {
        "title": "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
        "staff": COMMUNE,
        "form": {"tinh_trang": "da_ly_hon", "muc_dich": "Đăng ký kết hôn", "so_ban": 2},
        "name": None,
        "number": r"Số: 0\d/XNTTHN",
        "says": [
            "Tình trạng hôn nhân: Đã ly hôn",
            "Giấy này được cấp để: Đăng ký kết hôn",
            "2 (hai bản)",
            "06 tháng",
        ],
        "codes": ["da_ly_hon"],
    },
    "TH.CTR.03": {
        "title": "GIẤY XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ",
        "staff": COMMUNE,
        "form": {"muc_dich": "Bổ sung hồ sơ xin việc"},
        "name": None,  # the applicant's, from the registry
        "number": r"Số: 0\d/XNCT",
        "says": ["Mục đích sử dụng: Bổ sung hồ sơ xin việc", "có giá trị 30 ngày"],
        "codes": ["male", "female"],
    },
    "2.000815": {
        "title": "LỜI CHỨNG CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH",
        "staff": COMMUNE,
        "form": {"ten_giay_to": "Bằng tốt nghiệp trung học phổ thông", "so_ban": 3},
        "name": None,
        "number": r"Số: 0\d\b",
        "says": ["Chứng thực bản sao đúng với bản chính.", "3 (ba bản)", "-SCT/BS"],
        "codes": [],
    },
    "2.000488": {
        "title": "PHIẾU LÝ LỊCH TƯ PHÁP SỐ 2",
        "staff": CENTRE,
        "form": {"loai_phieu": "2", "so_luong": 2, "muc_dich": "Xin việc làm"},
        "name": None,
        "number": r"Số: 0\d/STP-LLTP",
        "note": "Không có án tích",
        "says": ["Tình trạng án tích: Không có án tích", "2 (hai phiếu)", "CHỨNG NHẬN"],
        "codes": [],
    },
    "1.009972": {
        "title": "GIẤY PHÉP XÂY DỰNG",
        "staff": COMMUNE,
        "form": {
            "dia_diem": "Phố Lê Lai, phường Hạc Thành",
            "thua_dat": "Thửa 120, tờ bản đồ 15",
            "dien_tich_xay_dung": 82.5,
            "so_tang": 4,
            "chieu_cao": 15.6,
        },
        "name": None,
        "number": r"Số: 0\d/GPXD",
        "says": ["82,5 m²", "4 (bốn tầng)", "15,6 m", "12 tháng"],
        "codes": [],
    },
    "2.000720": {
        "title": "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH",
        "staff": COMMUNE,
        "form": {
            "ten_ho_kinh_doanh": "Hộ kinh doanh Bánh gai Tứ Trụ",
            "dia_diem": "Xã Hoằng Hóa",
            "nganh_nghe": "Sản xuất, bán lẻ bánh gai",
            "von_kinh_doanh": 150000000,
            "so_lao_dong": 5,
        },
        "name": None,
        "number": r"Số: 0\d/20\d\d/GCN-HKD",
        "says": [
            "HỘ KINH DOANH BÁNH GAI TỨ TRỤ",
            "150.000.000 đồng",
            "Một trăm năm mươi triệu đồng",
        ],
        "codes": [],
    },
}


def text_of(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def result_of(code: str, citizen: User, *, note: str = "") -> DossierDocument:
    """A dossier of `code` made through the real services, accepted, handled, signed by the
    leader and sealed by the clerk; its result."""
    case = CASES[code]
    procedure = Procedure.objects.get(code=code)
    receiver, specialist, leader, clerk = case["staff"]
    form = form_sample(procedure.form_schema, profile_of(citizen))
    for name, value in case["form"].items():
        form[name] = {**form.get(name, {}), **value} if isinstance(value, dict) else value
    scan = check_upload(None, name="ban-scan.pdf", content=simple_pdf(["Ban scan"]))
    agency = (
        Agency.objects.get(kind="service_centre")
        if case["staff"] is CENTRE
        else Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    )
    dossier = dossier_submit(
        submission=Submission(
            procedure=procedure, applicant=citizen, receiving_agency=agency,
            result_method=procedure.result_methods[0], form_data=form,
            attachments=[Attachment(paper=p, upload=scan) for p in procedure.papers.all()
                         if p.required and not p.eform],
        )
    )  # fmt: skip
    dossier = act(dossier, receiver, "accept")
    dossier = act(dossier, receiver, "assign", assignee=user(specialist))
    dossier = act(dossier, specialist, "forward")
    dossier = act(dossier, leader, "approve", note=note or case.get("note", ""))
    act(dossier, clerk, "issue")
    return Dossier.objects.get(pk=dossier.pk).documents.get(kind=DocumentKind.RESULT)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_template_lays_out_the_real_paper_on_one_page(citizen: User, code: str) -> None:
    case = CASES[code]
    result = result_of(code, citizen)
    assert result.ready
    pages = text_of(read_bytes(result.storage_name))
    assert len(pages) == 1, f"{code}: {len(pages)} pages"
    text = flat(pages[0])
    leader = user(case["staff"][2])
    title = next(m.title for m in leader.memberships.all() if m.role == "leader")
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        case["title"],
        result.number,
        title.upper(),
        leader.full_name,
        *case["says"],
    ]:
        assert expected in text, f"{code}: {expected!r} not in {text}"
    assert (case["name"] or citizen.full_name).upper() in text.upper()
    assert re.search(case["number"], text), f"{code}: {case['number']} not in {text}"
    # A deputy signs for the head ("KT."); values in words, never the form's codes.
    lines = Procedure.objects.get(code=code).result_template["signer"]["lines"]
    if title.startswith("Phó ") and (not lines or lines[-1].startswith("TM.")):
        assert f"KT. {title[4:].upper()}" in text
    elif title.startswith("Phó "):  # a personal role ("Người ký trích lục"): no "KT."
        assert "KT." not in text
    words = set(re.findall(r"[\w_]+", text))
    for raw in case["codes"]:
        assert raw not in words, f"{code}: the code {raw!r} shows"
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), "an ISO date shows"
    assert "_" not in re.sub(r"https?://\S+", "", text)  # no internal key (ho_ten, ben_nam …)


def test_numbers_run_per_register_and_agency_without_gaps(citizen: User) -> None:
    first = result_of("1.001193", citizen)
    second = result_of("1.001193", citizen)
    other = result_of("2.000815", citizen)
    year = timezone.localdate().year
    assert (first.number, second.number) == ("01/TLKS", "02/TLKS")
    assert other.number == "01"
    # The number is on the paper and in the citizen's page of the dossier.
    assert "Số: 02/TLKS" in flat(text_of(read_bytes(second.storage_name))[0])
    assert f"Quyển số: 01/{year}" in flat(text_of(read_bytes(second.storage_name))[0])


def test_a_refused_signature_takes_no_number(citizen: User) -> None:
    """The criminal record certificate states the record: without it the leader's
    approval is refused, the dossier stays where it was and no number is used."""
    from tinhso.cases.transitions import TransitionError

    with pytest.raises(TransitionError, match="Tình trạng án tích"):
        result_of("2.000488", citizen, note=" ")
    done = result_of("2.000488", citizen)
    assert done.number.startswith("01/")


def test_the_result_passes_pdfsig_with_both_signatures(
    citizen: User,
    nss_db: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    in_ci: bool,
) -> None:
    path = tmp_path / "trich-luc.pdf"
    path.write_bytes(read_bytes(result_of("1.001193", citizen).storage_name))
    said = pdfsig(path, nss_db, in_ci)
    assert said.count("Signature Validation: Signature is Valid.") == 2, said


def test_a_template_is_checked_against_its_form_at_import(citizen: User) -> None:
    data = catalog_export()
    birth = next(p for p in data["procedures"] if p["code"] == "1.001193")
    birth["result"]["body"] += [
        {"field": "Tên", "value": "{form.tre.ten}"},
        {"field": "Ngày", "value": "{form.tre.ho_ten|date_words}"},
        {"field": "X", "value": "{form.tre.gioi_tinh|shout}"},
        {"field": "Y", "value": "{dossier.secret}"},
        {"text": "a { b"},
        {"field": "Z", "value": "{form.tre}"},
    ]
    before = Procedure.objects.get(code="1.001193").result_template
    with pytest.raises(CatalogError) as caught:
        catalog_import(data=data)
    said = "\n".join(caught.value.problems)
    for expected in [
        "procedure 1.001193, field result → body[",
        "the e-form has no field 'tre.ten'",
        "date_words applies to dates",
        "unknown filter 'shout'",
        "unknown value 'dossier.secret'",
        "a brace that is not a placeholder",
        "is a group of fields",
    ]:
        assert expected in said, expected
    # Nothing was written.
    assert Procedure.objects.get(code="1.001193").result_template == before
    assert result_template_problems({"title": "T"}, {}) == [
        "(template): 'body' is a required property"
    ]
    assert result_template_problems(
        {"title": "T", "body": [], "register": {"code": "x", "notation": "KQ"}}, {}
    ) == ["register.notation: must contain {number}"]


def test_exported_templates_import_back_unchanged(citizen: User) -> None:
    data = catalog_export()
    before = {p["code"]: p.get("result") for p in data["procedures"]}
    catalog_import(data=data)
    after = {p["code"]: p.get("result") for p in catalog_export()["procedures"]}
    assert after == before
    assert sum(1 for v in after.values() if v) >= 7


def test_only_catalogue_editors_preview_a_template(client: Client, citizen: User) -> None:
    procedure = Procedure.objects.get(code="1.001193")
    url = f"/quan-tri/catalog/procedure/{procedure.pk}/xem-truoc-ket-qua/"
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    for who in [citizen, user("lanhdao.hacthanh"), user("tiepnhan")]:
        client.force_login(who)
        assert client.get(url).status_code in (302, 403), who
    client.force_login(user("bientap"))
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    text = flat(text_of(answer.content)[0])
    assert "BẢN XEM TRƯỚC" in text
    assert "TRÍCH LỤC KHAI SINH" in text
    assert "Số: 01/TLKS" in text
    # A preview takes no number from the register.
    assert result_of("1.001193", citizen).number == "01/TLKS"
    # The change page links to it.
    page = client.get(f"/quan-tri/catalog/procedure/{procedure.pk}/change/").content.decode()
    assert "xem-truoc-ket-qua/" in page


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "không"), (5, "năm"), (10, "mười"), (11, "mười một"), (15, "mười lăm"),
        (21, "hai mươi mốt"), (24, "hai mươi tư"), (25, "hai mươi lăm"), (105, "một trăm linh năm"),
        (110, "một trăm mười"), (1005, "một nghìn không trăm linh năm"),
        (2026, "hai nghìn không trăm hai mươi sáu"), (15000, "mười lăm nghìn"),
        (1_000_005, "một triệu không trăm linh năm"),
        (150_000_000, "một trăm năm mươi triệu"), (2_000_000_000, "hai tỷ"),
        (1_500_000_000_000, "một nghìn năm trăm tỷ"),
    ],
)  # fmt: skip
def test_numbers_in_words(value: int, words: str) -> None:
    assert number_words(value) == words


def test_amounts_and_dates_in_words() -> None:
    assert money_words(200000) == "Hai trăm nghìn đồng"
    assert (grouped(1500000), grouped(82.5), grouped(0), vnd(30000)) == (
        "1.500.000",
        "82,5",
        "0",
        "30.000 đồng",
    )
    assert date_words(date(2026, 4, 5)) == (
        "ngày mồng năm tháng tư năm hai nghìn không trăm hai mươi sáu"
    )
    assert date_words(date(2026, 11, 29)) == (
        "ngày hai mươi chín tháng mười một năm hai nghìn không trăm hai mươi sáu"
    )


def test_the_api_and_the_citizens_page_give_the_results_number(
    client: Client, citizen: User, token_for: Any
) -> None:
    result = result_of("1.001193", citizen)
    code = result.dossier.code
    answer = client.get(f"/api/v1/dossiers/{code}", headers=token_for(citizen)).json()
    numbers = {d["kind"]: d["number"] for d in answer["documents"]}
    assert numbers["RESULT"] == result.number == "01/TLKS"
    assert numbers["BM01"] == ""
    client.force_login(citizen)
    page = client.get(f"/ho-so-cua-toi/{result.dossier.public_id}/").content.decode()
    assert "số 01/TLKS" in page


def test_what_would_not_fit_is_refused_at_import_or_laid_out_by_the_default() -> None:
    """A template that passes the checks never leaves a result unissued: labels and widths
    that cannot fit are refused; a value too long for its cell is laid out by the default
    template (the paper still issued); a title made only of values is refused."""
    from datetime import datetime

    from tinhso.catalog.results import Heading, ResultValues, result_layout

    schema = Procedure.objects.get(code="2.000720").form_schema
    problems = result_template_problems(
        {"title": "{form.ten_ho_kinh_doanh}", "body": [
            {"field": "x" * 81, "value": "y"},
            {"table": {"columns": ["a", "b"], "widths": [10, 50], "rows": [["1", "2"]]}},
            {"table": {"columns": ["a", "b"], "widths": [100, 100], "rows": [["1", "2"]]}},
            {"field": "Vốn", "value": "{form.so_lao_dong|money_words}"},
        ]},
        schema,
    )  # fmt: skip
    said = "\n".join(problems)
    assert "body/0/field" in said or "body.0.field" in said, said
    assert "is less than the minimum of 20" in said
    problems = result_template_problems(
        {"title": "{form.ten_ho_kinh_doanh}", "body": [
            {"table": {"columns": ["a", "b"], "widths": [100, 100], "rows": [["1", "2"]]}},
        ]},
        schema,
    )  # fmt: skip
    assert any("needs words of its own" in p for p in problems)
    assert any("more than the 170 mm" in p for p in problems)
    area = {"type": "object", "properties": {"m2": {"type": "number"}}}
    assert result_template_problems(
        {"title": "T", "body": [{"field": "Diện tích", "value": "{form.m2|words}"}]}, area
    ) == ["body[0].value: words applies to whole numbers; form.m2 is not one"]
    template = {
        "title": "Giấy thử",
        "body": [{"table": {"columns": ["A", "B"], "widths": [20, 20],
                            "rows": [["{note}", "x"]]}}],
    }  # fmt: skip
    assert result_template_problems(template, {}) == []
    values = ResultValues(form={}, schema={}, known={"note": "chữ " * 700, "year": 2026})
    doc = result_layout(
        template, values, heading=Heading("Tỉnh", "Cơ quan", "Nơi"), number="01",
        signed_at=datetime(2026, 11, 30, 9, 0),  # noqa: DTZ001 (a date line only)
    )  # fmt: skip
    text = flat(text_of(doc.output())[0])
    assert "THÔNG BÁO KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text  # the default's title


def test_a_year_and_a_serial_are_written_as_they_are_numbers_grouped() -> None:
    from tinhso.catalog.results import ResultValues, fill

    values = ResultValues(
        form={"von": 150000000}, schema={"properties": {"von": {"type": "integer"}}},
        known={"year": 2026, "serial": 1234},
    )  # fmt: skip
    assert fill("Quyển số 01/{year}, số {serial}; vốn {form.von}", values) == (
        "Quyển số 01/2026, số 1234; vốn 150.000.000"
    )
    assert fill("năm {year|words}", values) == "năm hai nghìn không trăm hai mươi sáu"


def test_the_default_template_gives_the_declaration_in_words() -> None:
    from datetime import datetime

    from tinhso.catalog.results import DEFAULT_TEMPLATE, Heading, ResultValues, result_layout

    schema = {"type": "object", "properties": {
        "so_tien": {"type": "integer", "title": "Số tiền"},
        "dong_y": {"type": "boolean", "title": "Đồng ý"},
        "loai": {"type": "string", "title": "Loại", "enum": ["a"], "x-enum-titles": ["Loại A"]},
    }}  # fmt: skip
    values = ResultValues(form={"so_tien": 1500000, "dong_y": True, "loai": "a"}, schema=schema)
    doc = result_layout(
        DEFAULT_TEMPLATE, values, heading=Heading("Tỉnh", "Cơ quan", "Nơi"), number="01",
        signed_at=datetime(2026, 11, 30, 9, 0),  # noqa: DTZ001 (a date line only)
    )  # fmt: skip
    text = flat(text_of(doc.output())[0])
    for expected in ["Số tiền 1.500.000", "Đồng ý Có", "Loại Loại A"]:
        assert expected in text, text
