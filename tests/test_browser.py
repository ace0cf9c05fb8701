"""Real-browser journeys (Playwright driving Debian's chromium, never a downloaded one)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import samples

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded_transactional_db"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true"}:
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still ordinary synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page whose journey must not trip the Content-Security-Policy: chromium reports
    every blocked inline script or style, or foreign source, on the console."""
    context = browser.new_context(locale="vi-VN")
    tab = context.new_page()
    blocked: list[str] = []
    tab.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield tab
    context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"


def test_keyboard_journey_search_then_sign_in(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "vi"
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Bỏ qua, đến nội dung chính"  # the skip link comes first

    page.goto(live_server.url + "/co-quan/?q=hac+thanh")
    expect(page.get_by_role("link", name="Ủy ban nhân dân phường Hạc Thành")).to_be_visible()

    page.get_by_role("link", name="Đăng nhập").click()
    page.get_by_label("Tên đăng nhập hoặc số định danh cá nhân").fill("038090000001")
    page.get_by_label("Mật khẩu").fill("wrong")
    page.keyboard.press("Enter")
    assert page.get_by_role("alert").inner_text().strip() == "Sai tên đăng nhập hoặc mật khẩu."
    page.get_by_label("Mật khẩu").fill("demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tai-khoan/")
    expect(page.get_by_role("heading", name="Tài khoản của tôi")).to_be_visible()
    expect(page.get_by_text("Nguyễn Văn An").first).to_be_visible()


def test_language_switch_without_javascript(browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.goto(live_server.url + "/co-quan/")
    expect(page.get_by_role("heading", name="Danh bạ cơ quan")).to_be_visible()
    page.get_by_role("button", name="English").click()  # one tap
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    expect(page.get_by_role("heading", name="Agency directory")).to_be_visible()
    # Filtering works as a plain form submission.
    page.get_by_label("Level").select_option("commune")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("166 agencies")).to_be_visible()
    context.close()


def test_live_search_with_htmx_replaces_only_the_results(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/co-quan/")
    page.get_by_label("Tên hoặc mã").type("hoang hoa", delay=20)
    page.wait_for_url(lambda url: "q=hoang" in url)
    results = page.locator("#results")
    results.get_by_role("link", name="Ủy ban nhân dân xã Hoằng Hóa").wait_for()
    expect(page.locator("h1")).to_have_count(1)


def test_the_api_docs_work_under_the_content_security_policy(page: Any, live_server: Any) -> None:
    """Swagger UI lists the operations and runs one ("Try it out") with the site's strict
    policy; the `page` fixture fails the test on any blocked script or style."""
    response = page.goto(live_server.url + "/api/v1/docs")
    assert "script-src 'self';" in response.headers["content-security-policy"]
    page.locator(".opblock-summary").first.wait_for()
    assert page.locator(".opblock").count() > 10
    page.get_by_role("button", name="GET /api/v1/agencies", exact=False).first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"


def test_the_stylesheet_and_htmx_are_served(page: Any, live_server: Any) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(live_server.url + "/")
    assert page.evaluate("typeof htmx") == "object"
    assert failed == []


def test_citizen_journey_eid_search_prefilled_form_submit_and_track(
    page: Any, live_server: Any, tmp_path: Any, settings: Any
) -> None:
    """Sign in with the demo e-ID, search without diacritics, open the procedure, see the
    prefilled form, attach a PDF, submit, get the code, and track it signed out."""
    settings.TINHSO_DEMO = True
    page.goto(live_server.url + "/dang-nhap/")
    expect(page.locator("#demo-banner")).to_be_visible()
    page.get_by_role("link", name="Đăng nhập bằng định danh điện tử").click()
    page.get_by_label("Số định danh cá nhân").fill("038090000001")
    page.get_by_role("button", name="Nhận mã").click()
    code = page.locator("#demo-code").inner_text().strip()
    page.get_by_label("Mã xác thực một lần (6 chữ số)").fill(code)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/tai-khoan/")

    page.goto(live_server.url + "/")
    page.get_by_label("Tìm thủ tục hành chính").fill("dang ky khai sinh")
    page.keyboard.press("Enter")
    first = page.locator(".result-title a").first
    assert first.inner_text() == "Thủ tục đăng ký khai sinh"
    first.click()
    page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()

    # Prefilled from the population registry, never retyped.
    assert page.get_by_label("Họ, chữ đệm, tên người yêu cầu").input_value() == "Nguyễn Văn An"
    assert (
        page.get_by_role("textbox", name="Số định danh cá nhân", exact=True).input_value()
        == "038090000001"
    )
    page.get_by_label("Quan hệ với người được khai sinh").select_option("cha")
    page.get_by_role("textbox", name="Họ, chữ đệm, tên", exact=True).fill("Nguyễn Minh Khôi")
    page.get_by_role("radio", name="Nam", exact=True).check()
    page.get_by_label("Ngày, tháng, năm sinh").fill("2026-11-01")
    page.get_by_label("Nơi sinh").fill("Bệnh viện Đa khoa tỉnh Thanh Hóa")
    page.get_by_label("Họ, chữ đệm, tên của mẹ").fill("Nguyễn Thị Bình")
    pdf = tmp_path / "giay-chung-sinh.pdf"
    pdf.write_bytes(samples.pdf())
    page.locator("input[type=file]").first.set_input_files(str(pdf))
    page.get_by_label("Nộp tại").select_option(label="Ủy ban nhân dân phường Hạc Thành")
    page.get_by_role("button", name="Nộp hồ sơ").click()

    dossier_code = page.locator(".dossier-code").inner_text().strip()
    assert dossier_code.startswith("000.02.60.H56-")
    page.get_by_role("button", name="Đăng xuất").click()

    page.goto(live_server.url + "/tra-cuu-ho-so/")
    page.get_by_label("Mã hồ sơ").fill(dossier_code)
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_role("heading", name=dossier_code)).to_be_visible()
    expect(page.get_by_text("Mới đăng ký").first).to_be_visible()
    assert "Nguyễn Văn An" not in page.content()


AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _axe_violations(page: Any) -> list[str]:
    # Evaluated through the browser's debugging protocol: an inline <script> tag would be
    # (rightly) blocked by the pages' Content-Security-Policy.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(
                v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
        }""",
        WCAG_TAGS,
    )
    return list(found)


def test_core_pages_pass_axe_wcag_aa(page: Any, live_server: Any, settings: Any) -> None:
    """axe-core (an independent engine) finds no WCAG 2.x A/AA violation on the core pages,
    signed out and signed in, including a form showing its errors, with the demo's banner."""
    settings.TINHSO_DEMO = True
    problems: dict[str, list[str]] = {}
    for url in ["/", "/thu-tuc/?q=khai+sinh", "/thu-tuc/1.001193/", "/co-quan/", "/dang-nhap/",
                "/dang-nhap/dinh-danh-dien-tu/", "/tra-cuu-ho-so/?ma=khong-co"]:  # fmt: skip
        page.goto(live_server.url + url)
        problems[url] = _axe_violations(page)
    page.goto(live_server.url + "/dang-nhap/")
    page.locator("main").get_by_label("Mật khẩu").fill("demo")
    page.locator("main").get_by_label("Tên đăng nhập hoặc số định danh cá nhân").fill(
        "038090000001"
    )
    page.locator("main").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/tai-khoan/")
    problems["/tai-khoan/"] = _axe_violations(page)
    page.goto(live_server.url + "/thu-tuc/1.001193/nop-ho-so/")
    problems["submit form"] = _axe_violations(page)
    page.locator("main").get_by_role("button", name="Nộp hồ sơ").click()
    problems["submit form with errors"] = _axe_violations(page)
    assert {url: found for url, found in problems.items() if found} == {}


