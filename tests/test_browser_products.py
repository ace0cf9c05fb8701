"""OCOP products and traceability stamps, in a real browser (Playwright driving Debian's
chromium), through the pages only: a cooperative registers, adds a product and applies for
an OCOP rating with its evidence; the council's secretary accepts, a member scores it on the
sheet (76 points, 4 stars), the leader approves and the certificate is signed (pdfsig finds
the leader's signature then the body's seal, both valid); the producer orders 1,000 stamps
and downloads the labels, whose QR codes (rasterised by pdftoppm, read by zbarimg) are the
URIs of the batch's stamps; a phone scanning one sees the product, another scanning a serial
never issued is told it is not genuine, and the market inspector closes the signal that
raised, which the producer then reads with its conclusion.

The test settings' immediate task backend signs the certificate after the approval commits,
inside the leader's request. The stamps are issued and their labels rendered as in
production, in the background: the backend only queues, and the test runs the queued tasks
(`Worker`) while the producer's page follows the progress by itself."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone, translation
from PIL import Image

import samples
from test_browser import _sign_in, browser  # noqa: F401 (the fixture)
from test_signing import nss_db, pdfsig  # noqa: F401 (nss_db: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded_transactional_db"),
]

PHONE = {"width": 360, "height": 740}
TAX_CODE = "2800123452"  # a valid check digit
PRODUCER = "HTX Nem chua Hạc Thành"
PRODUCT = "Nem chua Hạc Thành"
LOT = "L2611-01"
STAMPS = 1_000
CONCLUSION = "Thu giữ 40 hộp nem in tem giả tại chợ Vườn Hoa; đã lập biên bản."


def vi(text: Any) -> str:
    """What the site (in Vietnamese) shows for `text`, a message or a lazy label (a choice's):
    the locators follow the catalogue, whatever it says."""
    with translation.override("vi"):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def _scores(total: int) -> dict[str, int]:
    from tinhso.products.scoresheet import points_adding_up_to

    return points_adding_up_to(total)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (220, 200, 170)).save(out, format="PNG")
    return out.getvalue()


class Tabs:
    """Browser contexts of the journey, each a person; every page they open is watched for
    what the Content-Security-Policy blocks (chromium says so on the console)."""

    def __init__(self, browser: Any, live_server: Any) -> None:  # noqa: F811
        self.browser, self.live_server = browser, live_server
        self.blocked: list[str] = []
        self.contexts: list[Any] = []

    def open(self, username: str | None = None, **options: Any) -> Any:
        context = self.browser.new_context(locale="vi-VN", accept_downloads=True, **options)
        self.contexts.append(context)
        tab = context.new_page()
        tab.on("console", lambda message: self.console(tab, message))
        if username is not None:
            _sign_in(tab, self.live_server, username)
        return tab

    def console(self, tab: Any, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(f"{tab.url}: {message.text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


class Worker:
    """Stands in for the task worker (`tinhso worker`) while the backend only queues: what
    the site enqueues, in any thread, is run here in the test's thread, in order, when the
    test says so, while the browser watches the pages follow."""

    IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    QUEUE = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

    def __init__(self) -> None:
        self.queued: list[Any] = []

    def enqueued(self, sender: Any, task_result: Any, **kwargs: Any) -> None:
        self.queued.append(task_result)

    def __enter__(self) -> Worker:
        from django_tasks.signals import task_enqueued

        task_enqueued.connect(self.enqueued, weak=False, dispatch_uid="browser-products")
        return self

    def __exit__(self, *exc: object) -> None:
        from django_tasks.signals import task_enqueued

        task_enqueued.disconnect(dispatch_uid="browser-products")

    def run(self, until: str = "") -> list[str]:
        """Run the queued tasks and those they queue, up to (not including) the first whose
        name is `until`; the names of those run."""
        done = []
        while self.queued and self.queued[0].task.name != until:
            result = self.queued.pop(0)
            result.task.call(*result.args, **result.kwargs)
            done.append(result.task.name)
        return done


def _council_opens(tabs: Tabs, username: str, box: str, code: str) -> Any:
    """An official of the council signs in, opens the box and the application in it."""
    tab = tabs.open(username)
    tab.goto(tabs.live_server.url + f"/can-bo/ocop/?hop={box}")
    tab.get_by_role("link", name=code, exact=True).click()
    tab.wait_for_url(f"**/ocop/ho-so/{code}/")
    return tab


def _qr_codes(pdf: Path, page: int, dpi: int = 300) -> list[list[str]]:
    """What zbarimg reads on each label of one page of `pdf` rasterised by pdftoppm, left
    to right and top to bottom: the texts of the QR codes in that label's cell (one cell at
    a time: zbar, given the whole page of 32 codes, now and then misses one that it reads
    alone)."""
    from tinhso.products.labels import COLUMNS, GRID_LEFT, GRID_TOP, LABEL_H, LABEL_W, ROWS

    image = pdf.with_name(f"{pdf.stem}-{page}")
    subprocess.run(
        [shutil.which("pdftoppm") or "pdftoppm", "-r", str(dpi), "-f", str(page), "-l",
         str(page), "-png", "-singlefile", str(pdf), str(image)],
        check=True, timeout=120,
    )  # fmt: skip
    raster = Image.open(image.with_suffix(".png"))
    px = raster.width / 210.0  # pixels a millimetre (A4)
    cells = []
    for row in range(ROWS):
        for column in range(COLUMNS):
            left, top = GRID_LEFT + column * LABEL_W, GRID_TOP + row * LABEL_H
            cell = image.with_name(f"{image.name}-{row}-{column}.png")
            raster.crop((round(left * px), round(top * px), round((left + LABEL_W) * px),
                         round((top + LABEL_H) * px))).save(cell)  # fmt: skip
            done = subprocess.run(
                [shutil.which("zbarimg") or "zbarimg", "--raw", "-q", "-Sdisable",
                 "-Sqrcode.enable", str(cell)],
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            assert done.returncode in (0, 4), done.stderr  # 4: no symbol found
            cells.append([line for line in done.stdout.splitlines() if line.strip()])
    return cells


def _signatures(said: str) -> list[str]:
    """pdfsig's report cut into one part per signature, in the document's order."""
    return re.split(r"^Signature #\d+:", said, flags=re.MULTILINE)[1:]


def _fact(tab: Any, term: str) -> Any:
    """The value of `term` among the page's facts (its `dl.facts`)."""
    return tab.locator(
        "xpath=//main//dl[contains(@class, 'facts')]"
        f"/dt[normalize-space()='{term}']/following-sibling::dd[1]"
    )


