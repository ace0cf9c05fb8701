"""The one-stop forms as PDF: BM.01 receipt and appointment, BM.02 supplement request,
BM.03 refusal, the stop notice, and BM.05 process control sheet (from the events).
BM.06, the register, is in dossiers.register (Excel)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.utils import timezone

from tinhso.agencies.selectors import agency_ancestors
from tinhso.core.pdf import OfficialDocument
from tinhso.dossiers import files as dossier_files
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, DossierEvent

CHANNELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Qua dịch vụ bưu chính"}
RESULT = {"online": "Trực tuyến", "counter": "Tại Bộ phận Một cửa", "post": "Qua dịch vụ bưu chính"}


def _local(moment: datetime | None) -> datetime:
    return timezone.localtime(moment or timezone.now())


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "…"
    local = _local(moment)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d}/{local:%m}/{local:%Y}"


def _document(dossier: Dossier, title: str, now: datetime) -> OfficialDocument:
    agency = dossier.receiving_agency
    assert agency is not None  # noqa: S101 (submitted dossiers always have one)
    ancestors = agency_ancestors(agency)
    superior = ancestors[-1].name if ancestors else ""
    place = (
        (agency.admin_unit_name or "").split(" ", 1)[-1]
        if agency.level == "commune"
        else (agency.admin_unit_name or "")
    )
    return OfficialDocument(
        superior=superior, agency=agency.name, number=dossier.code or "", place=place or "…",
        date=_local(now), title=title, subtitle=f"Mã hồ sơ: {dossier.code}",
    )  # fmt: skip


def _applicant(doc: OfficialDocument, dossier: Dossier) -> None:
    person = dossier.applicant
    doc.field("Ông/Bà", person.full_name or person.username)
    doc.field("Số định danh cá nhân", person.personal_id or person.tax_code or "")
    doc.field("Địa chỉ", person.permanent_address)
    doc.field("Số điện thoại", person.phone)
    doc.field("Nội dung yêu cầu giải quyết", dossier.procedure.name)


def render_bm01(dossier: Dossier, *, receiver_name: str, now: datetime) -> bytes:
    doc = _document(dossier, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", now)
    agency = dossier.receiving_agency.name if dossier.receiving_agency else ""
    doc.paragraph(f"Bộ phận Tiếp nhận và Trả kết quả {agency} tiếp nhận hồ sơ của:")
    _applicant(doc, dossier)
    rows = [
        [str(i), f.paper_name, "Bản điện tử" if dossier.channel == 2 else "Bản giấy", "1"]
        for i, f in enumerate(dossier.files.all(), start=1)
    ]
    if rows:
        doc.table(["STT", "Tên giấy tờ", "Hình thức", "Số lượng"], rows, [12, 103, 32, 23])
    doc.field("Số lượng hồ sơ", "01 (bộ)")
    days = f"{dossier.procedure.time_days:g}".replace(".", ",")
    doc.field("Thời gian giải quyết hồ sơ theo quy định", f"{days} ngày làm việc")
    doc.field("Thời gian nhận hồ sơ", _when(dossier.accepted_at or now))
    doc.field("Thời gian trả kết quả giải quyết hồ sơ", _when(dossier.due_at))
    doc.field("Hình thức nộp hồ sơ", CHANNELS.get(dossier.channel, ""))
    doc.field("Đăng ký nhận kết quả", RESULT.get(dossier.result_method, dossier.result_method))
    doc.signatures(
        [("Người nộp hồ sơ", dossier.applicant.full_name), ("Người tiếp nhận hồ sơ", receiver_name)]
    )
    doc.footer_note(
        f"Tra cứu tiến độ giải quyết hồ sơ bằng mã hồ sơ {dossier.code} "
        "trên Cổng dịch vụ công của tỉnh."
    )
    return doc.output()


def render_bm02(dossier: Dossier, *, note: str, official_name: str, now: datetime) -> bytes:
    doc = _document(dossier, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", now)
    _applicant(doc, dossier)
    doc.paragraph("Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", bold=True)
    doc.paragraph(note or "…")
    doc.paragraph(
        "Thời gian bổ sung, hoàn thiện hồ sơ không tính vào thời hạn giải quyết. Trong quá trình "
        "hoàn thiện hồ sơ nếu có vướng mắc, ông/bà liên hệ với cán bộ tiếp nhận để được hướng dẫn."
    )
    doc.signatures([("Người tiếp nhận hồ sơ", official_name)])
    return doc.output()


def render_bm03(dossier: Dossier, *, reason: str, official_name: str, now: datetime) -> bytes:
    doc = _document(dossier, "Phiếu từ chối tiếp nhận giải quyết hồ sơ", now)
    _applicant(doc, dossier)
    doc.paragraph(
        "Qua xem xét, cơ quan, đơn vị thông báo không tiếp nhận, giải quyết hồ sơ này với lý do "
        "cụ thể như sau:"
    )
    doc.paragraph(reason or "…", bold=True)
    doc.paragraph("Xin thông báo để ông/bà được biết và thực hiện.")
    doc.signatures([("Người tiếp nhận hồ sơ", official_name)])
    return doc.output()


def render_bm04(
    dossier: Dossier, *, reason: str, new_due: datetime, official_name: str, now: datetime
) -> bytes:
    doc = _document(dossier, "Phiếu xin lỗi và đề nghị gia hạn thời gian giải quyết", now)
    agency = dossier.receiving_agency.name if dossier.receiving_agency else ""
    doc.paragraph(f"{agency} tiếp nhận hồ sơ của:")
    _applicant(doc, dossier)
    doc.field("Thời gian hẹn trả kết quả giải quyết hồ sơ", _when(dossier.due_at))
    doc.paragraph(
        "Tuy nhiên đến nay, cơ quan chưa trả kết quả giải quyết hồ sơ cho ông/bà, vì lý do:"
    )
    doc.paragraph(reason, bold=True)
    doc.paragraph(
        "Cơ quan xin lỗi ông/bà vì sự chậm trễ này và sẽ trả kết quả giải quyết hồ sơ cho ông/bà "
        f"vào {_when(new_due)}."
    )
    doc.signatures([("Đại diện cơ quan", official_name)])
    return doc.output()


def render_stop(
    dossier: Dossier, *, reason: str, by_applicant: bool, official_name: str, now: datetime
) -> bytes:
    doc = _document(dossier, "Thông báo về việc dừng giải quyết hồ sơ", now)
    _applicant(doc, dossier)
    if by_applicant:
        doc.paragraph("Theo đề nghị rút hồ sơ của ông/bà, cơ quan dừng giải quyết hồ sơ nêu trên.")
    else:
        doc.paragraph("Cơ quan dừng giải quyết hồ sơ nêu trên với lý do như sau:")
    if reason:
        doc.paragraph(reason, bold=True)
    doc.field("Thời điểm dừng", _when(now))
    doc.signatures([("Người thực hiện", official_name)])
    return doc.output()


def handover_result(event: DossierEvent) -> str:
    """Early / on time / late for a hand-over, against the due time of its step: late after
    it, on time within its last working day, early before."""
    if event.step_due_at is None:
        return ""
    if event.at > event.step_due_at:
        return "Quá hạn"
    if _local(event.at).date() == _local(event.step_due_at).date():
        return "Đúng hạn"
    return "Trước hạn"


def render_bm05(dossier: Dossier, *, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    doc = _document(dossier, "Phiếu kiểm soát quá trình giải quyết hồ sơ", now)
    _applicant(doc, dossier)
    doc.field("Thời gian nhận hồ sơ", _when(dossier.accepted_at or dossier.submitted_at))
    doc.field("Thời gian trả kết quả giải quyết hồ sơ", _when(dossier.due_at))
    rows = []
    events = list(dossier.events.select_related("actor").order_by("at", "id"))
    for index, event in enumerate(events):
        giver = event.actor.full_name if event.actor else "Hệ thống"
        receiver = ""
        if index + 1 < len(events) and events[index + 1].actor:
            receiver = events[index + 1].actor.full_name  # type: ignore[union-attr]
        rows.append([
            f"{_local(event.at):%H:%M %d/%m/%Y}", giver, receiver,
            str(event.get_to_status_display()),
            handover_result(event), event.note,
        ])  # fmt: skip
    doc.table(
        ["Thời gian giao, nhận", "Người giao", "Người nhận", "Trạng thái", "Kết quả", "Ghi chú"],
        rows,
        [30, 30, 30, 30, 22, 28],
    )
    return doc.output()


def issue_document(
    dossier: Dossier, kind: str, content: bytes, written: list[str]
) -> DossierDocument:
    """Store a generated form with the dossier (call inside the transition's transaction;
    `written` collects the file so a failed transaction can remove it)."""
    checked = dossier_files.CheckedFile(
        original_name=f"{kind}.pdf", content=content, content_type="application/pdf",
        extension=".pdf", sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip
    name = dossier_files.store(checked, folder="forms")
    written.append(name)
    return DossierDocument.objects.create(
        dossier=dossier, kind=kind, storage_name=name, sha256=checked.sha256, size=len(content)
    )


__all__ = ["DocumentKind", "issue_document", "render_bm01", "render_bm02", "render_bm03",
           "render_bm05", "render_stop"]  # fmt: skip