def test_officials_pages_pass_axe(page: Any, live_server: Any) -> None:
    from test_submission import submission
    from tinhso.accounts.models import User
    from tinhso.dossiers.services import dossier_submit

    dossier = dossier_submit(submission=submission(User.objects.get(username="038090000001")))
    page.goto(live_server.url + "/dang-nhap/")
    page.locator("main").get_by_label("Tên đăng nhập hoặc số định danh cá nhân").fill(
        "tiepnhan.hacthanh"
    )
    page.locator("main").get_by_label("Mật khẩu").fill("demo")
    page.locator("main").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/tai-khoan/")
    page.goto(live_server.url + "/can-bo/ho-so/")
    expect(page.get_by_role("link", name=dossier.code)).to_be_visible()
    inbox_problems = _axe_violations(page)
    page.get_by_role("link", name=dossier.code).click()
    dossier_problems = _axe_violations(page)
    page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    expect(page.get_by_text("Được tiếp nhận").first).to_be_visible()
    assert (inbox_problems, dossier_problems) == ([], [])


def _sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(live_server.url + "/dang-nhap/")
    page.locator("main").get_by_label("Tên đăng nhập hoặc số định danh cá nhân").fill(username)
    page.locator("main").get_by_label("Mật khẩu").fill("demo")
    page.locator("main").get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/tai-khoan/")


