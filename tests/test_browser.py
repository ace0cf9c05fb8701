"""Real-browser journeys (Playwright driving Debian's chromium, never a downloaded one)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

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
    context = browser.new_context(locale="vi-VN")
    yield context.new_page()
    context.close()


def test_keyboard_journey_search_then_sign_in(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "vi"
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Bỏ qua, đến nội dung chính"  # the skip link comes first

    page.get_by_label("Tìm cơ quan").fill("hac thanh")
    page.keyboard.press("Enter")
    page.wait_for_url("**/co-quan/?q=hac+thanh")
    assert page.get_by_role("link", name="Ủy ban nhân dân phường Hạc Thành").is_visible()

    page.get_by_role("link", name="Đăng nhập").click()
    page.get_by_label("Tên đăng nhập hoặc số định danh cá nhân").fill("038090000001")
    page.get_by_label("Mật khẩu").fill("wrong")
    page.keyboard.press("Enter")
    assert page.get_by_role("alert").inner_text().strip() == "Sai tên đăng nhập hoặc mật khẩu."
    page.get_by_label("Mật khẩu").fill("demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tai-khoan/")
    assert page.get_by_role("heading", name="Tài khoản của tôi").is_visible()
    assert page.get_by_text("Nguyễn Văn An").first.is_visible()


def test_language_switch_without_javascript(browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    page.goto(live_server.url + "/co-quan/")
    assert page.get_by_role("heading", name="Danh bạ cơ quan").is_visible()
    page.get_by_label("Ngôn ngữ").select_option("en")
    page.get_by_role("button", name="Đổi").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_role("heading", name="Agency directory").is_visible()
    # Filtering works as a plain form submission.
    page.get_by_label("Level").select_option("commune")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_text("166 agencies").is_visible()
    context.close()


def test_live_search_with_htmx_replaces_only_the_results(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/co-quan/")
    page.get_by_label("Tên hoặc mã").type("hoang hoa", delay=20)
    page.wait_for_url(lambda url: "q=hoang" in url)
    results = page.locator("#results")
    results.get_by_role("link", name="Ủy ban nhân dân xã Hoằng Hóa").wait_for()
    assert page.locator("h1").count() == 1


def test_the_stylesheet_and_htmx_are_served(page: Any, live_server: Any) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(live_server.url + "/")
    assert page.evaluate("typeof htmx") == "object"
    assert failed == []
