"""Demo content of the dossiers module: papers already issued to demo citizens, so reusing
a stored paper can be tried."""

from __future__ import annotations

from datetime import date
from typing import Any

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.demo import DemoRun
from tinhso.core.files import check_upload
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


def profile_of(citizen: User) -> dict[str, Any]:
    """What the population registry knows of a demo citizen, as e-forms are prefilled."""
    from tinhso.accounts.selectors import identity_profile

    return identity_profile(citizen)


# (procedure, receiving agency: commune name or "centre", planned path)
_PLANS: list[tuple[str, str, list[str]]] = [
    (
        "1.001193",
        "Phường Hạc Thành",
        ["accept", "assign", "forward", "approve", "issue", "return_result", "rate"],
    ),
    (
        "1.001193",
        "Xã Hoằng Hóa",
        ["accept", "assign", "forward", "approve", "issue", "return_result"],
    ),
    (
        "1.004873",
        "Phường Hạc Thành",
        ["accept", "assign", "forward", "approve", "issue", "return_result", "rate"],
    ),
    ("1.004873", "Xã Hoằng Hóa", ["accept", "assign", "forward", "approve", "issue"]),
    ("1.001193", "Phường Hạc Thành", ["accept", "assign", "forward", "approve"]),
    (
        "2.000488",
        "centre",
        ["accept", "assign", "forward", "approve", "issue", "return_result", "rate"],
    ),
    (
        "2.000488",
        "centre",
        ["accept", "assign", "forward", "approve!late", "issue", "return_result"],
    ),
    ("2.000488", "centre", ["accept", "assign", "forward"]),
    ("2.000488", "centre", ["accept", "assign", "request_payment"]),
    ("2.000488", "centre", ["accept", "assign", "forward", "request_payment"]),
    ("1.004873", "Phường Hạc Thành", ["accept", "assign", "request_payment"]),
    ("1.004873", "Phường Hạc Thành", ["accept", "assign", "ask_more"]),
    ("1.001193", "Phường Hạc Thành", ["ask_supplement"]),
    ("1.004873", "Xã Hoằng Hóa", ["refuse"]),
    ("1.001193", "Xã Hoằng Hóa", ["accept", "withdraw"]),
    ("2.000488", "centre", ["accept", "assign", "stop"]),
    ("1.004873", "Phường Hạc Thành", ["accept", "assign"]),
    ("1.001193", "Phường Hạc Thành", []),
    ("2.000488", "centre", ["accept"]),
]

# What the leader writes when approving, where the result states it (note_required).
_APPROVAL_NOTES = {"2.000488": "Không có án tích"}

_ROLE_FOR = {
    "accept": "receiver",
    "refuse": "receiver",
    "ask_supplement": "receiver",
    "assign": "receiver",
    "forward": "specialist",
    "ask_more": "specialist",
    "request_payment": "specialist",
    "approve": "leader",
    "issue": "clerk",
    "return_result": "receiver",
    "stop": "leader",
}
_STAFF = {
    ("Phường Hạc Thành", "receiver"): "tiepnhan.hacthanh",
    ("Phường Hạc Thành", "specialist"): "chuyenvien.hacthanh",
    ("Phường Hạc Thành", "leader"): "lanhdao.hacthanh",
    ("Xã Hoằng Hóa", "receiver"): "tiepnhan.hoanghoa",
    ("Xã Hoằng Hóa", "specialist"): "chuyenvien.hoanghoa",
    ("Xã Hoằng Hóa", "leader"): "lanhdao.hoanghoa",
    ("centre", "receiver"): "tiepnhan",
    ("centre", "specialist"): "chuyenvien",
    ("centre", "leader"): "lanhdao",
    ("Phường Hạc Thành", "clerk"): "vanthu.hacthanh",
    ("Xã Hoằng Hóa", "clerk"): "vanthu.hoanghoa",
    ("centre", "clerk"): "vanthu.tuphap",
}