def _sign_out(page: Any) -> None:
    # Waited for: a goto while the sign-out's POST is in flight would cancel it.
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng xuất").click()


def _act(page: Any, live_server: Any, code: str, button: str, note: str = "") -> None:
    page.goto(live_server.url + f"/can-bo/ho-so/{code}/")
    if note:
        page.get_by_label("Ghi chú hoặc lý do").fill(note)
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()


def test_back_office_journey_across_roles_ending_with_a_rating(page: Any, live_server: Any) -> None:
    from test_submission import submission
    from tinhso.accounts.models import User
    from tinhso.dossiers.services import dossier_submit

    code = dossier_submit(submission=submission(User.objects.get(username="038090000001"))).code
    _sign_in(page, live_server, "tiepnhan.hacthanh")
    _act(page, live_server, code, "Tiếp nhận")
    page.get_by_label("Giao cho").select_option(label="Hoàng Văn Nam")
    page.get_by_role("button", name="Phân công chuyên viên").click()
    _sign_out(page)
    _sign_in(page, live_server, "chuyenvien.hacthanh")
    page.goto(live_server.url + "/can-bo/ho-so/?hop=xu-ly")
    expect(page.get_by_role("link", name=code)).to_be_visible()
    _act(page, live_server, code, "Trình lãnh đạo", note="Hồ sơ hợp lệ, đề nghị phê duyệt")
    _sign_out(page)
    _sign_in(page, live_server, "lanhdao.hacthanh")
    _act(page, live_server, code, "Phê duyệt và ký số")
    _sign_out(page)
    _sign_in(page, live_server, "vanthu.hacthanh")
    page.goto(live_server.url + "/can-bo/ho-so/?hop=phat-hanh")
    expect(page.get_by_role("link", name=code)).to_be_visible()
    _act(page, live_server, code, "Phát hành kết quả (đóng dấu số của cơ quan)")
    _sign_out(page)
    _sign_in(page, live_server, "tiepnhan.hacthanh")
    _act(page, live_server, code, "Trả kết quả")
    _sign_out(page)
    _sign_in(page, live_server, "038090000001")
    page.goto(live_server.url + "/ho-so-cua-toi/")
    page.get_by_role("link", name=code).click()
    expect(page.get_by_text("Đã trả kết quả").first).to_be_visible()
    # The citizen downloads the signed result and follows its verification link.
    href = page.get_by_role("link", name="Kết quả giải quyết thủ tục").get_attribute("href")
    result = page.context.request.get(live_server.url + href)
    assert result.headers["content-type"] == "application/pdf"
    from concurrent.futures import ThreadPoolExecutor

    from tinhso.signing.verify import pdf_verify

    # pyHanko runs its own event loop: not on this thread, where Playwright's runs.
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(pdf_verify, result.body()).result()
    assert [s.ok for s in report.signatures] == [True, True]
    details = page.url
    page.get_by_role("link", name="đã ký số: xác thực").last.click()
    expect(page.get_by_text("Mọi chữ ký số trên văn bản đều hợp lệ.")).to_be_visible()
    expect(page.get_by_text("Đỗ Minh Tuấn").first).to_be_visible()
    assert _axe_violations(page) == []
    page.goto(details)
    page.get_by_label("Rất hài lòng").check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_text("Cảm ơn bạn đã đánh giá.")).to_be_visible()


