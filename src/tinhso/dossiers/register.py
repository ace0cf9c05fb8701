"""BM.06, the register of dossiers (Sổ theo dõi hồ sơ), as an Excel workbook."""

from __future__ import annotations

import io
from datetime import date, datetime, time

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from tinhso.agencies.models import Agency
from tinhso.core.spreadsheet import xlsx_append
from tinhso.dossiers.models import Dossier, DossierStatus

COLUMNS = [
    ("STT", 6),
    ("Mã hồ sơ", 28),
    ("Tên thủ tục hành chính", 45),
    ("Số lượng hồ sơ (bộ)", 10),
    ("Tên cá nhân, tổ chức", 24),
    ("Địa chỉ, số điện thoại", 34),
    ("Cơ quan chủ trì giải quyết", 30),
    ("Nhận hồ sơ", 17),
    ("Hẹn trả kết quả", 17),
    ("Trạng thái", 20),
    ("Ngày trả kết quả", 17),
    ("Ghi chú", 20),
]


def _cell_time(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}" if moment else ""


def register_rows(agency: Agency, start: date, end: date) -> list[Dossier]:
    """The dossiers the agency received in the period (that agency only: an agency keeps
    its own register, and a parent agency's officials do not read those below it)."""
    tz = timezone.get_current_timezone()
    return list(
        Dossier.objects.filter(
            receiving_agency=agency,
            submitted_at__gte=datetime.combine(start, time.min, tz),
            submitted_at__lte=datetime.combine(end, time.max, tz),
        )
        .exclude(status=DossierStatus.DRAFT)
        .select_related(
            "procedure", "applicant", "procedure__implementing_agency", "receiving_agency"
        )
        .prefetch_related("events")
        .order_by("submitted_at")
    )


def register_workbook(agency: Agency, start: date, end: date, rows: list[Dossier]) -> bytes:
    """BM.06 as an Excel workbook: `rows` from register_rows(agency, start, end)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 (a new workbook has one sheet)
    sheet.title = "BM.06"
    xlsx_append(sheet, [f"SỔ THEO DÕI HỒ SƠ — {agency.name.upper()}"])
    xlsx_append(sheet, [f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"])
    xlsx_append(sheet, [name for name, _w in COLUMNS])
    for column, (_name, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(row=3, column=column).column_letter].width = width
        sheet.cell(row=3, column=column).font = Font(bold=True)
        sheet.cell(row=3, column=column).alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=13)
    for index, dossier in enumerate(rows, start=1):
        returned = next(
            (e.at for e in dossier.events.all() if e.to_status == DossierStatus.RETURNED), None
        )
        person = dossier.applicant
        deciding = dossier.procedure.implementing_agency or dossier.receiving_agency
        # Names, addresses and phones are what citizens typed: never a formula.
        xlsx_append(
            sheet,
            [
                index,
                dossier.code,
                dossier.procedure.name,
                1,
                person.full_name,
                ", ".join(x for x in [person.permanent_address, person.phone] if x),
                deciding.name if deciding else "",
                _cell_time(dossier.submitted_at),
                _cell_time(dossier.due_at),
                str(DossierStatus(dossier.status).label),
                _cell_time(returned),
                "",
            ],
        )
    sheet.freeze_panes = "C4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register_pdf(agency: Agency, start: date, end: date, rows: list[Dossier]) -> bytes:
    """BM.06 as a printable A4 landscape form: `rows` from register_rows(...)."""
    from tinhso.agencies.selectors import agency_superior_name
    from tinhso.core.pdf import OfficialDocument

    doc = OfficialDocument(
        superior=agency_superior_name(agency),
        agency=agency.name,
        number="BM.06",
        place=agency.admin_unit_name or "…",
        date=timezone.localtime(),
        title="Sổ theo dõi hồ sơ",
        subtitle=f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}",
        landscape=True,
    )
    lines = []
    for index, dossier in enumerate(rows, start=1):
        returned = next(
            (e.at for e in dossier.events.all() if e.to_status == DossierStatus.RETURNED), None
        )
        person = dossier.applicant
        lines.append(
            [
                str(index),
                dossier.code or "",
                dossier.procedure.name,
                person.full_name,
                ", ".join(x for x in [person.permanent_address, person.phone] if x),
                _cell_time(dossier.submitted_at),
                _cell_time(dossier.due_at),
                str(DossierStatus(dossier.status).label),
                _cell_time(returned),
            ]
        )
    doc.table(
        [
            "STT",
            "Mã hồ sơ",
            "Tên thủ tục hành chính",
            "Tên cá nhân, tổ chức",
            "Địa chỉ, số điện thoại",
            "Nhận hồ sơ",
            "Hẹn trả kết quả",
            "Trạng thái",
            "Ngày trả kết quả",
        ],
        lines,
        [10, 54, 52, 28, 38, 20, 20, 20, 20],
    )
    return doc.output()
