"""Demo accounts of the demo province (documented in the README)."""

from __future__ import annotations

from datetime import date

from django.conf import settings

from tinhso.accounts.models import User
from tinhso.accounts.services import citizen_create, membership_grant, official_create
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.agencies.selectors import province_committee
from tinhso.core.demo import DemoRun

# username, full name, role code (as its module registers it: core.roles), where
# ("province", "service_centre", a department's short name or a commune's official name).
DEMO_OFFICIALS: list[tuple[str, str, str, str, str]] = [
    ("admin", "Quản trị viên tỉnh", "province_admin", "province", "Quản trị hệ thống"),
    ("tiepnhan", "Lê Thị Hoa", "receiver", "service_centre", "Chuyên viên tiếp nhận"),
    ("chuyenvien", "Nguyễn Văn Bình", "specialist", "STP", "Chuyên viên"),
    ("lanhdao", "Trần Quốc Hùng", "leader", "STP", "Phó Giám đốc Sở"),
    ("tiepnhan.hacthanh", "Phạm Thị Lan", "receiver", "Phường Hạc Thành", "Công chức Một cửa"),
    (
        "chuyenvien.hacthanh",
        "Hoàng Văn Nam",
        "specialist",
        "Phường Hạc Thành",
        "Công chức Tư pháp - Hộ tịch",
    ),
    (
        "lanhdao.hacthanh",
        "Đỗ Minh Tuấn",
        "leader",
        "Phường Hạc Thành",
        "Phó Chủ tịch UBND phường",
    ),
    ("tiepnhan.hoanghoa", "Vũ Thị Mai", "receiver", "Xã Hoằng Hóa", "Công chức Một cửa"),
    (
        "chuyenvien.hoanghoa",
        "Lê Đức Thắng",
        "specialist",
        "Xã Hoằng Hóa",
        "Công chức Tư pháp - Hộ tịch",
    ),
    ("lanhdao.hoanghoa", "Nguyễn Thị Thu", "leader", "Xã Hoằng Hóa", "Chủ tịch UBND xã"),
    ("vanthu.tuphap", "Ngô Thị Hằng", "clerk", "STP", "Văn thư Sở Tư pháp"),
    ("vanthu.hacthanh", "Trịnh Văn Long", "clerk", "Phường Hạc Thành", "Văn thư UBND phường"),
    ("vanthu.hoanghoa", "Mai Thị Hương", "clerk", "Xã Hoằng Hóa", "Văn thư UBND xã"),
    ("ketoan", "Lương Thị Nga", "accountant", "service_centre", "Kế toán"),
    (
        "ketoan.hacthanh",
        "Đinh Văn Phúc",
        "accountant",
        "Phường Hạc Thành",
        "Kế toán UBND phường",
    ),
    ("dulieu.yte", "Phan Thị Ngọc", "publisher", "SYT", "Chuyên viên dữ liệu Sở Y tế"),
    (
        "dulieu.giaoduc",
        "Cao Văn Khánh",
        "publisher",
        "SGDĐT",
        "Chuyên viên dữ liệu Sở Giáo dục và Đào tạo",
    ),
    ("chuyenvien.congan", "Bùi Văn Hải", "specialist", "CA", "Cán bộ tra cứu lý lịch tư pháp"),
    (
        "bientap",
        "Đặng Thu Trang",
        "catalog_editor",
        "province",
        "Chuyên viên kiểm soát thủ tục hành chính",
    ),
]

# Synthetic citizens: their numbers follow the real structure (038 = born in Thanh Hóa,
# 0 = male born in the 1900s, 90 = 1990) but belong to nobody.
DEMO_CITIZENS: list[tuple[str, str, date, str, str]] = [
    (
        "038090000001",
        "Nguyễn Văn An",
        date(1990, 3, 14),
        "0912000001",
        "Số 12 Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa",
    ),
    (
        "038090000002",
        "Trần Minh Đức",
        date(1990, 7, 2),
        "0912000002",
        "Thôn Đông, xã Hoằng Hóa, tỉnh Thanh Hóa",
    ),
    (
        "038090000003",
        "Lê Quang Huy",
        date(1990, 11, 20),
        "0912000003",
        "Số 8 Trần Phú, phường Hàm Rồng, tỉnh Thanh Hóa",
    ),
    (
        "038090000004",
        "Phạm Gia Bảo",
        date(1990, 1, 5),
        "0912000004",
        "Khu phố 3, phường Sầm Sơn, tỉnh Thanh Hóa",
    ),
    (
        "038090000005",
        "Hoàng Tiến Dũng",
        date(1990, 9, 30),
        "0912000005",
        "Thôn Tân Phúc, xã Hồi Xuân, tỉnh Thanh Hóa",
    ),
]


