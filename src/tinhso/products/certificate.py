"""The OCOP certificate as a signed PDF (Decree 30/2020 layout, core.pdf): the council
body's number, the product, the producer, the stars and points, the term; signed by the
approving leader and sealed with the body's seal, with the verification QR. Issued by the
worker after the approval commits (core.documents kind "products.certificate")."""

from __future__ import annotations

from django.utils import timezone, translation

from tinhso.agencies.selectors import agency_superior_name
from tinhso.core.context_processors import province_place
from tinhso.core.models import PendingDocument
from tinhso.core.pdf import OfficialDocument, SignatureBlock
from tinhso.products.models import Certificate, ProductGroup
from tinhso.products.scoresheet import PARTS, part_totals
from tinhso.signing.pades import Slot

PERSONAL_FIELD = "ChuKyLanhDao"
SEAL_FIELD = "ChuKyCoQuan"


def render_certificate(
    certificate: Certificate, verify_url: str, leader_title: str
) -> tuple[OfficialDocument, dict[str, Slot]]:
    product = certificate.product
    producer = product.producer
    agency = certificate.agency
    issued = timezone.localtime(timezone.now()).replace(
        year=certificate.issued_on.year, month=certificate.issued_on.month,
        day=certificate.issued_on.day,
    )  # fmt: skip
    doc = OfficialDocument(
        superior=agency_superior_name(agency), agency=agency.name,
        number=certificate.number, place=(agency.admin_unit_name or province_place() or "…"),
        date=issued, title="Giấy chứng nhận sản phẩm OCOP",
        subtitle="(Chương trình Mỗi xã một sản phẩm, Quyết định số 148/QĐ-TTg)",
        verification_url=verify_url,
    )  # fmt: skip
    words = {3: "ba", 4: "bốn", 5: "năm"}.get(certificate.stars, str(certificate.stars))
    doc.paragraph(
        f"Chứng nhận sản phẩm đạt hạng {certificate.stars} sao ({words} sao)", bold=True, size=13
    )
    doc.field("Tên sản phẩm", product.name)
    with translation.override("vi"):  # the paper is Vietnamese, whoever runs the worker
        doc.field("Nhóm sản phẩm", str(ProductGroup(product.group).label))
    doc.field("Mã số sản phẩm (GTIN)", product.gtin)
    doc.field("Chủ thể sản xuất", producer.name)
    if producer.tax_code:
        doc.field("Mã số thuế", producer.tax_code)
    place = producer.commune.admin_unit_name or producer.commune.name
    doc.field("Địa chỉ", ", ".join(x for x in (producer.address, place) if x))
    totals = part_totals(certificate.application.scores)
    rows = [[f"Phần {p.code}. {p.name}", f"{totals[p.code]}/{p.points}"] for p in PARTS]
    rows.append(["Tổng điểm", f"{certificate.total}/100"])
    doc.table(["Nội dung đánh giá", "Điểm"], rows, [140, 35])
    doc.field("Hồ sơ đánh giá", certificate.application.code)
    doc.field("Có giá trị đến hết ngày", f"{certificate.valid_until:%d/%m/%Y} (36 tháng)")
    signer = certificate.signer
    doc.signatures([
        SignatureBlock(leader_title or "Lãnh đạo", getattr(signer, "full_name", "") or "",
                       slot="personal"),
    ])  # fmt: skip
    doc.signatures([SignatureBlock("", "", slot="seal")])
    slots = {}
    for name in ("personal", "seal"):
        page, box = doc.slot_box(name)
        slots[name] = Slot(page=page, box=box)
    return doc, slots


def certificate_issue(row: PendingDocument) -> None:
    """The worker's side of the approval: render, sign (leader, then seal), keep."""
    from tinhso.accounts.models import Membership
    from tinhso.signing import services as signing

    certificate = Certificate.objects.select_related(
        "product__producer__commune", "agency__parent", "application", "signer"
    ).get(pk=row.payload["certificate"])
    agency, signer = certificate.agency, certificate.signer
    public_id = row.payload["public_id"]
    title = (
        Membership.objects.filter(user=signer, agency=agency)
        .values_list("title", flat=True)
        .first()
        or ""
    )
    content, slots = render_certificate(certificate, signing.verification_url(public_id), title)
    requests = []
    if signer is not None:
        requests.append(signing.SignRequest(
            certificate=signing.personal_for(signer, agency), purpose="personal",
            field_name=PERSONAL_FIELD, slot=slots["personal"],
            reason="Phê duyệt công nhận sản phẩm OCOP", signer_user=signer,
        ))  # fmt: skip
    requests.append(signing.SignRequest(
        certificate=signing.seal_for(agency), purpose="seal", field_name=SEAL_FIELD,
        slot=slots["seal"], reason="Đóng dấu số của cơ quan", signer_user=signer,
    ))  # fmt: skip
    document = signing.document_sign(
        public_id=public_id, content=content, title="Giấy chứng nhận sản phẩm OCOP",
        reference=certificate.number, agency=agency, requests=requests, actor=signer,
    )  # fmt: skip
    Certificate.objects.filter(pk=certificate.pk).update(signed=document, issuing=None)
