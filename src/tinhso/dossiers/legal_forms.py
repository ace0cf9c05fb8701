"""The one-stop forms as PDF: BM.01 receipt and appointment, BM.02 supplement request,
BM.03 refusal, BM.04 apology and extension, the stop notice and the result, each issued
signed (tinhso.signing) with a QR code to verify it; and BM.05, the process control sheet,
rendered from the events when asked for. BM.06, the register, is in dossiers.register."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.agencies.selectors import agency_superior_name
from tinhso.catalog.results import Heading
from tinhso.core.indicators import Timeliness, timeliness
from tinhso.core.models import PendingDocument
from tinhso.core.pdf import OfficialDocument, SignatureBlock
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, DossierEvent
from tinhso.signing.pades import Slot

CHANNELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Qua dịch vụ bưu chính"}
RESULT = {"online": "Trực tuyến", "counter": "Tại Bộ phận Một cửa", "post": "Qua dịch vụ bưu chính"}


def _local(moment: datetime | None) -> datetime:
    return timezone.localtime(moment or timezone.now())


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "…"
    local = _local(moment)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d}/{local:%m}/{local:%Y}"


@dataclass(frozen=True)
class Rendered:
    """A laid-out form, not yet written (the signing module writes it with its first
    signature), and where its digital signatures go (slot name → Slot)."""

    draft: OfficialDocument
    slots: dict[str, Slot]


def _rendered(doc: OfficialDocument) -> Rendered:
    slots = {}
    for name in doc.slots:
        page, box = doc.slot_box(name)
        slots[name] = Slot(page=page, box=box)
    return Rendered(doc, slots)


def _document(
    dossier: Dossier,
    title: str,
    now: datetime,
    verify_url: str = "",
    agency: Agency | None = None,
    subtitle: str = "",
) -> OfficialDocument:
    agency = agency or dossier.receiving_agency
    assert agency is not None  # noqa: S101 (submitted dossiers always have one)
    heading = _heading(agency)
    return OfficialDocument(
        superior=heading.superior, agency=heading.agency, number=dossier.code or "",
        place=heading.place or "…",
        date=_local(now), title=title, subtitle=subtitle or f"Mã hồ sơ: {dossier.code}",
        verification_url=verify_url,
    )  # fmt: skip


def _applicant(doc: OfficialDocument, dossier: Dossier) -> None:
    person = dossier.applicant
    doc.field("Ông/Bà", person.full_name or person.username)
    doc.field("Số định danh cá nhân", person.personal_id or person.tax_code or "")
    doc.field("Địa chỉ", person.permanent_address)
    doc.field("Số điện thoại", person.phone)
    doc.field("Nội dung yêu cầu giải quyết", dossier.procedure.name)


def render_bm01(
    dossier: Dossier,
    *,
    receiver_name: str,
    now: datetime,
    verify_url: str = "",
    accepted_at: datetime | None = None,
    due_at: datetime | None = None,
) -> Rendered:
    """`accepted_at` and `due_at` as they were when it was received (the dossier's own,
    read later, may have moved on)."""
    doc = _document(dossier, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", now, verify_url)
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
    doc.field("Thời gian nhận hồ sơ", _when(accepted_at or dossier.accepted_at or now))
    doc.field("Thời gian trả kết quả giải quyết hồ sơ", _when(due_at or dossier.due_at))
    doc.field("Hình thức nộp hồ sơ", CHANNELS.get(dossier.channel, ""))
    doc.field("Đăng ký nhận kết quả", RESULT.get(dossier.result_method, dossier.result_method))
    doc.signatures(
        [
            SignatureBlock("Người nộp hồ sơ", dossier.applicant.full_name),
            SignatureBlock("Người tiếp nhận hồ sơ", receiver_name, slot="seal"),
        ]
    )
    doc.footer_note(
        f"Tra cứu tiến độ giải quyết hồ sơ bằng mã hồ sơ {dossier.code} "
        "trên Cổng dịch vụ công của tỉnh."
    )
    return _rendered(doc)


def render_bm02(
    dossier: Dossier, *, note: str, official_name: str, now: datetime, verify_url: str = ""
) -> Rendered:
    doc = _document(dossier, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", now, verify_url)
    _applicant(doc, dossier)
    doc.paragraph("Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", bold=True)
    doc.paragraph(note or "…")
    doc.paragraph(
        "Thời gian bổ sung, hoàn thiện hồ sơ không tính vào thời hạn giải quyết. Trong quá trình "
        "hoàn thiện hồ sơ nếu có vướng mắc, ông/bà liên hệ với cán bộ tiếp nhận để được hướng dẫn."
    )
    doc.signatures([SignatureBlock("Người tiếp nhận hồ sơ", official_name, slot="seal")])
    return _rendered(doc)


def render_bm03(
    dossier: Dossier, *, reason: str, official_name: str, now: datetime, verify_url: str = ""
) -> Rendered:
    doc = _document(dossier, "Phiếu từ chối tiếp nhận giải quyết hồ sơ", now, verify_url)
    _applicant(doc, dossier)
    doc.paragraph(
        "Qua xem xét, cơ quan, đơn vị thông báo không tiếp nhận, giải quyết hồ sơ này với lý do "
        "cụ thể như sau:"
    )
    doc.paragraph(reason or "…", bold=True)
    doc.paragraph("Xin thông báo để ông/bà được biết và thực hiện.")
    doc.signatures([SignatureBlock("Người tiếp nhận hồ sơ", official_name, slot="seal")])
    return _rendered(doc)


def render_bm04(
    dossier: Dossier,
    *,
    reason: str,
    new_due: datetime,
    official_name: str,
    now: datetime,
    verify_url: str = "",
    old_due: datetime | None = None,
) -> Rendered:
    doc = _document(
        dossier, "Phiếu xin lỗi và đề nghị gia hạn thời gian giải quyết", now, verify_url
    )
    agency = dossier.receiving_agency.name if dossier.receiving_agency else ""
    doc.paragraph(f"{agency} tiếp nhận hồ sơ của:")
    _applicant(doc, dossier)
    doc.field("Thời gian hẹn trả kết quả giải quyết hồ sơ", _when(old_due or dossier.due_at))
    doc.paragraph(
        "Tuy nhiên đến nay, cơ quan chưa trả kết quả giải quyết hồ sơ cho ông/bà, vì lý do:"
    )
    doc.paragraph(reason, bold=True)
    doc.paragraph(
        "Cơ quan xin lỗi ông/bà vì sự chậm trễ này và sẽ trả kết quả giải quyết hồ sơ cho ông/bà "
        f"vào {_when(new_due)}."
    )
    doc.signatures([SignatureBlock("Đại diện cơ quan", official_name, slot="seal")])
    return _rendered(doc)


def render_stop(
    dossier: Dossier,
    *,
    reason: str,
    by_applicant: bool,
    official_name: str,
    now: datetime,
    verify_url: str = "",
) -> Rendered:
    doc = _document(dossier, "Thông báo về việc dừng giải quyết hồ sơ", now, verify_url)
    _applicant(doc, dossier)
    if by_applicant:
        doc.paragraph("Theo đề nghị rút hồ sơ của ông/bà, cơ quan dừng giải quyết hồ sơ nêu trên.")
    else:
        doc.paragraph("Cơ quan dừng giải quyết hồ sơ nêu trên với lý do như sau:")
    if reason:
        doc.paragraph(reason, bold=True)
    doc.field("Thời điểm dừng", _when(now))
    doc.signatures([SignatureBlock("Người thực hiện", official_name, slot="seal")])
    return _rendered(doc)


HANDOVER_RESULT = {
    Timeliness.EARLY: "Trước hạn",
    Timeliness.ON_TIME: "Đúng hạn",
    Timeliness.LATE: "Quá hạn",
}


def handover_result(event: DossierEvent) -> str:
    """Early / on time / late for a hand-over, against the due time of its step
    (core.indicators.timeliness, as the figures count it); blank without one."""
    result = timeliness(event.at, event.step_due_at)
    return "" if result is None else HANDOVER_RESULT[result]


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


def _heading(agency: Agency) -> Heading:
    """The issuing body's heading of a paper: its superior, itself, and where it is issued
    as the date line names it (the commune, or the province)."""
    place = agency.admin_unit_name or ""
    if agency.level == "commune":
        place = place.split(" ", 1)[-1]
    return Heading(superior=agency_superior_name(agency), agency=agency.name, place=place)


def render_result(
    dossier: Dossier,
    *,
    agency: Agency,
    leader_name: str,
    leader_title: str,
    note: str,
    now: datetime,
    verify_url: str = "",
    template: Mapping[str, Any] | None = None,
    number: str = "",
    serial: int = 0,
) -> Rendered:
    """The result paper the leader signs and the clerk seals, laid out by the procedure's
    template (catalog.results; `template` as it was when the leader signed)."""
    from tinhso.catalog.results import DEFAULT_TEMPLATE, ResultValues, result_layout

    procedure = dossier.procedure
    template = template or procedure.result_template or DEFAULT_TEMPLATE
    heading = _heading(agency)
    signed = _local(now)
    person = dossier.applicant
    received = dossier.accepted_at or dossier.submitted_at
    values = ResultValues(
        form=dossier.form_data or {}, schema=procedure.form_schema or {},
        known={
            "number": number or dossier.code, "serial": serial, "year": signed.year,
            "signed_on": signed.date(), "note": note.strip(),
            "dossier": {"code": dossier.code,
                        "received_on": _local(received).date() if received else None},
            "procedure": {"name": procedure.name},
            "agency": {"name": agency.name, "place": heading.place},
            "applicant": {"full_name": person.full_name or person.username,
                          "personal_id": person.personal_id or person.tax_code or "",
                          "date_of_birth": person.date_of_birth,
                          "address": person.permanent_address},
            "signer": {"name": leader_name, "title": leader_title},
        },
    )  # fmt: skip
    doc = result_layout(
        template, values, heading=heading, number=number or dossier.code or "",
        signed_at=signed, verify_url=verify_url,
    )  # fmt: skip
    return _rendered(doc)


def _kind_title(kind: str) -> str:
    from django.utils import translation

    with translation.override("vi"):
        return str(DocumentKind(kind).label)


def _moment(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)


def frozen(moment: datetime | None) -> str | None:
    """A time kept in a document's inputs (ISO 8601)."""
    return None if moment is None else moment.isoformat()