def test_a_supplement_request_pauses_the_clock(page: Any, live_server: Any) -> None:
    from test_submission import submission
    from tinhso.accounts.models import User
    from tinhso.dossiers.models import Dossier
    from tinhso.dossiers.services import dossier_submit

    code = dossier_submit(submission=submission(User.objects.get(username="038090000001"))).code
    _sign_in(page, live_server, "tiepnhan.hacthanh")
    _act(page, live_server, code, "Tiếp nhận")
    page.get_by_role("button", name="Phân công chuyên viên").click()
    _sign_out(page)
    _sign_in(page, live_server, "chuyenvien.hacthanh")
    _act(page, live_server, code, "Yêu cầu bổ sung hồ sơ", note="Bổ sung bản sao có chứng thực")
    expect(page.get_by_text("tạm dừng tính thời hạn").first).to_be_visible()
    page.goto(live_server.url + "/can-bo/ho-so/?hop=tam-dung")
    expect(page.get_by_role("link", name=code)).to_be_visible()
    paused = Dossier.objects.get(code=code)
    assert paused.paused_at is not None
    assert paused.status == 5
    _act(page, live_server, code, "Đã bổ sung hồ sơ")
    resumed = Dossier.objects.get(code=code)
    assert resumed.paused_at is None
    assert resumed.status == 4
    assert resumed.due_at >= paused.due_at


def test_the_citizen_pays_by_vietqr_and_the_dossier_moves_on(
    page: Any, live_server: Any, settings: Any
) -> None:
    """A dossier waiting for payment: the citizen opens the payment notice (VietQR), pays
    with the simulated bank, which notifies the platform over HTTP like a bank; the dossier
    moves on by itself. The new pages pass axe."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from test_payments import waiting_for_payment
    from tinhso.accounts.models import User

    settings.TINHSO_DEMO = True
    settings.TINHSO_PUBLIC_URL = live_server.url

    def make() -> Any:
        try:
            return waiting_for_payment(User.objects.get(username="038090000001"))
        finally:
            connections.close_all()

    # Issuing the signed forms runs pyHanko's event loop: not on Playwright's thread.
    with ThreadPoolExecutor(1) as pool:
        dossier = pool.submit(make).result()
    _sign_in(page, live_server, "038090000001")
    page.goto(live_server.url + f"/ho-so-cua-toi/{dossier.public_id}/")
    page.get_by_role("link", name=dossier.payments.get().reference).click()
    assert page.get_by_role("heading", name="Thanh toán bằng ứng dụng của bất kỳ ngân hàng nào")
    problems = {"notice": _axe_violations(page)}
    page.get_by_role("link", name="Thanh toán qua ngân hàng mô phỏng (bản trình diễn)").click()
    problems["bank"] = _axe_violations(page)
    page.get_by_role("button", name="Thanh toán", exact=True).click()
    expect(page.get_by_text("credited")).to_be_visible()
    dossier.refresh_from_db()
    assert dossier.status == 4
    page.goto(live_server.url + f"/ho-so-cua-toi/{dossier.public_id}/")
    expect(page.get_by_role("link", name="Biên lai điện tử (PDF)")).to_be_visible()
    problems["dossier"] = _axe_violations(page)
    _sign_out(page)
    _sign_in(page, live_server, "ketoan.hacthanh")
    page.goto(live_server.url + "/can-bo/thanh-toan/")
    problems["accountant"] = _axe_violations(page)
    page.goto(live_server.url + "/xac-thuc/")
    problems["verify"] = _axe_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}


def test_open_data_journey_field_facet_dataset_preview_download(
    page: Any, live_server: Any, settings: Any, seeded_files: Any
) -> None:
    """Browse a field, narrow by a facet, open a dataset, preview its table and download
    the file; axe finds no WCAG A/AA violation on any of these pages."""
    from tinhso.opendata.models import Resource

    settings.MEDIA_ROOT = seeded_files  # where the demo's files are
    problems: dict[str, list[str]] = {}
    page.goto(live_server.url + "/du-lieu-mo/")
    problems["home"] = _axe_violations(page)
    page.get_by_role("link", name="Giáo dục và đào tạo").click()
    assert "linh-vuc=giao-duc" in page.url
    expect(page.locator("aside a[aria-current='true']")).to_have_count(1)
    problems["search"] = _axe_violations(page)
    page.get_by_label("Từ khóa tìm").fill("truong hoc")
    page.get_by_label("Từ khóa tìm").press("Enter")
    page.get_by_role("link", name="Trường học theo xã, phường").click()
    assert page.locator("h1").inner_text() == "Trường học theo xã, phường"
    problems["dataset"] = _axe_violations(page)
    resource = Resource.objects.filter(dataset__name="truong-hoc-theo-xa").first()
    assert resource is not None
    page.locator("table").get_by_role("link", name=resource.name, exact=True).click()
    expect(page.locator("table.preview tbody tr")).to_have_count(50)
    problems["resource"] = _axe_violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải xuống").first.click()
    assert download.value.suggested_filename == resource.filename
    resource.refresh_from_db()
    assert resource.download_count == 1
    assert problems == {key: [] for key in problems}


def test_a_publisher_publishes_from_the_pages_by_keyboard(page: Any, live_server: Any) -> None:
    """A data publisher signs in, creates a dataset, attaches a CSV and publishes it, with
    the keyboard; axe finds no violation on the publisher's pages, errors shown included."""
    from tinhso.opendata.models import Dataset

    problems: dict[str, list[str]] = {}
    page.goto(live_server.url + "/dang-nhap/?next=/du-lieu-mo/quan-ly/")
    page.locator("main").get_by_label("Tên đăng nhập hoặc số định danh cá nhân").fill("dulieu.yte")
    page.locator("main").get_by_label("Mật khẩu").fill("demo")
    page.locator("main").get_by_label("Mật khẩu").press("Enter")
    page.wait_for_url("**/du-lieu-mo/quan-ly/")
    problems["list"] = _axe_violations(page)
    page.get_by_role("link", name="Bộ dữ liệu mới").click()
    page.locator("#id_title").fill("Số giường bệnh")
    page.get_by_label("Đường dẫn (không dấu)").fill("Có Dấu")
    page.get_by_role("button", name="Tạo").press("Enter")
    problems["create with errors"] = _axe_violations(page)
    page.get_by_label("Đường dẫn (không dấu)").fill("so-giuong-benh")
    page.get_by_label("Đường dẫn (không dấu)").press("Enter")
    page.wait_for_url("**/du-lieu-mo/quan-ly/so-giuong-benh/")
    problems["dataset"] = _axe_violations(page)
    page.get_by_label("Tệp").set_input_files(
        files=[{"name": "giuong.csv", "mimeType": "text/csv",
                "buffer": "Bệnh viện,Giường\nBệnh viện Đa khoa tỉnh,1200\n".encode()}]
    )  # fmt: skip
    page.get_by_role("button", name="Thêm", exact=True).click()
    page.get_by_text("1 dòng").wait_for()
    page.get_by_role("button", name="Công bố").click()
    page.get_by_text("Đã công bố: mọi người đều xem và tải được.").first.wait_for()
    assert not Dataset.objects.get(name="so-giuong-benh").private
    assert {key: found for key, found in problems.items() if found} == {}