# More synthetic residents of the registry (for counter intake, relatives on forms…).
DEMO_REGISTRY_EXTRA: list[tuple[str, str, date, str, str]] = [
    (
        "038190000006",
        "Nguyễn Thị Bình",
        date(1990, 5, 12),
        "0912000006",
        "Số 12 Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa",
    ),
    (
        "038185000007",
        "Lê Thị Cúc",
        date(1985, 8, 8),
        "0912000007",
        "Thôn Đông, xã Hoằng Hóa, tỉnh Thanh Hóa",
    ),
    (
        "038075000008",
        "Trịnh Văn Đông",
        date(1975, 2, 17),
        "0912000008",
        "Số 3 Phan Chu Trinh, phường Hàm Rồng, tỉnh Thanh Hóa",
    ),
    (
        "038198000009",
        "Mai Thị Hằng",
        date(1998, 12, 1),
        "0912000009",
        "Khu phố 1, phường Sầm Sơn, tỉnh Thanh Hóa",
    ),
    (
        "038056000010",
        "Đỗ Văn Khang",
        date(1956, 4, 25),
        "0912000010",
        "Thôn Tân Phúc, xã Hồi Xuân, tỉnh Thanh Hóa",
    ),
    (
        "038301000011",
        "Hà Thị Lệ",
        date(2001, 6, 19),
        "0912000011",
        "Bản Pù Luông, xã Pù Luông, tỉnh Thanh Hóa",
    ),
    (
        "038202000012",
        "Vi Văn Minh",
        date(2002, 10, 3),
        "0912000012",
        "Bản Na Mèo, xã Na Mèo, tỉnh Thanh Hóa",
    ),
    (
        "001088000013",
        "Phan Văn Nghĩa",
        date(1988, 3, 30),
        "0912000013",
        "Số 45 Nguyễn Trãi, phường Hạc Thành, tỉnh Thanh Hóa",
    ),
]


def demo_registry_seed() -> int:
    """The embedded population registry: the demo citizens and a few more residents."""
    from tinhso.accounts.identity import parse_personal_id
    from tinhso.accounts.models import PopulationRecord

    created = 0
    for personal_id, full_name, born, phone, address in DEMO_CITIZENS + DEMO_REGISTRY_EXTRA:
        _record, was_created = PopulationRecord.objects.get_or_create(
            personal_id=personal_id,
            defaults={
                "full_name": full_name,
                "date_of_birth": born,
                "sex": parse_personal_id(personal_id).sex,
                "permanent_address": address,
                "phone": phone,
            },
        )
        created += was_created
    return created


def demo_agency(where: str, province: Agency | None = None) -> Agency:
    """The demo's agency named `where`, as every module's demo names it: "province" (the
    province's People's Committee), "service_centre", a department's short name (upper
    case: "STP") or a commune's administrative unit ("Phường Hạc Thành"); within
    `province` when given."""
    subtree = Agency.objects.all()
    if province is not None:
        subtree = subtree.filter(path__startswith=province.path)
    if where == "province":
        if province is not None:
            return province
        return subtree.get(level=AgencyLevel.PROVINCE, kind=AgencyKind.PEOPLES_COMMITTEE)
    if where == "service_centre":
        return subtree.get(kind=AgencyKind.SERVICE_CENTRE)
    if where.isupper():
        return subtree.get(level=AgencyLevel.PROVINCE, short_name=where)
    return subtree.get(level=AgencyLevel.COMMUNE, admin_unit_name=where)


def demo_official_ensure(
    *, username: str, full_name: str, role: str, agency: Agency, title: str
) -> bool:
    """A demo official holding `role` in `agency`, with the demo password, unless the
    username exists already; returns whether one was made. (Other modules' demos make
    their officials with it.)"""
    if User.objects.filter(username=username).exists():
        return False
    user = official_create(
        actor=None,
        username=username,
        full_name=full_name,
        email=f"{username}@demo.tinhso.vn",
        password=settings.TINHSO_DEMO_PASSWORD,
        is_superuser=role == "province_admin",
    )
    membership_grant(actor=None, user=user, agency=agency, role=role, title=title)
    return True


def demo_accounts_seed(*, province: Agency) -> int:
    """Create the demo officials and citizens that do not exist yet; returns how many."""
    password = settings.TINHSO_DEMO_PASSWORD
    created = 0
    for username, full_name, role, where, title in DEMO_OFFICIALS:
        created += demo_official_ensure(
            username=username, full_name=full_name, role=role,
            agency=demo_agency(where, province), title=title,
        )  # fmt: skip
    for personal_id, full_name, born, phone, address in DEMO_CITIZENS:
        if User.objects.filter(username=personal_id).exists():
            continue
        citizen_create(
            actor=None,
            personal_id=personal_id,
            full_name=full_name,
            date_of_birth=born,
            phone=phone,
            permanent_address=address,
            password=password,
        )
        created += 1
    return created


def demo_accounts_step(run: DemoRun) -> None:
    """The accounts' part of the demo (core.demo), after the province exists."""
    province = province_committee(province_code=settings.TINHSO_PROVINCE_CODE)
    if province is None:
        raise LookupError("The demo accounts need the province: seed the agencies first.")
    run.accounts_created += demo_accounts_seed(province=province)