def _user(pk: int | None) -> User | None:
    return None if pk is None else User.objects.filter(pk=pk).first()


def form_queue(
    *,
    dossier: Dossier,
    kind: str,
    agency: Agency,
    actor: User | None,
    now: datetime,
    inputs: dict[str, Any],
    personal: User | None = None,
    number: str = "",
) -> DossierDocument:
    """Queue a form of `dossier` to issue after commit (core.documents, ADR 0023): its row
    shows at once as being issued; the worker renders it from `inputs` (the names, note and
    times of the action, frozen now), signs it with the agency's seal, or (a result) with
    `personal`'s own certificate leaving the seal's field for the clerk, and keeps it.
    Call inside the action's transaction. SigningError when no valid certificate could
    sign it now (the action is refused, as when it signed at once)."""
    from tinhso.core.documents import document_pending
    from tinhso.signing import services as signing

    if personal is not None:
        signing.personal_for(personal, agency)
    else:
        signing.seal_for(agency)
    document = DossierDocument.objects.create(
        dossier=dossier, kind=kind, agency=agency, storage_name="", sha256="", size=0,
        number=number,
    )  # fmt: skip

    def bind(row: PendingDocument) -> None:
        document.issuing = row
        document.save(update_fields=["issuing"])

    document_pending(
        kind=FORM, key=f"dossier-document:{document.pk}",
        label=f"{_kind_title(kind)} – {dossier.code}",
        payload={
            "document": document.pk, "actor": getattr(actor, "pk", None),
            "personal": getattr(personal, "pk", None), "now": now.isoformat(),
            "public_id": signing.verification_id_new(), "inputs": inputs,
        },
        bind=bind,
    )  # fmt: skip
    return document