PHONE = {"width": 390, "height": 844}


def test_a_phone_sees_no_sideways_scroll_and_a_folded_menu(
    browser: Any, live_server: Any, tmp_path: Any
) -> None:
    """At 390×844 (a common phone): every core page fits the width (no sideways scroll), the
    menu folds behind one button, and the language is one tap; screenshots of each page are
    kept with the test run (TINHSO_SCREENSHOTS, else the test's temporary folder)."""
    import os
    from pathlib import Path

    shots = Path(os.environ.get("TINHSO_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    page = context.new_page()
    wide: dict[str, int] = {}
    for url in ["/", "/thu-tuc/?q=khai+sinh", "/thu-tuc/1.001193/", "/co-quan/",
                "/dang-nhap/", "/tra-cuu-ho-so/", "/xac-thuc/", "/du-lieu-mo/"]:  # fmt: skip
        page.goto(live_server.url + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[url] = width
        name = url.strip("/").replace("/", "_").replace("?", "_") or "home"
        page.screenshot(path=str(shots / f"phone-{name}.png"), full_page=True)
    assert wide == {}
    page.goto(live_server.url + "/")
    menu = page.get_by_role("button", name="Danh mục")
    expect(menu).to_be_visible()
    nav = page.locator("#main-menu")
    expect(nav.get_by_role("link", name="Tra cứu hồ sơ", exact=True)).to_be_hidden()
    # The folded header leaves most of the screen to the page.
    header = page.locator(".site-header .header-row").bounding_box()
    assert header is not None
    assert header["height"] < PHONE["height"] / 4
    menu.click()
    expect(nav.get_by_role("link", name="Thủ tục", exact=True)).to_be_visible()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    context.close()
