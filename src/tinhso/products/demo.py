"""The products' part of the demo (core.demo): the OCOP council's officials and the market
inspector (before the demo PKI, so the council's leader gets a signing certificate), and —
with the demo's records — illustrative producers and products of the two demo communes,
OCOP applications in every state (the certified ones through the real workflow: scored,
approved, certificates signed after commit), stamp batches (tens of thousands of stamps)
with scan histories, and counterfeit patterns that raised signals."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tinhso.accounts.demo import demo_agency, demo_official_ensure
from tinhso.accounts.models import User
from tinhso.accounts.roles import LEADER
from tinhso.core.demo import DemoRun
from tinhso.products.models import Batch, Producer, ProducerKind, Product, Stamp
from tinhso.products.scoresheet import points_adding_up_to
from tinhso.products.subject import INSPECTOR, SCORER, SECRETARY

OFFICIALS = [
    ("ocop.thuky", "Lê Thị Thanh", SECRETARY, "SNNMT", "Thư ký Hội đồng OCOP tỉnh"),
    ("ocop.chamdiem", "Nguyễn Hữu Phước", SCORER, "SNNMT", "Thành viên Hội đồng OCOP tỉnh"),
    ("lanhdao.nnmt", "Hoàng Văn Sơn", LEADER, "SNNMT", "Phó Giám đốc Sở"),
    ("qltt", "Trần Minh Đức", INSPECTOR, "SCT", "Kiểm soát viên thị trường"),
]

# (commune's official name, citizen's personal ID, kind, producer, tax code, products:
# (name, group, description, stars or None, shops))
PRODUCERS: list[tuple[str, str, str, str, str, list[tuple[str, str, str, int | None, bool]]]] = [
    ("Phường Hạc Thành", "038090000001", ProducerKind.COOPERATIVE, "HTX Nem chua Hạc Thành",
     "2800123452", [
         ("Nem chua Hạc Thành", "food", "Nem chua gói lá chuối, lên men tự nhiên 3 ngày.", 4, True),
         ("Chả tôm Hạc Thành", "food", "Chả tôm tươi, không chất bảo quản.", 3, True),
         ("Chè lam gừng", "food", "Chè lam nếp cái hoa vàng, gừng tươi.", None, False),
     ]),
    ("Xã Hoằng Hóa", "038090000002", ProducerKind.HOUSEHOLD, "",
     "", [
         ("Mắm tép Hoằng Hóa", "food", "Mắm tép ủ chượp truyền thống.", 3, False),
         ("Chiếu cói Hoằng Hóa", "crafts", "Chiếu cói dệt tay, nhuộm màu tự nhiên.", 4, True),
     ]),
    ("Xã Hoằng Hóa", "038090000003", ProducerKind.BUSINESS, "Công ty TNHH Thảo mộc Sông Mã",
     "2801234564", [
         ("Trà thảo mộc Sông Mã", "herbal", "Trà túi lọc từ lá vối, cà gai leo.", 5, True),
         ("Rượu nếp cái hoa vàng", "drinks", "Rượu nếp ủ men lá, 29 độ.", None, False),
     ]),
]  # fmt: skip

SHOPS = [("Shopee", "https://shopee.vn/"), ("Sàn TMĐT Thanh Hóa", "https://thanhhoa.ocop.vn/")]


def demo_officials_step(run: DemoRun) -> None:
    """The council's secretary, scorer and leader, and a market inspector (order < 70:
    the demo PKI issues the leader's personal certificate and the body's seal)."""
    for username, name, role, where, title in OFFICIALS:
        demo_official_ensure(
            username=username, full_name=name, role=role, agency=demo_agency(where), title=title
        )


def _evidence(rng: random.Random, label: str) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (rng.randint(180, 255), rng.randint(180, 255), 200))
    ImageDraw.Draw(image).text((12, 90), label.encode("ascii", "replace").decode(), fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("phieu-kiem-nghiem.png", buffer.getvalue(), "image/png")


def _scores(total: int) -> dict[str, object]:
    return {code: str(points) for code, points in points_adding_up_to(total).items()}


def demo_products_step(run: DemoRun) -> None:
    """Producers, products, applications, stamps, scans and signals (with the demo's
    records only; tests make their own)."""
    if not run.dossiers or Producer.objects.exists():
        return
    from tinhso.products.services import (
        application_act,
        application_submit,
        batch_order,
        producer_register,
        product_save,
        stamps_issue,
    )

    rng = random.Random(148)  # noqa: S311 (a reproducible demo)
    now = timezone.now()
    users = {u.username: u for u in User.objects.filter(username__in=[o[0] for o in OFFICIALS])}
    secretary, scorer, leader = users["ocop.thuky"], users["ocop.chamdiem"], users["lanhdao.nnmt"]
    batches: list[Batch] = []
    for where, personal_id, kind, name, tax_code, items in PRODUCERS:
        owner = User.objects.filter(username=personal_id).first()
        if owner is None:
            continue
        producer = producer_register(
            owner=owner, kind=kind, name=name, commune=demo_agency(where), tax_code=tax_code,
            address=f"{where}, tỉnh Thanh Hóa", phone=owner.phone,
        )  # fmt: skip
        for index, (title, group, description, stars, shops) in enumerate(items):
            product = product_save(
                producer=producer, actor=owner, name=title, group=group, description=description,
                links=SHOPS if shops else (),
            )  # fmt: skip
            at = now - timedelta(days=rng.randint(60, 200))
            application = application_submit(
                product=product, actor=owner, files=[_evidence(rng, title)], criteria=["C3"],
                self_assessment=f"{description} Sản phẩm đã có mặt trên thị trường 3 năm.",
                now=at,
            )  # fmt: skip

            def act(action: str, actor: User, note: str = "", **kw: Any) -> None:
                nonlocal application
                application = application_act(
                    application=application, actor=actor, action=action,
                    version=application.version, note=note, **kw,
                )  # fmt: skip

            if stars is None:
                if index % 2:
                    act("return", secretary, "Bổ sung phiếu kiểm nghiệm chỉ tiêu vi sinh.")
                continue  # waiting to be checked
            act("accept", secretary)
            total = {3: 58, 4: 76, 5: 91}[stars]
            act("score", scorer, scores=_scores(total))
            act("approve", leader, "Đủ điều kiện công nhận.")
            for lot_no in range(2 if stars >= 4 else 1):
                produced = timezone.localdate(now) - timedelta(days=rng.randint(20, 120))
                expires = produced + timedelta(days=rng.choice([30, 180, 365]))
                batch = batch_order(
                    product=product, actor=owner, lot=f"L{produced:%y%m}{lot_no + 1:02d}",
                    produced_on=produced, expires_on=expires,
                    place=f"{producer.commune.admin_unit_name}, tỉnh Thanh Hóa",
                    quantity=rng.choice([2_000, 5_000, 8_000]),
                )  # fmt: skip
                stamps_issue(batch.pk)
                batches.append(batch)
    _demo_scans(rng, batches, now)


def _demo_scans(rng: random.Random, batches: list[Batch], now: Any) -> None:
    """Scan histories: most stamps never scanned, some once or twice; and the patterns a
    counterfeiter leaves: one stamp copied and scanned many times in two regions, serials
    never issued, a batch scanned after its expiry."""
    from tinhso.products.scans import scan_stamp, scan_unknown

    regions = ["Thanh Hóa", "Hà Nội", "Nghệ An", "Ninh Bình"]
    for batch in batches:
        batch.refresh_from_db()
        stamps = list(Stamp.objects.filter(batch=batch).order_by("?")[:60].select_related(
            "batch__product__producer"))  # fmt: skip
        for stamp in stamps[:50]:
            for _n in range(rng.choice([1, 1, 1, 2])):
                moment = now - timedelta(days=rng.uniform(0, 20), hours=rng.uniform(0, 12))
                scan_stamp(stamp, client=f"demo{rng.randint(1, 400)}", region="Thanh Hóa",
                           now=moment)  # fmt: skip
    if not batches:
        return
    copied = Stamp.objects.filter(batch=batches[0]).select_related(
        "batch__product__producer").order_by("number")[5]  # fmt: skip
    for n in range(24):
        scan_stamp(copied, client=f"copy{n}", region=regions[n % 2],
                   now=now - timedelta(hours=48 - n))  # fmt: skip
    product: Product = batches[-1].product
    for n in range(3):
        scan_unknown(product, serial=f"FAKE{rng.randint(10**11, 10**12 - 1)}",
                     lot=batches[-1].lot, client=f"fake{n}", region="Nghệ An",
                     now=now - timedelta(days=n))  # fmt: skip
    expired = [b for b in batches if b.expires_on and b.expires_on < timezone.localdate(now)]
    if expired:
        late = Stamp.objects.filter(batch=expired[0]).select_related(
            "batch__product__producer").first()  # fmt: skip
        if late is not None:
            scan_stamp(late, client="late1", region="Thanh Hóa", now=now)
