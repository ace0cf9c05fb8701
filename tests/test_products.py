"""OCOP products and traceability stamps (module products): producers identified from the
registry or a checked tax code, products with GS1 GTINs, the OCOP application scored and
approved through the workflow (a certificate signed by the leader and sealed, which pdfsig
accepts, whose stars stop showing when it ends), stamp orders within limits, issued with
serials that never repeat and URIs an independent GS1 parser reads, the resolver (page,
RFC 9264 linkset, link-type redirects, "not a genuine stamp" for anything else) and the
counterfeit signals the inspectors close."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from flows import user
from test_signing import nss_db, pdfsig  # noqa: F401 (nss_db: a fixture)
from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.core.errors import DomainError
from tinhso.core.outbox import outbox_deliver_pending
from tinhso.products.models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchState,
    Certificate,
    Producer,
    Product,
    Signal,
    SignalKind,
    SignalStatus,
    Stamp,
)
from tinhso.products.scoresheet import points_adding_up_to
from tinhso.products.services import (
    application_act,
    application_submit,
    batch_order,
    producer_register,
    product_save,
)

pytestmark = pytest.mark.django_db
TAX_CODE = "2800123452"  # a valid check digit


def commune(name: str = "Phường Hạc Thành") -> Agency:
    return Agency.objects.get(level=AgencyLevel.COMMUNE, admin_unit_name=name)


def png(label: str = "x") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 160)).save(out, format="PNG")
    return SimpleUploadedFile(f"{label}.png", out.getvalue(), "image/png")


def business(owner: str = "038090000001", tax_code: str = TAX_CODE) -> Producer:
    return producer_register(
        owner=user(owner), kind="cooperative", name="HTX Nem chua Hạc Thành",
        commune=commune(), tax_code=tax_code, address="Số 5 Lê Lai", phone="0912000001",
    )  # fmt: skip


def product(producer: Producer | None = None, name: str = "Nem chua Hạc Thành") -> Product:
    producer = producer or business()
    return product_save(
        producer=producer, actor=producer.owner, name=name, group="food",
        description="Nem chua gói lá chuối.", links=[("Shopee", "https://shopee.vn/nem")],
    )  # fmt: skip


def scores(total: int) -> dict[str, object]:
    return {code: str(points) for code, points in points_adding_up_to(total).items()}


def applied(item: Product) -> Application:
    return application_submit(
        product=item, actor=item.producer.owner, self_assessment="Đặc sản.", files=[png()],
        criteria=["C3"],
    )  # fmt: skip


def act(application: Application, who: str, action: str, **kw: Any) -> Application:
    application.refresh_from_db()
    return application_act(
        application=application, actor=user(who), action=action, version=application.version,
        **kw,
    )  # fmt: skip


def certified(item: Product, total: int = 76) -> Application:
    application = act(applied(item), "ocop.thuky", "accept")
    application = act(application, "ocop.chamdiem", "score", scores=scores(total))
    return act(application, "lanhdao.nnmt", "approve", note="Đủ điều kiện.")


# --- producers and products --------------------------------------------------------------


def test_a_household_is_its_head_as_the_registry_knows_them() -> None:
    owner = user("038090000002")
    producer = producer_register(
        owner=owner, kind="household", name="", commune=commune("Xã Hoằng Hóa"),
        tax_code="9999999999",
    )  # fmt: skip
    assert producer.personal_id == owner.personal_id
    assert producer.tax_code == ""
    assert owner.full_name in producer.name


def test_a_business_needs_a_valid_tax_code_and_registers_once() -> None:
    with pytest.raises(DomainError) as wrong:
        business(tax_code="2800123457")
    assert wrong.value.status == 422
    assert "tax_code" in (wrong.value.errors or {})
    business()
    with pytest.raises(DomainError) as again:
        business(owner="038090000002")
    assert again.value.status == 409


def test_a_product_without_a_gtin_gets_one_of_the_province_with_its_check_digit(
    settings: Any,
) -> None:
    from biip.gtin import Gtin

    first = product()
    second = product(first.producer, name="Chả tôm")
    for item in (first, second):
        assert item.gtin_assigned
        assert len(item.gtin) == 14
        assert item.gtin[1:].startswith(settings.TINHSO_GS1_PREFIX)
        assert Gtin.parse(item.gtin).value == item.gtin  # biip checks the check digit
    assert first.gtin != second.gtin
    producer = first.producer
    with pytest.raises(DomainError) as bad:
        product_save(producer=producer, actor=producer.owner, name="X", group="food",
                     gtin="4006381333932")  # fmt: skip
    assert bad.value.status == 422
    own = product_save(producer=producer, actor=producer.owner, name="Y", group="food",
                       gtin="400638133393-1")  # fmt: skip
    assert own.gtin == "04006381333931"
    assert not own.gtin_assigned
    with pytest.raises(DomainError) as taken:
        product_save(producer=producer, actor=producer.owner, name="Z", group="food",
                     gtin="4006381333931")  # fmt: skip
    assert taken.value.status == 409
    with pytest.raises(DomainError) as other:
        product_save(producer=producer, actor=user("038090000002"), name="Z", group="food")
    assert other.value.status == 403


# --- OCOP ------------------------------------------------------------------------------


def test_an_application_needs_evidence_of_a_kind_the_platform_checks() -> None:
    item = product()
    with pytest.raises(DomainError) as empty:
        application_submit(product=item, actor=item.producer.owner, self_assessment="", files=[])
    assert empty.value.status == 422
    assert "files" in (empty.value.errors or {})
    script = SimpleUploadedFile("a.pdf", b"<script>alert(1)</script>", "application/pdf")
    with pytest.raises(DomainError) as wrong:
        application_submit(product=item, actor=item.producer.owner, self_assessment="",
                           files=[script])  # fmt: skip
    assert wrong.value.status == 422
    assert not Application.objects.filter(product=item).exists()


def test_the_council_scores_and_the_leader_certifies_with_a_signed_certificate(
    nss_db: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    in_ci: bool,
) -> None:
    from tinhso.core.files import read_bytes

    item = product()
    application = applied(item)
    assert application.agency.short_name == "SNNMT"
    with pytest.raises(DomainError):  # the scorer cannot take what the secretary does
        act(application, "ocop.chamdiem", "accept")
    application = act(application, "ocop.thuky", "accept")
    assert application.due_at is not None  # 30 working days for the council
    with pytest.raises(DomainError) as incomplete:
        act(application, "ocop.chamdiem", "score", scores={"A1": "9"})
    problems = incomplete.value.errors or {}
    assert "score_A1" in problems
    assert "score_C4" in problems
    application = act(application, "ocop.chamdiem", "score", scores=scores(76))
    assert (application.total, application.stars) == (76, 4)
    with pytest.raises(DomainError):
        act(application, "ocop.chamdiem", "approve")
    application = act(application, "lanhdao.nnmt", "approve")
    assert application.status == ApplicationStatus.CERTIFIED
    certificate = Certificate.objects.get(application=application)
    assert certificate.stars == 4
    assert certificate.number.endswith("/GCN-OCOP")
    assert certificate.valid_until == date(
        certificate.issued_on.year + 3, certificate.issued_on.month, certificate.issued_on.day
    )
    item.refresh_from_db()
    assert item.stars == 4
    assert certificate.signed is not None  # the immediate task backend issued it
    path = tmp_path / "ocop.pdf"
    path.write_bytes(read_bytes(certificate.signed.storage_name))
    said = pdfsig(path, nss_db, in_ci)
    assert said.count("Signature Validation: Signature is Valid.") == 2, said
    assert "Hoàng Văn Sơn" in said  # the leader's personal signature, then the seal
    assert application.events.filter(action="approve").exists()
    # The producer heard of it.
    from tinhso.core.models import Notification

    assert Notification.objects.filter(user=item.producer.owner,
                                       subject__contains=application.code).exists()  # fmt: skip


def test_below_fifty_points_a_product_is_not_certified() -> None:
    application = act(applied(product()), "ocop.thuky", "accept")
    application = act(application, "ocop.chamdiem", "score", scores=scores(45))
    assert application.stars is None
    with pytest.raises(DomainError):
        act(application, "lanhdao.nnmt", "approve")
    application = act(application, "lanhdao.nnmt", "refuse", note="Dưới 50 điểm.")
    assert application.status == ApplicationStatus.NOT_CERTIFIED


def test_a_returned_application_comes_back_with_more_evidence() -> None:
    application = act(applied(product()), "ocop.thuky", "return", note="Thiếu phiếu kiểm nghiệm.")
    assert application.status == ApplicationStatus.RETURNED
    application = act(application, "038090000001", "resubmit", files=[png("kiem-nghiem")],
                      criteria=["C3"])  # fmt: skip
    assert application.status == ApplicationStatus.NEW
    assert application.files.count() == 2


def test_an_expired_certificate_shows_no_stars_anywhere(client: Client) -> None:
    item = product()
    certified(item)
    assert client.get("/ocop/?q=nem chua").content.decode().count(item.name) >= 1
    assert item.name in client.get("/ocop/?q=NEM CHUA hac thanh").content.decode()
    Certificate.objects.filter(product=item).update(valid_until=timezone.localdate() - timedelta(1))
    item.refresh_from_db()
    assert item.stars is None
    assert item.name not in client.get("/ocop/").content.decode()
    page = client.get(f"/ocop/san-pham/{item.pk}/").content.decode()
    assert "★" not in page.split("<main", 1)[1]


# --- stamps ------------------------------------------------------------------------------


def order(item: Product, quantity: int = 50, lot: str = "L2611-01", **kw: Any) -> Batch:
    today = timezone.localdate()
    fields: dict[str, Any] = {
        "produced_on": today - timedelta(days=3), "expires_on": today + timedelta(days=90),
        "place": "Phường Hạc Thành", **kw,
    }  # fmt: skip
    batch = batch_order(product=item, actor=item.producer.owner, lot=lot, quantity=quantity,
                        **fields)  # fmt: skip
    outbox_deliver_pending()  # after commit, the worker issues the stamps
    batch.refresh_from_db()
    return batch


def test_an_order_is_issued_with_serials_that_never_repeat_and_uris_gs1_reads(
    settings: Any,
) -> None:
    from tinhso.products.labels_service import stamp_uri

    item = product()
    batch = order(item, quantity=1_000)
    assert batch.state == BatchState.ISSUED
    assert batch.issued == 1_000
    serials = list(batch.stamps.values_list("serial", flat=True))
    assert len(set(serials)) == 1_000
    assert sorted(batch.stamps.values_list("number", flat=True)) == list(range(1, 1_001))
    for serial in serials[:200]:
        uri = stamp_uri(item.gtin, batch.lot, serial)
        parsed = GS1DigitalLinkURI.parse(uri)
        values = {e.ai.ai: e.value for e in parsed.element_strings}
        assert values == {"01": item.gtin, "10": batch.lot, "21": serial}
        assert [e.ai.ai for e in parsed.element_strings] == ["01", "10", "21"]
    # One part of labels, made at once for a batch this size.
    sheet = batch.sheets.get()
    assert sheet.storage_name
    assert sheet.last == 1_000


def test_orders_are_refused_beyond_the_limits_and_for_a_lot_twice() -> None:
    item = product()
    producer = item.producer
    Producer.objects.filter(pk=producer.pk).update(order_limit=100, year_limit=150)
    item.producer.refresh_from_db()
    with pytest.raises(DomainError) as big:
        order(item, quantity=101)
    assert big.value.status == 422
    assert "quantity" in (big.value.errors or {})
    order(item, quantity=100, lot="A1")
    with pytest.raises(DomainError) as year:
        order(item, quantity=60, lot="A2")
    assert "50" in year.value.message
    with pytest.raises(DomainError) as twice:
        order(item, quantity=10, lot="A1")
    assert twice.value.status == 409
    with pytest.raises(DomainError) as lot:
        order(item, quantity=10, lot="lô/1")
    assert lot.value.status == 422
    with pytest.raises(DomainError) as stranger:
        batch_order(product=item, actor=user("038090000002"), lot="B1", quantity=1,
                    produced_on=date(2026, 1, 1), expires_on=None, place="x")  # fmt: skip
    assert stranger.value.status == 403
    assert Batch.objects.filter(product=item).count() == 1


def test_the_stamp_page_shows_the_product_and_counts_its_scans(client: Client) -> None:
    from tinhso.products.labels_service import stamp_uri

    item = product()
    certified(item)
    batch = order(item, quantity=5)
    stamp = batch.stamps.order_by("number").first()
    assert stamp is not None
    path = stamp_uri(item.gtin, batch.lot, stamp.serial).split("/", 3)[3]
    first = client.get("/" + path)
    assert first.status_code == 200
    text = first.content.decode()
    assert item.name in text
    assert batch.lot in text
    assert "HTX Nem chua Hạc Thành" in text
    assert "4 sao" in text or "4 stars" in text
    assert first["Cache-Control"].startswith("max-age=0") or "no-cache" in first["Cache-Control"]
    second = client.get("/" + path).content.decode()
    stamp.refresh_from_db()
    assert stamp.scans == 2
    assert stamp.first_scan_at is not None
    assert "2" in second.split("scans-h", 1)[1][:600]


def test_the_linkset_and_the_link_types_of_a_stamp(client: Client) -> None:
    from tinhso.products.labels_service import stamp_uri

    item = product()
    certified(item)
    batch = order(item, quantity=2)
    stamp = batch.stamps.first()
    assert stamp is not None
    uri = stamp_uri(item.gtin, batch.lot, stamp.serial)
    path = "/" + uri.split("/", 3)[3]
    answer = client.get(path, HTTP_ACCEPT="application/linkset+json")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/linkset+json"
    linkset = json.loads(answer.content)["linkset"]
    assert linkset[0]["anchor"] == uri
    assert linkset[0]["https://gs1.org/voc/pip"][0]["href"].endswith(f"/ocop/san-pham/{item.pk}/")
    assert "https://gs1.org/voc/certificationInfo" in linkset[0]
    assert linkset[0]["https://gs1.org/voc/hasRetailers"][0]["href"] == "https://shopee.vn/nem"
    assert json.loads(client.get(path + "?linkType=linkset").content) == {"linkset": linkset}
    pip = client.get(path + "?linkType=gs1:pip")
    assert pip.status_code == 307
    assert pip["Location"].endswith(f"/ocop/san-pham/{item.pk}/")
    cert = client.get(path + "?linkType=gs1:certificationInfo")
    assert cert.status_code == 307
    assert "/xac-thuc/" in cert["Location"]
    other = client.get(path + "?linkType=gs1:recipeInfo")
    assert other.status_code == 307
    assert other["Location"] == uri
    stamp.refresh_from_db()
    assert stamp.scans == 0  # machines reading links are not scans


@pytest.mark.parametrize(
    "path",
    [
        "/01/08930000000019/10/L1/21/AAAA",  # wrong check digit
        "/01/abc",
        "/01/",
        "/01/08930000000013/21/X/10/L1",  # qualifiers out of order
        "/01/08930000000013/10/L1/21/X/99/1",  # an AI that is no qualifier
        "/01/08930000000013/10/%FF%FE/21/X",
        "/01/" + "9" * 5000,
    ],
)
def test_a_bad_uri_is_not_a_genuine_stamp_never_an_error(client: Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "genuine" in answer.content.decode() or "chính hãng" in answer.content.decode()


def test_an_unknown_serial_raises_one_signal_the_inspector_closes(client: Client) -> None:
    from tinhso.products.labels_service import stamp_uri

    item = product()
    batch = order(item, quantity=2)
    for n in range(3):
        fake = stamp_uri(item.gtin, batch.lot, f"FAKE000{n}").split("/", 3)[3]
        assert client.get("/" + fake).status_code == 404
    signal = Signal.objects.get(product=item)
    assert signal.kind == SignalKind.UNKNOWN_SERIAL
    assert signal.status == SignalStatus.NEW
    assert signal.agency.short_name == "SCT"
    assert signal.due_at is not None
    # A genuine serial under another lot is a copy too.
    stamp = batch.stamps.first()
    assert stamp is not None
    copied = stamp_uri(item.gtin, "OTHER", stamp.serial).split("/", 3)[3]
    assert client.get("/" + copied).status_code == 404
    inspector = Client()
    inspector.force_login(user("qltt"))
    listed = inspector.get("/can-bo/tem/")
    assert listed.status_code == 200
    assert signal.code in listed.content.decode()
    page = f"/can-bo/tem/{signal.code}/"
    assert inspector.post(page, {"action": "investigate", "version": 1}).status_code == 302
    assert inspector.post(page, {"action": "confirm", "version": 2, "note": ""}).status_code == 422
    done = inspector.post(page, {"action": "confirm", "version": 2, "note": "Thu giữ 40 hộp."})
    assert done.status_code == 302
    signal.refresh_from_db()
    assert signal.status == SignalStatus.CONFIRMED
    assert signal.conclusion == "Thu giữ 40 hộp."
    from tinhso.core.models import Notification

    told = Notification.objects.filter(user=item.producer.owner, subject__contains=signal.code)
    assert told.exists()
    # Others may not see it.
    for name in ("tiepnhan.hacthanh", "038090000001"):
        someone = Client()
        someone.force_login(user(name))
        assert someone.get(page).status_code == 403
    assert Client().get(page).status_code in (302, 403)


def _scan(client: Client, item: Product, batch: Batch, stamp: Stamp, **extra: Any) -> Any:
    from tinhso.products.labels_service import stamp_uri

    path = "/" + stamp_uri(item.gtin, batch.lot, stamp.serial).split("/", 3)[3]
    return client.get(path, **extra)


def test_the_patterns_of_copied_stamps_raise_signals(client: Client, settings: Any) -> None:
    settings.TINHSO_STAMP_SCAN_LIMIT = 3
    settings.TINHSO_CLIENT_REGION_HEADER = "X-Client-Region"
    item = product()
    batch = order(item, quantity=3)
    stamp = batch.stamps.order_by("number")[0]
    for region in ("VN-21", "VN-21", "VN-HN", "VN-21"):
        assert _scan(client, item, batch, stamp, HTTP_X_CLIENT_REGION=region).status_code == 200
    kinds = set(Signal.objects.filter(product=item).values_list("kind", flat=True))
    # Four scans of a batch of three, the fourth of the stamp past the limit of three, and
    # two regions within hours.
    assert kinds == {SignalKind.TOO_MANY, SignalKind.FAR_APART, SignalKind.OVER_QUANTITY}
    count = Signal.objects.count()
    _scan(client, item, batch, stamp, HTTP_X_CLIENT_REGION="VN-HN")
    assert Signal.objects.count() == count  # one open signal per pattern
    Batch.objects.filter(pk=batch.pk).update(expires_on=timezone.localdate() - timedelta(1))
    other = batch.stamps.order_by("number")[1]
    _scan(client, item, batch, other)
    assert Signal.objects.filter(product=item, kind=SignalKind.EXPIRED).count() == 1


def test_a_shared_place_far_from_the_last_one_raises_a_signal(client: Client) -> None:
    item = product()
    batch = order(item, quantity=2)
    stamp = batch.stamps.order_by("number")[0]
    path = "/" + _scan(client, item, batch, stamp).request["PATH_INFO"].lstrip("/")
    token = _scan(client, item, batch, stamp).context["scan_token"]
    first = _scan(client, item, batch, stamp).context["scan_token"]
    assert client.post(path, {"scan": token, "lat": "19.807", "lng": "105.776"}).status_code == 200
    assert client.post(path, {"scan": first, "lat": "21.03", "lng": "105.85"}).status_code == 200
    signal = Signal.objects.get(product=item, kind=SignalKind.FAR_APART)
    assert "km" in signal.facts
    assert signal.latitude is not None
    assert client.post(path, {"scan": "forged", "lat": "1", "lng": "2"}).status_code == 400


def test_one_client_scanning_in_bulk_is_slowed(client: Client, settings: Any) -> None:
    settings.TINHSO_SCAN_RATE = 3
    from django.core.cache import cache

    cache.clear()
    item = product()
    batch = order(item, quantity=5)
    statuses = [_scan(client, item, batch, s).status_code for s in batch.stamps.all()]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    cache.clear()


def test_the_figures_count_stamps_scans_and_signals(client: Client) -> None:
    from tinhso.products.scans import scans_roll

    item = product()
    certified(item)
    batch = order(item, quantity=20)
    for stamp in batch.stamps.all()[:4]:
        _scan(client, item, batch, stamp)
    assert scans_roll() == 0  # scans younger than a few minutes wait (one may commit late)
    later = timezone.now() + timedelta(minutes=10)
    assert scans_roll(now=later) == 4
    assert scans_roll(now=later) == 0
    today = timezone.localdate()
    answer = client.get("/api/v1/figures", {
        "agency": item.producer.commune.code, "start": str(today), "end": str(today),
    })  # fmt: skip
    assert answer.status_code == 200
    figures = answer.json()["products"]
    assert figures["stamps_issued"] == 20
    assert figures["scans"] == 4
    assert figures["ocop_4"] == 1
    assert figures["producers"] == 1
    assert figures["products"] == 1
    assert figures["certificates_granted"] == 1
    assert figures["certificates_expiring"] == 0


def test_the_demo_has_products_in_every_state_and_counterfeit_patterns() -> None:
    from tinhso.core.demo import DemoRun
    from tinhso.products.demo import demo_products_step
    from tinhso.products.models import Scan

    demo_products_step(DemoRun(dossiers=True))
    statuses = set(Application.objects.values_list("status", flat=True))
    assert {ApplicationStatus.NEW, ApplicationStatus.RETURNED, ApplicationStatus.CERTIFIED} <= (
        statuses
    )
    assert set(Certificate.objects.values_list("stars", flat=True)) == {3, 4, 5}
    assert not Certificate.objects.filter(signed__isnull=True).exists()
    assert Stamp.objects.count() >= 20_000
    assert Scan.objects.count() > 100
    kinds = set(Signal.objects.values_list("kind", flat=True))
    assert {SignalKind.UNKNOWN_SERIAL, SignalKind.TOO_MANY, SignalKind.FAR_APART} <= kinds
    demo_products_step(DemoRun(dossiers=True))  # only once
    assert Producer.objects.count() == 3


def test_a_products_photos_are_shown_only_once_cleaned_of_their_metadata(client: Client) -> None:
    from test_feedback import jpeg_with_location
    from tinhso.core.files import read_bytes
    from tinhso.products.models import PhotoState

    producer = business()
    item = product_save(
        producer=producer, actor=producer.owner, name="Nem chua", group="food",
        photos=[("nem.jpg", jpeg_with_location((1200, 900)))],
    )  # fmt: skip
    photo = item.photos.get()
    assert photo.state == PhotoState.PENDING
    assert client.get(f"/ocop/anh/{photo.public_id}/").status_code == 404
    outbox_deliver_pending()
    photo.refresh_from_db()
    assert photo.state == PhotoState.READY
    assert not photo.raw_name
    clean = read_bytes(photo.storage_name)
    assert b"PhoneMaker" not in clean
    assert b"Hac Thanh" not in clean
    answer = client.get(f"/ocop/anh/{photo.public_id}/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/jpeg"
    assert (
        f"/ocop/anh/{photo.public_id}/" in client.get(f"/ocop/san-pham/{item.pk}/").content.decode()
    )
    with pytest.raises(DomainError) as bad:
        product_save(producer=producer, actor=producer.owner, name="X", group="food",
                     photos=[("a.jpg", b"%PDF-1.4 not a photo")])  # fmt: skip
    assert "photos" in (bad.value.errors or {})


def test_random_paths_under_the_resolver_never_fail(client: Client) -> None:
    import random
    import string

    item = product()
    batch = order(item, quantity=1)
    rng = random.Random(18)
    alphabet = string.printable + "đĐ%/"
    for _n in range(300):
        pieces = [
            "01",
            item.gtin if rng.random() < 0.5 else "".join(rng.choices("0123456789", k=14)),
        ]
        for _m in range(rng.randint(0, 4)):
            pieces.append(rng.choice(["10", "21", "22", "17", "01", batch.lot]))
            pieces.append("".join(rng.choices(alphabet, k=rng.randint(0, 25))))
        path = "/" + "/".join(pieces)
        from urllib.parse import quote

        answer = client.get(quote(path, safe="/%"))
        assert answer.status_code in (200, 307, 400, 404, 429), path


def test_nobody_scores_or_approves_their_own_application() -> None:
    # The council's secretary registered a family business and applies for its product.
    producer = business(owner="ocop.thuky", tax_code="2801234564")
    application = applied(product(producer))
    with pytest.raises(DomainError) as own:
        act(application, "ocop.thuky", "accept")
    assert own.value.status == 403


def test_a_shop_address_cannot_hide_another_site() -> None:
    producer = business()
    with pytest.raises(DomainError) as tricked:
        product_save(producer=producer, actor=producer.owner, name="X", group="food",
                     links=[("Shop", "https://tinhso.gov.vn@evil.example/")])  # fmt: skip
    assert "links" in (tricked.value.errors or {})
    with pytest.raises(DomainError):
        product_save(producer=producer, actor=producer.owner, name="X", group="food",
                     links=[("Shop", "javascript:alert(1)")])  # fmt: skip


def test_invented_lots_and_serials_open_one_signal_and_a_concluded_one_stays_closed(
    client: Client, settings: Any
) -> None:
    from tinhso.cases.transitions import case_transition
    from tinhso.products.labels_service import stamp_uri

    item = product()
    batch = order(item, quantity=2)
    for n in range(4):
        fake = stamp_uri(item.gtin, f"LOT{n}", f"FAKE{n}").split("/", 3)[3]
        assert client.get("/" + fake).status_code == 404
    assert Signal.objects.filter(product=item, kind=SignalKind.UNKNOWN_SERIAL).count() == 1
    # A stamp past the limit: one signal, concluded; more scans do not reopen it.
    settings.TINHSO_STAMP_SCAN_LIMIT = 2
    stamp = batch.stamps.order_by("number")[0]
    for _n in range(3):
        _scan(client, item, batch, stamp)
    signal = Signal.objects.get(product=item, kind=SignalKind.TOO_MANY)
    inspector = user("qltt")
    case_transition(case=signal, actor=inspector, action="dismiss", version=signal.version,
                    note="Người mua quét nhiều lần.")  # fmt: skip
    for _n in range(3):
        _scan(client, item, batch, stamp)
    assert Signal.objects.filter(product=item, kind=SignalKind.TOO_MANY).count() == 1


def test_a_stamp_without_its_lot_is_still_genuine_and_the_link_header_is_built(
    client: Client,
) -> None:
    item = product()
    batch = order(item, quantity=1)
    stamp = batch.stamps.get()
    answer = client.get(f"/01/{item.gtin}/21/{stamp.serial}")
    assert answer.status_code == 200
    assert not Signal.objects.filter(product=item).exists()
    assert answer["Link"] == (
        f"<{settings_url()}/01/{item.gtin}/21/{stamp.serial}?linkType=linkset>; "
        'rel="linkset"; type="application/linkset+json"'
    )
    # A lot full of what a header must not carry is quoted in the anchor.
    odd = client.get(f"/01/{item.gtin}/10/%22%3C%3E%3B?linkType=linkset")
    assert odd.status_code == 200
    assert "%22%3C%3E%3B" in odd["Link"]
    assert '"<>;' not in odd["Link"]


def settings_url() -> str:
    from django.conf import settings

    return str(settings.TINHSO_PUBLIC_URL)


def test_a_place_that_is_no_place_is_refused(client: Client) -> None:
    item = product()
    batch = order(item, quantity=1)
    stamp = batch.stamps.get()
    page = _scan(client, item, batch, stamp)
    path = f"/01/{item.gtin}/10/{batch.lot}/21/{stamp.serial}"
    for lat, lng in (("nan", "1"), ("inf", "2"), ("1e300", "3"), ("91", "0")):
        answer = client.post(path, {"scan": page.context["scan_token"], "lat": lat, "lng": lng})
        assert answer.status_code == 400


def test_behind_the_proxy_each_scanner_has_its_own_limit(client: Client, settings: Any) -> None:
    settings.TINHSO_SCAN_RATE = 2
    settings.TINHSO_TRUSTED_PROXIES = ["10.0.0.1"]
    item = product()
    batch = order(item, quantity=6)
    stamps = list(batch.stamps.order_by("number"))
    behind = {"REMOTE_ADDR": "10.0.0.1"}
    for n, stamp in enumerate(stamps[:4]):
        # Four buyers behind the same proxy: none is slowed by the others.
        answer = _scan(client, item, batch, stamp, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}", **behind)
        assert answer.status_code == 200
    one = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", **behind}
    assert [_scan(client, item, batch, s, **one).status_code for s in stamps[4:]] == [200, 200]
    assert _scan(client, item, batch, stamps[0], **one).status_code == 429


def test_a_producer_is_told_once_that_a_certificate_ends_soon() -> None:
    from django.core.management import call_command

    from tinhso.core.models import Notification
    from tinhso.products.reminders import certificates_remind

    item = product()
    certified(item)
    owner = item.producer.owner
    assert certificates_remind() == 0  # 36 months ahead
    Certificate.objects.filter(product=item).update(
        valid_until=timezone.localdate() + timedelta(days=60)
    )
    told = Notification.objects.filter(user=owner, link__contains="dang-ky-ocop")
    assert not told.exists()
    assert certificates_remind() == 1
    channels = told.count()
    assert channels >= 1  # the inbox, and SMS where the producer has a phone
    call_command("products_hourly", stdout=io.StringIO())  # once only
    assert told.count() == channels