def demo_dossiers_seed(*, rounds: int = 2) -> int:
    """Dossiers in every status over the past three months, made through the real services
    (forms issued, events, deadlines). Does nothing when dossiers already exist."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from tinhso.agencies.models import Agency
    from tinhso.catalog.eform import form_sample
    from tinhso.catalog.models import Procedure
    from tinhso.core.calendar import add_working_time, counting_start, hours_for
    from tinhso.dossiers.models import Dossier
    from tinhso.dossiers.services import Attachment, Submission, dossier_rate, dossier_submit
    from tinhso.dossiers.transitions import dossier_act

    if Dossier.objects.exists():
        return 0
    citizens = list(User.objects.filter(username__startswith="0380900000").order_by("username"))
    if not citizens:
        return 0
    agencies = {
        "centre": Agency.objects.get(kind="service_centre"),
        "Phường Hạc Thành": Agency.objects.get(admin_unit_name="Phường Hạc Thành"),
        "Xã Hoằng Hóa": Agency.objects.get(admin_unit_name="Xã Hoằng Hóa"),
    }
    scan = check_upload(None, name="ban-scan.pdf", content=simple_pdf(["Ban scan giay to (demo)"]))
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    made = 0
    for round_no in range(rounds):
        for index, (code, where, path) in enumerate(_PLANS):
            procedure = Procedure.objects.get(code=code)
            citizen = citizens[(index + round_no) % len(citizens)]
            agency = agencies[where]
            hours = hours_for(agency.calendar)
            day = today - timedelta(days=85 - round_no * 40 - index * 2)
            moment = counting_start(datetime.combine(day, time(8, 15), tz), hours)
            profile = profile_of(citizen)
            attachments = [
                Attachment(paper=p, upload=scan)
                for p in procedure.papers.all()
                if p.required and not p.eform
            ]
            dossier = dossier_submit(
                submission=Submission(
                    procedure=procedure,
                    applicant=citizen,
                    receiving_agency=agency,
                    result_method=procedure.result_methods[0],
                    form_data=form_sample(procedure.form_schema, profile),
                    attachments=attachments,
                ),
                now=moment,
            )
            for step in path:
                action, _sep, flag = step.partition("!")
                if action == "rate":
                    dossier_rate(dossier=dossier, citizen=citizen, score=3 - index % 2)
                    continue
                dossier.refresh_from_db()
                moment = add_working_time(counting_start(moment, hours), timedelta(hours=2), hours)
                if flag == "late" and dossier.due_at is not None:
                    moment = dossier.due_at + timedelta(hours=3)
                actor = (
                    citizen
                    if action == "withdraw"
                    else User.objects.get(username=_STAFF[(where, _ROLE_FOR[action])])
                )
                assignee = (
                    User.objects.get(username=_STAFF[(where, "specialist")])
                    if action == "assign"
                    else None
                )
                note = {
                    "refuse": "Hồ sơ không thuộc thẩm quyền giải quyết",
                    "ask_supplement": "Bổ sung bản sao giấy tờ có chứng thực",
                    "ask_more": "Bổ sung xác nhận nơi cư trú",
                    "stop": "Người yêu cầu đề nghị dừng giải quyết",
                    # What the result states (the template's note_required).
                    "approve": _APPROVAL_NOTES.get(code, ""),
                }.get(action, "")
                dossier = dossier_act(
                    dossier=dossier,
                    actor=actor,
                    action=action,
                    version=dossier.version,
                    note=note,
                    assignee=assignee,
                    now=min(moment, timezone.now()),
                )
            made += 1
    return made


def demo_dossiers_step(run: DemoRun) -> None:
    """Dossiers in every status, unless the run leaves them out (the tests make their own);
    the signing and payments steps after it follow up on them."""
    if run.dossiers and demo_dossiers_seed():
        run.dossiers_seeded = True
