"""An issued document as a signed PDF laid out per Decree 30/2020/NĐ-CP (Appendix I): the
national heading, the issuing body, number and notation, place and date, the type and
subject (a công văn's subject under its number, "V/v …"), the content, the recipients
("Nơi nhận") beside the signature; signed by the approving leader, then sealed with the
agency's seal by the worker after the clerk issues it (core.documents kind
"documents.outgoing"), with the verification QR. Once signed it leaves for its recipients."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tinhso.agencies.selectors import agency_superior_name
from tinhso.core.context_processors import province_place
from tinhso.core.models import PendingDocument
from tinhso.core.pdf import OfficialDocument, SignatureBlock
from tinhso.documents.models import DocType, Outgoing, RecipientKind, Urgency
from tinhso.signing.pades import Slot

PERSONAL_FIELD = "ChuKyLanhDao"
SEAL_FIELD = "ChuKyCoQuan"


def _competence(outgoing: Outgoing) -> str:
    """The signer's authority line: "TM. ỦY BAN NHÂN DÂN" above a committee's chair."""
    if outgoing.agency.kind == "peoples_committee":
        return f"TM. {outgoing.agency.name.upper()}\n{outgoing.signer_position.upper()}"
    return outgoing.signer_position.upper() or "THỦ TRƯỞNG CƠ QUAN"


def render_outgoing(
    outgoing: Outgoing, verify_url: str
) -> tuple[OfficialDocument, dict[str, Slot]]:
    agency = outgoing.agency
    assert outgoing.issued_on is not None  # noqa: S101 (rendered once issued)
    dated = timezone.make_aware(datetime.combine(outgoing.issued_on, datetime.min.time()))
    cong_van = outgoing.doc_type == DocType.CONG_VAN
    doc = OfficialDocument(
        superior=agency_superior_name(agency),
        agency=agency.name,
        number=outgoing.notation,
        place=(agency.admin_unit_name or province_place() or "…"),
        date=dated,
        title="" if cong_van else DocType(outgoing.doc_type).label,
        subtitle="" if cong_van else outgoing.subject,
        number_note=f"V/v {outgoing.subject}" if cong_van else "",
        verification_url=verify_url,
        banner=(str(Urgency(outgoing.urgency).label).upper() if outgoing.urgency else ""),
    )
    recipients = [r for r in outgoing.recipients.all() if r.kind != RecipientKind.UNIT]
    if cong_van and recipients:
        doc.paragraph("Kính gửi: " + "; ".join(r.name for r in recipients) + ".")
    for part in outgoing.content.split("\n\n"):
        if part.strip():
            doc.paragraph(part.strip())
    places = [f"- {r.name};" for r in outgoing.recipients.all()] + ["- Lưu: VT."]
    doc.closing(
        places,
        SignatureBlock(
            _competence(outgoing), getattr(outgoing.signer, "full_name", "") or "", slot="personal"
        ),
    )
    slots = {}
    for name in ("personal",):
        page, box = doc.slot_box(name)
        slots[name] = Slot(page=page, box=box)
    # The seal's visible stamp sits over the personal one's left edge, as a seal overlaps
    # the signature on paper.
    page, (x1, y1, x2, y2) = doc.slot_box("personal")
    slots["seal"] = Slot(page=page, box=(x1 - 40, y1 - 30, x2 - 40, y2 - 30))
    return doc, slots


def outgoing_issue(row: PendingDocument) -> None:
    """The worker's side of issuing: render, sign (the leader who approved it, then the
    agency's seal), keep, and send it to its recipients."""
    from tinhso.documents.exchange import document_send
    from tinhso.signing import services as signing

    outgoing = Outgoing.objects.select_related("agency__parent", "signer", "unit").get(
        pk=row.payload["outgoing"]
    )
    if outgoing.signed_id is not None:
        return
    agency, signer = outgoing.agency, outgoing.signer
    public_id = row.payload["public_id"]
    content, slots = render_outgoing(outgoing, signing.verification_url(public_id))
    requests = []
    if signer is not None:
        requests.append(
            signing.SignRequest(
                certificate=signing.personal_for(signer, agency),
                purpose="personal",
                field_name=PERSONAL_FIELD,
                slot=slots["personal"],
                reason=f"Ký ban hành văn bản {outgoing.notation}",
                signer_user=signer,
            )
        )
    requests.append(
        signing.SignRequest(
            certificate=signing.seal_for(agency),
            purpose="seal",
            field_name=SEAL_FIELD,
            slot=slots["seal"],
            reason="Đóng dấu số của cơ quan",
            signer_user=outgoing.issued_by,
        )
    )
    document = signing.document_sign(
        public_id=public_id,
        content=content,
        title=f"Văn bản {outgoing.notation}",
        reference=outgoing.notation,
        agency=agency,
        requests=requests,
        actor=outgoing.issued_by,
    )
    Outgoing.objects.filter(pk=outgoing.pk).update(signed=document, issuing=None)
    outgoing.signed = document
    document_send(outgoing)
