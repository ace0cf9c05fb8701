"""The reports' part of the demo (core.demo): the categories (with their questions), the
officials who receive, handle and moderate reports in the two demo communes and at the
service centre, the demo Open311 application (demo mode only), and a few hundred reports
over the past months in every state, some with photos."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from tinhso.accounts.demo import demo_official_ensure
from tinhso.accounts.models import User
from tinhso.agencies.geo import contains
from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel
from tinhso.core.demo import DemoRun
from tinhso.feedback.models import Category, Open311Client, Report, Route, key_digest
from tinhso.feedback.subject import HANDLER, MODERATOR, RECEIVER

SEVERITY = [
    {"key": "nho", "name": "Nhỏ"},
    {"key": "vua", "name": "Vừa"},
    {"key": "nghiem-trong", "name": "Nghiêm trọng, nguy hiểm"},
]

CATEGORIES: list[dict[str, Any]] = [
    {
        "code": "o-ga",
        "name": "Ổ gà, hư hỏng mặt đường",
        "group": "Hạ tầng giao thông",
        "keywords": "ổ gà, mặt đường, sụt lún",
        "time_days": 5,
        "description": "Mặt đường, vỉa hè bị vỡ, sụt lún, ổ gà gây nguy hiểm.",
        "attributes": [
            {
                "code": "muc_do",
                "datatype": "singlevaluelist",
                "required": True,
                "description": "Mức độ nguy hiểm",
                "order": 1,
                "values": SEVERITY,
            }
        ],
    },
    {
        "code": "den-duong",
        "name": "Đèn chiếu sáng công cộng hỏng",
        "group": "Chiếu sáng",
        "keywords": "đèn đường, chiếu sáng",
        "time_days": 3,
        "description": "Đèn đường không sáng, sáng ban ngày, cột đèn nghiêng đổ.",
        "attributes": [
            {
                "code": "so_cot",
                "datatype": "string",
                "required": False,
                "description": "Số hiệu cột đèn (nếu thấy)",
                "order": 1,
            }
        ],
    },
    {
        "code": "rac-thai",
        "name": "Đổ rác, xả thải trái phép",
        "group": "Môi trường",
        "keywords": "rác, phế thải, ô nhiễm",
        "time_days": 5,
        "description": "Rác, phế thải xây dựng đổ sai nơi quy định; xả nước thải.",
        "attributes": [
            {
                "code": "loai",
                "datatype": "multivaluelist",
                "required": True,
                "description": "Loại chất thải",
                "order": 1,
                "values": [
                    {"key": "sinh-hoat", "name": "Rác sinh hoạt"},
                    {"key": "xay-dung", "name": "Phế thải xây dựng"},
                    {"key": "nuoc-thai", "name": "Nước thải"},
                ],
            }
        ],
    },
    {
        "code": "ngap-ung",
        "name": "Ngập úng, tắc cống thoát nước",
        "group": "Thoát nước",
        "keywords": "ngập, cống, thoát nước",
        "time_days": 2,
        "description": "Đường ngập sau mưa, cống tắc, nắp cống mất.",
        "attributes": [],
    },
    {
        "code": "lan-chiem",
        "name": "Lấn chiếm vỉa hè, lòng đường",
        "group": "Trật tự đô thị",
        "keywords": "lấn chiếm, vỉa hè, buôn bán",
        "time_days": 5,
        "description": "Buôn bán, để vật liệu, đỗ xe chiếm vỉa hè và lòng đường.",
        "attributes": [],
    },
    {
        "code": "dich-vu-cong",
        "name": "Chất lượng phục vụ hành chính công",
        "group": "Dịch vụ công",
        "keywords": "thái độ, một cửa, thủ tục",
        "time_days": 7,
        "description": "Phản ánh thái độ, chất lượng phục vụ tại bộ phận Một cửa.",
        "route": "agency",
        "attributes": [
            {
                "code": "ngay_den",
                "datatype": "datetime",
                "required": True,
                "description": "Thời gian đến làm thủ tục",
                "order": 1,
            },
            {
                "code": "ma_ho_so",
                "datatype": "string",
                "required": False,
                "description": "Mã hồ sơ (nếu có)",
                "order": 2,
            },
        ],
    },
]

OFFICIALS = [
    (
        "phananh.hacthanh",
        "Nguyễn Thị Thanh",
        RECEIVER,
        "Phường Hạc Thành",
        "Công chức tiếp nhận phản ánh",
    ),
    ("hientruong.hacthanh", "Lê Văn Dũng", HANDLER, "Phường Hạc Thành", "Tổ công tác hiện trường"),
    (
        "kiemduyet.hacthanh",
        "Trần Thị Lụa",
        MODERATOR,
        "Phường Hạc Thành",
        "Công chức Văn hóa - Xã hội",
    ),
    ("phananh.hoanghoa", "Phạm Văn Toàn", RECEIVER, "Xã Hoằng Hóa", "Công chức tiếp nhận phản ánh"),
    ("hientruong.hoanghoa", "Lê Thị Na", HANDLER, "Xã Hoằng Hóa", "Tổ công tác hiện trường"),
    ("phananh.ttphvc", "Đỗ Thị Hạnh", RECEIVER, "service_centre", "Chuyên viên Trung tâm PVHCC"),
    ("xuly.ttphvc", "Vũ Minh Quân", HANDLER, "service_centre", "Chuyên viên Trung tâm PVHCC"),
]


def _service_centre() -> Agency | None:
    return Agency.objects.filter(kind=AgencyKind.SERVICE_CENTRE).order_by("path").first()


def demo_categories_step(run: DemoRun) -> None:
    centre = _service_centre()
    for item in CATEGORIES:
        route = item.get("route", Route.COMMUNE)
        Category.objects.get_or_create(
            code=item["code"],
            defaults={
                "name": item["name"],
                "group": item["group"],
                "keywords": item["keywords"],
                "description": item["description"],
                "time_days": Decimal(item["time_days"]),
                "attributes": item["attributes"],
                "route": route,
                "agency": centre if route == Route.AGENCY else None,
            },
        )
    for username, full_name, role, where, title in OFFICIALS:
        agency = (
            _service_centre()
            if where == "service_centre"
            else Agency.objects.filter(level=AgencyLevel.COMMUNE, admin_unit_name=where).first()
        )
        if agency is not None:
            demo_official_ensure(
                username=username, full_name=full_name, role=role, agency=agency, title=title
            )
    if settings.TINHSO_DEMO:
        from tinhso.feedback.services import demo_key

        Open311Client.objects.get_or_create(
            key_digest=key_digest(demo_key()),
            defaults={"name": "Ứng dụng thử (demo)", "key_hint": demo_key()[:6]},
        )


def _demo_photo(rng: random.Random, label: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new(
        "RGB", (640, 480), (rng.randint(90, 160), rng.randint(90, 150), rng.randint(80, 120))
    )
    draw = ImageDraw.Draw(image)
    for _n in range(12):
        x, y = rng.randint(0, 600), rng.randint(0, 440)
        draw.ellipse(
            (x, y, x + rng.randint(20, 90), y + rng.randint(10, 50)),
            fill=(rng.randint(40, 90),) * 3,
        )
    draw.text((16, 16), f"Ảnh minh họa: {label}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _point_in(agency: Agency, rng: random.Random) -> tuple[Decimal, Decimal] | None:
    boundary = getattr(agency, "boundary", None)
    if boundary is None:
        return None
    for _try in range(200):
        lat = rng.uniform(boundary.min_lat, boundary.max_lat)
        lng = rng.uniform(boundary.min_lng, boundary.max_lng)
        if contains(boundary.geometry, lat, lng):
            return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")
    return None


PROBLEMS = {
    "o-ga": [
        "Ổ gà lớn giữa đường, xe máy dễ ngã",
        "Mặt đường sụt lún sau trận mưa",
        "Vỉa hè vỡ, lộ cốt thép",
    ],
    "den-duong": [
        "Cả dãy đèn đường không sáng mấy hôm nay",
        "Đèn sáng cả ban ngày",
        "Cột đèn nghiêng, có nguy cơ đổ",
    ],
    "rac-thai": [
        "Có người đổ phế thải xây dựng ven đường ban đêm",
        "Rác tồn đọng nhiều ngày",
        "Nước thải chảy ra mương, bốc mùi",
    ],
    "ngap-ung": [
        "Mưa to là ngập nửa bánh xe",
        "Nắp cống bị mất, rất nguy hiểm",
        "Cống tắc, nước không thoát",
    ],
    "lan-chiem": [
        "Quán bày bàn ghế kín vỉa hè",
        "Để vật liệu xây dựng chiếm lòng đường",
        "Xe ô tô đỗ chiếm lối đi",
    ],
    "dich-vu-cong": ["Chờ lâu, không được hướng dẫn rõ", "Cán bộ hướng dẫn nhiệt tình, cảm ơn"],
}
ANSWERS = [
    "Đã cử tổ công tác kiểm tra và khắc phục xong.",
    "Đã phối hợp với đơn vị quản lý sửa chữa, đề nghị người dân giám sát.",
    "Đã xử lý vi phạm và yêu cầu cam kết không tái diễn.",
]


def demo_reports_step(run: DemoRun) -> None:
    """A few hundred reports of the past months, moved by the demo officials (tests make
    their own: only when the demo's dossiers are made too)."""
    from tinhso.feedback.services import Photo, ReportDraft, report_submit

    if not run.dossiers or Report.objects.exists():
        return
    rng = random.Random(38)  # noqa: S311 (a reproducible demo)
    communes = list(
        Agency.objects.filter(level=AgencyLevel.COMMUNE, memberships__role=RECEIVER)
        .select_related("boundary")
        .distinct()
    )
    users = {u.username: u for u in User.objects.filter(username__in=[o[0] for o in OFFICIALS])}
    citizens = list(User.objects.filter(kind="citizen").order_by("pk")[:6])
    categories = list(Category.objects.filter(is_active=True))
    now = timezone.now()
    seen: dict[tuple[int, int], list[Report]] = {}
    # Oldest first, so a duplicate always repeats an earlier report.
    moments = sorted(
        now - timedelta(days=rng.uniform(1, 180), hours=rng.uniform(0, 10)) for _n in range(300)
    )
    for n in range(300):
        category = rng.choice(categories)
        commune = rng.choice(communes)
        point = _point_in(commune, rng)
        if point is None:
            continue
        at = moments[n]
        answers: dict[str, Any] = {}
        for question in category.attributes:
            if question["datatype"] == "singlevaluelist":
                answers[question["code"]] = rng.choice(question["values"])["key"]
            elif question["datatype"] == "multivaluelist":
                answers[question["code"]] = [rng.choice(question["values"])["key"]]
            elif question["datatype"] == "datetime":
                answers[question["code"]] = (at - timedelta(days=1)).isoformat(timespec="minutes")
        reporter = rng.choice(citizens) if citizens and n % 3 else None
        photos = [Photo("anh.jpg", _demo_photo(rng, category.name))] if n % 3 == 0 else []
        report = report_submit(
            ReportDraft(
                category_code=category.code,
                description=rng.choice(PROBLEMS[category.code]),
                latitude=point[0],
                longitude=point[1],
                answers=answers,
                photos=photos,
                reporter=reporter,
                contact_phone="" if reporter else f"09{rng.randint(10**7, 10**8 - 1)}",
                show_name=reporter is not None and n % 2 == 0,
                channel="web",
            ),
            now=at,
        )
        same = seen.setdefault((report.agency_id, report.category_id), [])
        _demo_move(report, users, rng, at, now, same)
        same.append(report)


def _demo_move(
    report: Report,
    users: dict[str, User],
    rng: random.Random,
    at: Any,
    now: Any,
    earlier: list[Report],
) -> None:
    from tinhso.feedback.services import report_act

    place = (
        "ttphvc"
        if report.agency.kind == AgencyKind.SERVICE_CENTRE
        else ("hacthanh" if "Hạc Thành" in report.agency.admin_unit_name else "hoanghoa")
    )
    receiver, handler = (
        users.get(f"phananh.{place}"),
        users.get(f"hientruong.{place}") or users.get("xuly.ttphvc"),
    )
    if receiver is None or handler is None:
        return
    fate = rng.random()
    step = at + timedelta(hours=rng.uniform(2, 30))

    def act(actor: User, action: str, note: str = "", **kwargs: Any) -> Report:
        nonlocal step, report
        report = report_act(
            report=report,
            actor=actor,
            action=action,
            version=report.version,
            note=note,
            now=min(step, now),
            **kwargs,
        )
        step += timedelta(hours=rng.uniform(4, 60))
        return report

    if fate < 0.07:
        return  # not received yet (some of them late)
    if fate < 0.14:
        act(receiver, "reject", "Nội dung không thuộc thẩm quyền giải quyết của cơ quan.")
        return
    if fate < 0.19 and earlier:
        act(receiver, "mark_duplicate", duplicate_of=rng.choice(earlier))
        return
    act(receiver, "accept")
    if fate < 0.25:
        return
    act(receiver, "assign", assignee=handler)
    if fate < 0.33:
        return
    act(handler, "answer", rng.choice(ANSWERS))
    if report.reporter is not None and fate < 0.7:
        act(report.reporter, "close")