def _no_sideways_scroll(tab: Any) -> None:
    widths = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{tab.url} scrolls sideways: {widths}"


def test_apply_certify_order_stamps_scan_and_close_a_counterfeit_signal(
    browser: Any,  # noqa: F811
    live_server: Any,
    settings: Any,
    nss_db: str,  # noqa: F811
    in_ci: bool,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    from tinhso.agencies.models import Agency, AgencyLevel
    from tinhso.core.files import read_bytes
    from tinhso.products.gs1 import serial_new
    from tinhso.products.labels import PER_PAGE
    from tinhso.products.labels_service import stamp_uri
    from tinhso.products.models import (
        Application,
        ApplicationStatus,
        Batch,
        BatchState,
        Certificate,
        Producer,
        ProducerKind,
        Product,
        ProductGroup,
        Signal,
        SignalKind,
        SignalStatus,
        Stamp,
    )
    from tinhso.products.scoresheet import CRITERIA

    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            if in_ci:
                pytest.fail(f"{tool} is missing (poppler-utils, zbar-tools)")
            pytest.skip(f"{tool} is not installed (poppler-utils, zbar-tools)")
    # The stamps' URIs name this server, so that the phone below opens what it decodes.
    settings.TINHSO_PUBLIC_URL = live_server.url
    url = live_server.url
    ward = Agency.objects.get(level=AgencyLevel.COMMUNE, admin_unit_name="Phường Hạc Thành")
    tabs = Tabs(browser, live_server)
    try:
        # 1. The citizen registers their cooperative, adds a product and applies for OCOP.
        producer_tab = tabs.open("038090000001")
        tab = producer_tab
        tab.goto(url + "/ocop/co-so/")
        tab.locator("main").get_by_role("link", name=vi("Register a producer")).click()
        tab.wait_for_url("**/ocop/co-so/dang-ky/")
        form = tab.locator("main form")
        kind = vi(ProducerKind.COOPERATIVE.label)
        form.get_by_label(vi("Kind of producer")).select_option(label=kind)
        form.get_by_label(vi("Name"), exact=True).fill(PRODUCER)
        form.get_by_label(vi("Tax code")).fill(TAX_CODE)
        form.get_by_label(vi("Commune or ward")).select_option(label=ward.admin_unit_name)
        form.get_by_label(vi("Address")).fill("Số 5 Lê Lai, phường Hạc Thành")
        form.get_by_label(vi("Phone")).fill("0912000001")
        form.get_by_role("button", name=vi("Register")).click()
        tab.wait_for_url("**/ocop/co-so/")
        producer = Producer.objects.get(tax_code=TAX_CODE)
        assert (producer.kind, producer.commune_id) == ("cooperative", ward.pk)
        assert producer.owner.username == "038090000001"
        tab.locator("main").get_by_role("link", name=vi("Add a product")).click()
        form = tab.locator("main form")
        form.get_by_label(vi("Product name")).fill(PRODUCT)
        form.get_by_label(vi("OCOP group")).select_option(label=vi(ProductGroup.FOOD.label))
        form.get_by_label(vi("Description")).fill("Nem chua gói lá chuối, lên men tự nhiên.")
        form.get_by_label(vi("Where it is sold online")).fill("Shopee https://shopee.vn/nem")
        form.get_by_role("button", name=vi("Save")).click()
        tab.wait_for_url(re.compile(r"/ocop/san-pham/\d+/$"))
        product = Product.objects.get(producer=producer)
        assert tab.url.endswith(f"/ocop/san-pham/{product.pk}/")
        expect(tab.locator("h1")).to_have_text(PRODUCT)
        assert product.gtin_assigned
        assert len(product.gtin) == 14

        tab.goto(url + "/ocop/co-so/")
        row = tab.locator("main tr", has_text=PRODUCT)
        row.get_by_role("link", name=vi("Apply for OCOP")).click()
        tab.wait_for_url(f"**/ocop/co-so/san-pham/{product.pk}/dang-ky-ocop/")
        form = tab.locator("main form")
        form.get_by_label(vi("Your own assessment")).fill(
            "Sản phẩm truyền thống, đã bán 3 năm tại các chợ và trên sàn thương mại điện tử."
        )
        file_label = vi("File %(i)s")
        form.get_by_label(file_label % {"i": 1}, exact=True).set_input_files(
            files=[{"name": "phieu-kiem-nghiem.pdf", "mimeType": "application/pdf",
                    "buffer": samples.pdf(("PHIEU KET QUA KIEM NGHIEM",))}]
        )  # fmt: skip
        tab.locator("#crit-1").select_option("C3")
        form.get_by_label(file_label % {"i": 2}, exact=True).set_input_files(
            files=[{"name": "co-so-san-xuat.png", "mimeType": "image/png", "buffer": _png()}]
        )
        tab.locator("#crit-2").select_option("A4")
        form.get_by_role("button", name=vi("Apply"), exact=True).click()
        tab.wait_for_url(re.compile(r"/ocop/ho-so/OCOP\d\d-\d{5}/$"))
        application = Application.objects.get(product=product)
        expect(tab.locator("h1")).to_contain_text(application.code)
        expect(_fact(tab, vi("Status"))).to_have_text(vi(ApplicationStatus.NEW.label))
        evidence = tab.locator("main").get_by_role("link", name="phieu-kiem-nghiem.pdf")
        expect(evidence).to_be_visible()
        assert sorted(application.files.values_list("criterion", flat=True)) == ["A4", "C3"]

        # 2. The secretary accepts, a council member scores, the leader approves.
        tab = _council_opens(tabs, "ocop.thuky", "moi", application.code)
        expect(tab.get_by_role("link", name="phieu-kiem-nghiem.pdf")).to_be_visible()
        tab.get_by_role("button", name="Tiếp nhận, chuyển chấm điểm", exact=True).click()
        expect(_fact(tab, vi("Status"))).to_have_text(vi(ApplicationStatus.SCORING.label))

        tab = _council_opens(tabs, "ocop.chamdiem", "cham-diem", application.code)
        sheet = tab.locator("main table.score-sheet")
        points = _scores(76)
        assert sheet.get_by_role("spinbutton").count() == len(CRITERIA) == 15
        for criterion in CRITERIA:
            sheet.get_by_label(f"{criterion.code}. {criterion.name}").fill(
                str(points[criterion.code])
            )
        tab.locator("#note-score").fill("Hội đồng thống nhất 76 điểm.")
        tab.get_by_role("button", name="Chấm điểm", exact=True).click()
        expect(_fact(tab, vi("Status"))).to_have_text(vi(ApplicationStatus.SCORED.label))
        expect(tab.locator("main dl.facts")).to_contain_text("76/100 · 4 ★")

        tab = _council_opens(tabs, "lanhdao.nnmt", "phe-duyet", application.code)
        tab.locator("#note-approve").fill("Đủ điều kiện công nhận 4 sao.")
        tab.get_by_role("button", name="Phê duyệt, cấp giấy chứng nhận", exact=True).click()
        expect(_fact(tab, vi("Status"))).to_have_text(vi(ApplicationStatus.CERTIFIED.label))
        facts = tab.locator("main dl.facts")
        # Signed once the approval committed (here, by the immediate backend, at once).
        signed_link = facts.get_by_role("link", name=vi("the signed certificate"))
        expect(signed_link).to_be_visible()
        certificate = Certificate.objects.select_related("signed").get(application=application)
        assert (certificate.stars, certificate.total) == (4, 76)
        assert certificate.signed is not None
        expect(facts).to_contain_text(certificate.number)
        signed_link.click()
        tab.wait_for_url(f"**/xac-thuc/{certificate.signed.public_id}/")
        expect(tab.get_by_text("Mọi chữ ký số trên văn bản đều hợp lệ.")).to_be_visible()
        pdf = tmp_path / "chung-nhan-ocop.pdf"
        pdf.write_bytes(read_bytes(certificate.signed.storage_name))
        said = pdfsig(pdf, nss_db, in_ci)
        assert said.count("Signature Validation: Signature is Valid.") == 2, said
        assert said.count("Certificate Validation: Certificate is Trusted.") == 2, said
        personal, seal = _signatures(said)
        assert "Signer Certificate Common Name: Hoàng Văn Sơn" in personal, said
        assert "ChuKyLanhDao" in personal, said
        assert "ChuKyCoQuan" in seal, said
        assert "Hoàng Văn Sơn" not in seal.split("Signer full Distinguished Name")[0], said

        # 3. The producer orders 1,000 stamps and downloads the labels.
        tab = producer_tab
        tab.goto(url + "/ocop/co-so/")
        row = tab.locator("main tr", has_text=PRODUCT)
        expect(row).to_contain_text("4 ★")
        row.get_by_role("link", name=vi("Order stamps")).click()
        tab.wait_for_url(f"**/ocop/co-so/san-pham/{product.pk}/dat-tem/")
        today = timezone.localdate()
        form = tab.locator("main form")
        form.get_by_label(vi("Batch number")).fill(LOT)
        form.get_by_label(vi("Production date")).fill(f"{today - timedelta(days=3):%Y-%m-%d}")
        form.get_by_label(vi("Expiry date")).fill(f"{today + timedelta(days=90):%Y-%m-%d}")
        form.get_by_label(vi("Place of production")).fill("Phường Hạc Thành, Thanh Hóa")
        form.get_by_label(vi("Number of stamps")).fill(str(STAMPS))
        # From here the stamps are issued in the background, as in production: the order's
        # page follows the worker's progress by itself (htmx polls it).
        settings.TASKS = Worker.QUEUE
        with Worker() as worker:
            form.locator("button[type=submit]").click()
            tab.wait_for_url(re.compile(r"/ocop/co-so/tem/TEM\d\d-\d{6}/$"))
            batch = Batch.objects.get(product=product)
            assert (batch.lot, batch.quantity, batch.state) == (LOT, STAMPS, BatchState.QUEUED)
            progress = tab.locator("#progress-block")
            issued = vi("%(issued)s of %(quantity)s stamps issued")
            expect(progress).to_contain_text(issued % {"issued": 0, "quantity": STAMPS})
            expect(_fact(tab, vi("Status"))).to_have_text(vi(BatchState.QUEUED.label))
            assert worker.run(until="sheet_render_task") == [
                "outbox_dispatch", "stamps_issue_task",
            ]  # fmt: skip
            expect(progress).to_contain_text(
                issued % {"issued": STAMPS, "quantity": STAMPS}, timeout=30_000
            )
            expect(tab.locator("progress#progress")).to_have_attribute("value", str(STAMPS))
            expect(progress).to_contain_text(vi("Being prepared…"))
            assert worker.run() == ["sheet_render_task"]
            download_link = progress.get_by_role("link", name=vi("Download part %(n)s") % {"n": 1})
            expect(download_link).to_be_visible(timeout=30_000)
        settings.TASKS = Worker.IMMEDIATE
        batch.refresh_from_db()
        assert batch.state == BatchState.ISSUED
        assert batch.issued == STAMPS
        with tab.expect_download() as downloading:
            download_link.click()
        download = downloading.value
        assert download.suggested_filename == f"tem-{batch.code}-1.pdf"
        labels = tmp_path / "tem.pdf"
        download.save_as(labels)
        assert labels.read_bytes().startswith(b"%PDF-")

        uris = {
            number: stamp_uri(product.gtin, LOT, serial)
            for number, serial in Stamp.objects.filter(batch=batch).values_list("number", "serial")
        }
        assert len(uris) == STAMPS
        assert len(set(uris.values())) == STAMPS
        last = (STAMPS + PER_PAGE - 1) // PER_PAGE
        decoded: list[str] = []
        for page in (1, last):
            first = (page - 1) * PER_PAGE + 1
            numbers = range(first, min(STAMPS, page * PER_PAGE) + 1)
            cells = _qr_codes(labels, page)
            # Each label carries its stamp's URI, in the batch's order; no code elsewhere.
            assert cells[: len(numbers)] == [[uris[n]] for n in numbers], page
            assert cells[len(numbers) :] == [[]] * (PER_PAGE - len(numbers)), page
            decoded += [code for cell in cells for code in cell]
        assert len(decoded) == PER_PAGE + STAMPS - (last - 1) * PER_PAGE
        assert all(u.startswith(f"{url}/01/{product.gtin}/10/{LOT}/21/") for u in decoded)

        # 4. A phone scans a stamp: the product, its producer, batch, stars and scans.
        phone = tabs.open(viewport=PHONE, is_mobile=True, has_touch=True)
        scanned = decoded[-1]  # the last stamp of the batch
        stamp = Stamp.objects.get(batch=batch, serial=scanned.rsplit("/", 1)[1])
        answer = phone.goto(scanned)
        assert answer is not None
        assert answer.status == 200
        expect(phone.locator("h1")).to_have_text(PRODUCT)
        main = phone.locator("main")
        expect(main.get_by_role("status").first).to_contain_text(
            vi("Genuine stamp issued by the province")
        )
        expect(main.locator(".stars-line .stars")).to_have_text("★★★★")
        expect(main.locator(".stars-line strong")).to_contain_text("4")
        expect(main.locator(".stars-line")).to_contain_text(certificate.number)
        facts = main.locator("dl.facts")
        expect(facts).to_contain_text(PRODUCER)
        expect(facts).to_contain_text(LOT)
        expect(facts).to_contain_text(stamp.serial)
        scans = main.locator("section[aria-labelledby=scans-h]")
        expect(scans).to_contain_text(vi("This is the first time this stamp is scanned."))
        _no_sideways_scroll(phone)
        phone.reload()
        stamp.refresh_from_db()
        assert stamp.scans == 2
        assert stamp.first_scan_at is not None
        twice = vi("This stamp has been scanned %(n)s times; the first time at %(first)s.") % {
            "n": 2, "first": f"{timezone.localtime(stamp.first_scan_at):%H:%M %d/%m/%Y}",
        }  # fmt: skip
        expect(scans).to_contain_text(twice)
        _no_sideways_scroll(phone)

        # 5. A serial this province never issued, under the same product and lot.
        fake = serial_new()
        while Stamp.objects.filter(serial=fake).exists():
            fake = serial_new()
        answer = phone.goto(stamp_uri(product.gtin, LOT, fake))
        assert answer is not None
        assert answer.status == 404
        expect(phone.locator("h1")).to_have_text(vi("Not a genuine stamp"))
        expect(phone.get_by_role("alert")).to_contain_text(PRODUCT)
        _no_sideways_scroll(phone)
        signal = Signal.objects.get(product=product)
        assert signal.kind == SignalKind.UNKNOWN_SERIAL
        assert signal.status == SignalStatus.NEW
        assert signal.batch_id == batch.pk
        assert signal.serial == fake

        # 6. The market inspector investigates and confirms a counterfeit.
        tab = tabs.open("qltt")
        tab.goto(url + "/can-bo/tem/")
        row = tab.locator("main tr", has_text=signal.code)
        expect(row).to_contain_text(PRODUCT)
        row.get_by_role("link", name=signal.code, exact=True).click()
        tab.wait_for_url(f"**/can-bo/tem/{signal.code}/")
        main = tab.locator("main")
        expect(main).to_contain_text(fake)
        tab.get_by_role("button", name="Xác minh", exact=True).click()
        expect(_fact(tab, vi("Status"))).to_have_text(vi(SignalStatus.INVESTIGATING.label))
        confirm = main.locator("form", has=tab.get_by_role("button", name="Kết luận: hàng giả"))
        confirm.get_by_label(vi("Conclusion")).fill(CONCLUSION)
        confirm.get_by_role("button", name="Kết luận: hàng giả").click()
        expect(_fact(tab, vi("Status"))).to_have_text(vi(SignalStatus.CONFIRMED.label))
        expect(main.locator("dl.facts")).to_contain_text(CONCLUSION)
        signal.refresh_from_db()
        assert signal.status == SignalStatus.CONFIRMED
        assert signal.conclusion == CONCLUSION

        # The producer reads the signal about their stamps, with its conclusion.
        producer_tab.goto(url + "/ocop/co-so/")
        told = producer_tab.locator("main li", has_text=signal.code)
        expect(told).to_contain_text(CONCLUSION)
        expect(told).to_contain_text(vi(SignalStatus.CONFIRMED.label))
        assert tabs.blocked == [], "the Content-Security-Policy blocked something"
    finally:
        tabs.close()