def _render(document: DossierDocument, now: datetime, inputs: dict[str, Any], url: str) -> Rendered:
    dossier, kind = document.dossier, document.kind
    if kind == DocumentKind.BM01:
        return render_bm01(
            dossier, receiver_name=inputs["name"], now=now, verify_url=url,
            accepted_at=_moment(inputs.get("accepted_at")), due_at=_moment(inputs.get("due_at")),
        )  # fmt: skip
    if kind == DocumentKind.BM02:
        return render_bm02(
            dossier, note=inputs["note"], official_name=inputs["name"], now=now, verify_url=url
        )
    if kind == DocumentKind.BM03:
        return render_bm03(
            dossier, reason=inputs["note"], official_name=inputs["name"], now=now,
            verify_url=url,
        )  # fmt: skip
    if kind == DocumentKind.BM04:
        return render_bm04(
            dossier, reason=inputs["note"], new_due=datetime.fromisoformat(inputs["new_due"]),
            official_name=inputs["name"], now=now, verify_url=url,
            old_due=_moment(inputs.get("old_due")),
        )  # fmt: skip
    if kind == DocumentKind.STOP:
        return render_stop(
            dossier, reason=inputs["note"], by_applicant=inputs["by_applicant"],
            official_name=inputs["name"], now=now, verify_url=url,
        )  # fmt: skip
    assert document.agency is not None  # noqa: S101 (form_queue sets it)
    return render_result(
        dossier, agency=document.agency, leader_name=inputs["name"],
        leader_title=inputs["title"], note=inputs["note"], now=now, verify_url=url,
        template=inputs.get("template"), number=inputs.get("number", ""),
        serial=inputs.get("serial", 0),
    )  # fmt: skip


