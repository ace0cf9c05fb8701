"""Demo content of the dossiers module: papers already issued to demo citizens, so reusing
a stored paper can be tried."""

from __future__ import annotations

from datetime import date

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.dossiers.files import check_upload
from tinhso.dossiers.models import StoredPaper
from tinhso.dossiers.services import stored_paper_add


def simple_pdf(lines: list[str]) -> bytes:
    """A small, valid one-page PDF 1.4 with the given ASCII lines (Helvetica). Issued
    results get real rendering and signatures in the signing module; this is demo data."""
    text = "\n".join(
        f"BT /F1 12 Tf 72 {760 - 18 * i} Td ({line.replace('(', '[').replace(')', ']')}) Tj ET"
        for i, line in enumerate(lines)
    ).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def demo_stored_papers_seed() -> int:
    citizen = User.objects.filter(username="038090000001").first()
    if citizen is None or StoredPaper.objects.filter(owner=citizen).exists():
        return 0
    hac_thanh = Agency.objects.filter(admin_unit_name="Phường Hạc Thành").first()
    content = simple_pdf(
        [
            "CONG HOA XA HOI CHU NGHIA VIET NAM",
            "GIAY CHUNG NHAN KET HON (ban sao dien tu - du lieu trinh dien)",
            "Chong: Nguyen Van An, so dinh danh 038090000001",
            "Vo: Nguyen Thi Binh, so dinh danh 038190000006",
            "Noi dang ky: Uy ban nhan dan phuong Hac Thanh, ngay 12/05/2018",
        ]
    )
    stored_paper_add(
        owner=citizen,
        paper_type="giay-chung-nhan-ket-hon",
        name="Giấy chứng nhận kết hôn",
        number="45/2018",
        checked=check_upload(None, name="giay-chung-nhan-ket-hon.pdf", content=content),
        issued_by=hac_thanh,
        issued_on=date(2018, 5, 12),
    )
    return 1
