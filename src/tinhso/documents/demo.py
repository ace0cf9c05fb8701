"""The documents' part of the demo (core.demo): the officials of the e-office (clerks,
specialists, heads of unit, leaders) of the province's People's Committee, two departments
and the two demo communes, and their internal units (before the demo PKI, so leaders and
clerks get signing certificates)."""

from __future__ import annotations

from tinhso.accounts.demo import demo_official_ensure
from tinhso.accounts.models import User
from tinhso.accounts.roles import LEADER
from tinhso.accounts.services import membership_grant
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.core.demo import DemoRun
from tinhso.documents.models import Unit
from tinhso.documents.roles import CLERK, SPECIALIST, UNIT_HEAD

# Where: "province" (the province's People's Committee), a department's short name, or a
# commune's official name. (username, full name, role, where, title, unit code)
OFFICIALS = [
    ("vanthu.ubnd", "Lê Thị Ngân", CLERK, "province", "Văn thư Văn phòng UBND tỉnh", ""),
    ("cv.ubnd", "Phạm Văn Kiên", SPECIALIST, "province", "Chuyên viên Văn phòng UBND tỉnh", "VP"),
    ("tp.ubnd", "Đặng Thị Yến", UNIT_HEAD, "province", "Chánh Văn phòng UBND tỉnh", "VP"),
    ("lanhdao.ubnd", "Lê Đức Giang", LEADER, "province", "Phó Chủ tịch", ""),
    ("vanthu.tuphap", "Ngô Thị Hằng", CLERK, "STP", "Văn thư Sở Tư pháp", ""),
    ("cv.tuphap", "Trần Thị Hà", SPECIALIST, "STP", "Chuyên viên Phòng Hành chính tư pháp",
     "HCTP"),
    ("tp.tuphap", "Vũ Văn Nam", UNIT_HEAD, "STP", "Trưởng phòng Hành chính tư pháp", "HCTP"),
    ("vanthu.nnmt", "Hà Thị Thu", CLERK, "SNNMT", "Văn thư Sở Nông nghiệp và Môi trường", ""),
    ("cv.nnmt", "Lương Văn Tú", SPECIALIST, "SNNMT", "Chuyên viên Phòng Kế hoạch", "KH"),
    ("tp.nnmt", "Cao Thị Lý", UNIT_HEAD, "SNNMT", "Trưởng phòng Kế hoạch", "KH"),
    ("vanthu.hacthanh", "Trịnh Văn Long", CLERK, "Phường Hạc Thành", "Văn thư UBND phường", ""),
    ("cv.hacthanh", "Đinh Thị Hoa", SPECIALIST, "Phường Hạc Thành", "Công chức Văn phòng",
     "VP"),
    ("vanthu.hoanghoa", "Mai Thị Hương", CLERK, "Xã Hoằng Hóa", "Văn thư UBND xã", ""),
    ("cv.hoanghoa", "Lê Văn Thành", SPECIALIST, "Xã Hoằng Hóa", "Công chức Văn phòng", "VP"),
]  # fmt: skip

UNITS = {
    "province": [("VP", "Văn phòng UBND tỉnh")],
    "STP": [("VP", "Văn phòng Sở"), ("HCTP", "Phòng Hành chính tư pháp")],
    "SNNMT": [("VP", "Văn phòng Sở"), ("KH", "Phòng Kế hoạch - Tài chính")],
    "Phường Hạc Thành": [("VP", "Văn phòng HĐND và UBND")],
    "Xã Hoằng Hóa": [("VP", "Văn phòng HĐND và UBND")],
}


def demo_agency(where: str) -> Agency:
    if where == "province":
        return Agency.objects.get(level=AgencyLevel.PROVINCE, kind=AgencyKind.PEOPLES_COMMITTEE)
    if where.isupper():
        return Agency.objects.get(level=AgencyLevel.PROVINCE, short_name=where)
    return Agency.objects.get(level=AgencyLevel.COMMUNE, admin_unit_name=where)


def demo_officials_step(run: DemoRun) -> None:
    """The e-office's officials and units (order < 70: the demo PKI then gives the leaders
    and clerks their certificates and every agency its seal). An official of another
    module's demo (a commune's clerk) takes the documents role too."""
    units: dict[tuple[str, str], Unit] = {}
    for where, listed in UNITS.items():
        agency = demo_agency(where)
        for code, name in listed:
            units[(where, code)], _ = Unit.objects.get_or_create(
                agency=agency, code=code, defaults={"name": name}
            )
    for username, name, role, where, title, unit in OFFICIALS:
        agency = demo_agency(where)
        if not demo_official_ensure(
            username=username, full_name=name, role=role, agency=agency, title=title
        ):
            user = User.objects.get(username=username)
            membership_grant(actor=None, user=user, agency=agency, role=role, title=title)
        if unit:
            units[(where, unit)].members.add(User.objects.get(username=username))