def form_issue(row: PendingDocument) -> None:
    """The worker's side of form_queue (core.documents handler "dossiers.form")."""
    from tinhso.signing import services as signing

    payload = row.payload
    document = (
        DossierDocument.objects.select_related("dossier__procedure", "dossier__applicant",
                                               "dossier__receiving_agency__parent",
                                               "agency__parent")
        .get(pk=payload["document"])
    )  # fmt: skip
    agency = document.agency
    assert agency is not None  # noqa: S101 (form_queue sets it)
    actor, personal = _user(payload["actor"]), _user(payload["personal"])
    now = datetime.fromisoformat(payload["now"])
    public_id = payload["public_id"]
    rendered = _render(document, now, payload["inputs"], signing.verification_url(public_id))
    if personal is not None:
        requests = [signing.SignRequest(
            certificate=signing.personal_for(personal, agency), purpose="personal",
            field_name=PERSONAL_FIELD, slot=rendered.slots["personal"],
            reason="Phê duyệt kết quả giải quyết", signer_user=personal,
        )]  # fmt: skip
        reserved = [(SEAL_FIELD, rendered.slots["seal"])]
    else:
        requests = [signing.SignRequest(
            certificate=signing.seal_for(agency), purpose="seal", field_name=SEAL_FIELD,
            slot=rendered.slots["seal"], reason="Đóng dấu số của cơ quan", signer_user=actor,
        )]  # fmt: skip
        reserved = []
    signed = signing.document_sign(
        public_id=public_id, content=rendered.draft, title=_kind_title(document.kind),
        reference=document.dossier.code or "", agency=agency, requests=requests,
        reserved=reserved, actor=actor, now=now,
    )  # fmt: skip
    document.storage_name, document.sha256, document.size = (
        signed.storage_name, signed.sha256, signed.size,
    )  # fmt: skip
    document.signed = signed
    if document.issuing_id == row.pk:  # not when the clerk's seal already waits for it
        document.issuing = None
    document.save(update_fields=["storage_name", "sha256", "size", "signed", "issuing"])


def result_document(dossier: Dossier) -> DossierDocument | None:
    """The result of the dossier the leader signed (the newest), issued or being issued."""
    return (
        dossier.documents.filter(kind=DocumentKind.RESULT, agency__isnull=False)
        .select_related("agency", "issuing")
        .last()
    )


def seal_queue(*, document: DossierDocument, clerk: User | None, now: datetime) -> None:
    """The clerk issues the result: the agency's seal signature goes into the field left
    for it, after commit, and after the leader's signature if that is still being issued
    (the seal waits for it rather than refusing). SigningError when the agency has no seal
    that can sign now."""
    from tinhso.core.documents import document_pending
    from tinhso.signing import services as signing

    agency = document.agency
    if agency is None:
        raise signing.SigningError("Hồ sơ chưa có kết quả đã được lãnh đạo ký.")
    signing.seal_for(agency)

    def bind(row: PendingDocument) -> None:
        document.issuing = row
        document.save(update_fields=["issuing"])

    document_pending(
        kind=SEAL, key=f"dossier-document:{document.pk}:seal",
        label=f"{_kind_title(document.kind)} – {document.dossier.code} (đóng dấu)",
        payload={"document": document.pk, "actor": getattr(clerk, "pk", None),
                 "now": now.isoformat()},
        after=document.issuing, bind=bind,
    )  # fmt: skip


def seal_issue(row: PendingDocument) -> None:
    """The worker's side of seal_queue (core.documents handler "dossiers.seal")."""
    from tinhso.signing import services as signing

    document = DossierDocument.objects.select_related("signed__agency").get(
        pk=row.payload["document"]
    )
    issued = document.signed
    if issued is None or issued.agency is None:
        raise signing.SigningError("Hồ sơ chưa có kết quả đã được lãnh đạo ký.")
    clerk = _user(row.payload["actor"])
    signed = signing.document_countersign(
        document=issued,
        request=signing.SignRequest(
            certificate=signing.seal_for(issued.agency), purpose="seal",
            field_name=SEAL_FIELD, slot=None,
            reason="Phát hành văn bản, đóng dấu số của cơ quan", signer_user=clerk,
        ),
        actor=clerk, now=datetime.fromisoformat(row.payload["now"]),
    )  # fmt: skip
    document.storage_name, document.sha256, document.size = (
        signed.storage_name, signed.sha256, signed.size,
    )  # fmt: skip
    if document.issuing_id == row.pk:
        document.issuing = None
    document.save(update_fields=["storage_name", "sha256", "size", "issuing"])


# core.documents kinds (registered in DossiersConfig.ready)
FORM = "dossiers.form"
SEAL = "dossiers.seal"

# The names of the signature fields in the PDFs (what pdfsig and Acrobat list).
PERSONAL_FIELD = "ChuKyLanhDao"
SEAL_FIELD = "ChuKyCoQuan"

__all__ = ["DocumentKind", "form_issue", "form_queue", "render_bm01", "render_bm02",
           "render_bm03", "render_bm04", "render_bm05", "render_result", "render_stop",
           "seal_issue", "seal_queue"]  # fmt: skip
