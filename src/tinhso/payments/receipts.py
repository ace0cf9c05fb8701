"""The electronic receipt (biên lai điện tử) of a payment: a PDF with the national heading,
what was paid for, line by line, sealed with the collecting agency's signature and a QR
code to verify it."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from tinhso.agencies.selectors import agency_superior_name
from tinhso.core.context_processors import province_place
from tinhso.core.models import PendingDocument
from tinhso.core.numbering import Period, sequence_next
from tinhso.core.pdf import OfficialDocument, SignatureBlock
from tinhso.core.words import money_words, vnd
from tinhso.payments.models import Payment
from tinhso.signing.pades import Slot


def render_receipt(payment: Payment, verify_url: str) -> tuple[OfficialDocument, Slot]:
    """The receipt as Vietnamese e-receipts show it: form number, series and number, the
    collecting agency, the payer, each charge, the total in figures and in words. Laid out,
    not yet written: the signing module writes it with its seal."""
    agency = payment.agency
    paid = timezone.localtime(payment.paid_at or timezone.now())
    total = payment.paid_amount or payment.amount
    form_line = (
        f"Mẫu số: {payment.receipt_form} – Ký hiệu: {payment.receipt_series}"
        if payment.receipt_number else ""
    )  # fmt: skip
    doc = OfficialDocument(
        superior=agency_superior_name(agency), agency=agency.name,
        number=payment.receipt_number or payment.reference, number_note=form_line,
        place=(agency.admin_unit_name or province_place() or "…"), date=paid,
        title="Biên lai thu phí, lệ phí", subtitle="(Bản thể hiện của biên lai điện tử)",
        verification_url=verify_url,
    )  # fmt: skip
    applicant = payment.dossier.applicant
    doc.field("Tên đơn vị thu phí, lệ phí", agency.name)
    doc.field("Tên người nộp", applicant.full_name or applicant.username)
    doc.field("Địa chỉ", applicant.permanent_address)
    doc.field("Nội dung thu", payment.dossier.procedure.name)
    doc.field("Mã hồ sơ", payment.dossier.code or "")
    rows = [
        [line["name"], vnd(line["unit_amount"]), str(line["quantity"]),
         vnd(line["amount"]), vnd(line["exempted"])]
        for line in payment.breakdown.get("lines", [])
    ]  # fmt: skip
    doc.table(["Khoản thu", "Mức thu", "Số lượng", "Thành tiền", "Miễn, giảm"], rows,
              [62, 28, 20, 30, 30])  # fmt: skip
    doc.field("Tổng số tiền đã nộp", vnd(total))
    doc.field("Số tiền viết bằng chữ", money_words(total))
    doc.field("Hình thức thanh toán", "Chuyển khoản qua mã VietQR")
    doc.field("Mã giao dịch ngân hàng", payment.bank_transaction)
    doc.field("Mã tham chiếu thanh toán", payment.reference)
    doc.field("Thời điểm thanh toán", f"{paid:%H:%M, ngày %d/%m/%Y}")
    doc.signatures([SignatureBlock("Đơn vị thu", agency.name, slot="seal")])
    page, box = doc.slot_box("seal")
    return doc, Slot(page=page, box=box)


def receipt_number_take(payment: Payment) -> list[str]:
    """Give the payment being credited its receipt's form number, series and number, taken
    inside the crediting transaction (numbers have no gap and never repeat in a series);
    the fields to save with it."""
    paid = timezone.localdate(payment.paid_at or timezone.now())
    series = settings.TINHSO_RECEIPT_SERIES.replace("{yy}", f"{paid:%y}")
    serial = sequence_next(
        register=f"payments.receipt:{series}", scope=str(payment.agency_id),
        period=Period.YEARLY, day=paid,
    )  # fmt: skip
    payment.receipt_form = settings.TINHSO_RECEIPT_FORM
    payment.receipt_series = series
    payment.receipt_number = f"{serial:07d}"
    return ["receipt_form", "receipt_series", "receipt_number"]


RECEIPT = "payments.receipt"  # the core.documents kind (registered in PaymentsConfig.ready)


def receipt_queue(*, payment: Payment) -> None:
    """Queue the receipt of a credited payment (inside the crediting transaction, its
    number taken by receipt_number_take): the
    worker renders and seals it after commit; the pages say it is being issued until then.
    A missing seal certificate is retried and then shown to the administrator, the payment
    staying credited."""
    from tinhso.core.documents import document_pending

    def bind(row: PendingDocument) -> None:
        Payment.objects.filter(pk=payment.pk).update(receipt_issuing=row)
        payment.receipt_issuing = row

    document_pending(
        kind=RECEIPT, key=f"payment:{payment.pk}:receipt",
        label=f"Biên lai {payment.reference}", payload={"payment": payment.pk}, bind=bind,
    )  # fmt: skip


def receipt_issue(row: PendingDocument) -> None:
    """The worker's side of receipt_queue: render, seal and attach the receipt."""
    from tinhso.signing import services as signing

    payment = Payment.objects.select_related(
        "agency__parent", "dossier__procedure", "dossier__applicant"
    ).get(pk=row.payload["payment"])
    public_id = signing.verification_id_new()
    content, slot = render_receipt(payment, signing.verification_url(public_id))
    document = signing.document_sign(
        public_id=public_id, content=content, title="Biên lai thu phí, lệ phí",
        reference=payment.dossier.code or "", agency=payment.agency, actor=None,
        requests=[signing.SignRequest(
            certificate=signing.seal_for(payment.agency), purpose="seal",
            field_name="ChuKyCoQuan", slot=slot, reason="Biên lai điện tử",
        )],
    )  # fmt: skip
    Payment.objects.filter(pk=payment.pk).update(receipt=document)
    Payment.objects.filter(pk=payment.pk, receipt_issuing=row).update(receipt_issuing=None)
