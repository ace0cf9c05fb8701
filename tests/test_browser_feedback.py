"""A citizen's report, in a real browser on a phone-sized screen (Playwright driving
Debian's chromium): the citizen reports a pothole with a photo and a point tapped on the
ward's map, is first shown the open report nearby, sends anyway; the ward's receiver
accepts it and assigns the field worker, who answers with a photo of the fix; the citizen
rates the answer, which closes the report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from test_browser import _sign_in, browser  # noqa: F401 (the fixture)
from test_feedback import HAC_THANH, jpeg_with_location
from tinhso.feedback.models import Report, ReportStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded_transactional_db"),
]
PHONE = {"width": 390, "height": 844}


def _tap_on_map(tab: Any, lat: float, lng: float) -> None:
    """Tap the map where (lat, lng) is, as a finger would."""
    x, y = tab.evaluate(
        """([lat, lng]) => {
            const map = document.getElementById("pick-map");
            const d = map.dataset;
            const p = map.createSVGPoint();
            p.x = (lng - parseFloat(d.minLng)) * parseFloat(d.cos) * parseFloat(d.scale);
            p.y = (parseFloat(d.maxLat) - lat) * parseFloat(d.scale);
            map.scrollIntoView();
            const s = p.matrixTransform(map.getScreenCTM());
            return [s.x, s.y];
        }""",
        [lat, lng],
    )
    tab.mouse.click(x, y)


def test_report_assign_answer_rate_on_a_phone(browser: Any, live_server: Any) -> None:  # noqa: F811
    from tinhso.feedback.services import ReportDraft, report_submit

    earlier = report_submit(ReportDraft(
        category_code="o-ga", description="Ổ gà đã có người báo", latitude=Decimal("19.807050"),
        longitude=Decimal("105.776500"), answers={"muc_do": "vua"}, contact_phone="0911222333",
    ))  # fmt: skip
    phone = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True)
    tab = phone.new_page()
    _sign_in(tab, live_server, "038090000001")
    tab.goto(live_server.url + "/phan-anh/gui/")
    tab.get_by_label("Ổ gà, hư hỏng mặt đường").check()
    tab.get_by_role("button", name="Tiếp tục").click()
    tab.get_by_label("Xem trên bản đồ").select_option(label="Phường Hạc Thành")
    tab.get_by_role("button", name="Xem", exact=True).click()
    tab.wait_for_url("**xa=**")
    _tap_on_map(tab, float(HAC_THANH[0]), float(HAC_THANH[1]))
    assert abs(float(tab.get_by_label("Vĩ độ").input_value()) - float(HAC_THANH[0])) < 0.0005
    assert abs(float(tab.get_by_label("Kinh độ").input_value()) - float(HAC_THANH[1])) < 0.0005
    expect(tab.locator("#pick-map .pin")).to_have_count(1)
    tab.get_by_label("Sự việc thế nào?").fill("Ổ gà sâu trước cổng trường, xe máy dễ ngã")
    tab.get_by_label("Nghiêm trọng, nguy hiểm").check()
    tab.get_by_label("Ảnh").set_input_files(
        files=[{"name": "o-ga.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_location()}]
    )
    tab.get_by_role("button", name="Gửi phản ánh").click()
    # The open report a few metres away is shown first; the citizen sends theirs anyway.
    suggestion = tab.locator("section.notice")
    assert "Có thể sự việc này đã được phản ánh" in suggestion.inner_text()
    assert earlier.code in suggestion.inner_text()
    tab.get_by_label("Ảnh").set_input_files(
        files=[{"name": "o-ga.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_location()}]
    )
    tab.get_by_role("button", name="Gửi phản ánh").click()
    tab.wait_for_url("**da-gui=1")
    report = Report.objects.exclude(pk=earlier.pk).get()
    assert report.commune is not None
    assert report.commune.admin_unit_name == "Phường Hạc Thành"
    assert report.photos.count() == 1
    assert report.code in tab.get_by_role("status").inner_text()

    office = browser.new_context(locale="vi-VN")
    desk = office.new_page()
    _sign_in(desk, live_server, "phananh.hacthanh")
    desk.get_by_role("link", name="Phản ánh cần xử lý").click()
    desk.get_by_role("link", name=report.code).click()
    desk.get_by_role("button", name="Tiếp nhận", exact=True).click()
    desk.get_by_label("Người xử lý hiện trường").select_option(label="Lê Văn Dũng")
    desk.get_by_role("button", name="Giao xử lý", exact=True).click()
    office.close()

    field = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True)
    worker = field.new_page()
    _sign_in(worker, live_server, "hientruong.hacthanh")
    worker.goto(live_server.url + "/can-bo/phan-anh/?hop=xu-ly")
    worker.get_by_role("link", name=report.code).click()
    worker.get_by_label("Trả lời công khai").fill("Đã vá xong ổ gà, mặt đường đã phẳng.")
    worker.get_by_label("Ảnh khắc phục").set_input_files(
        files=[
            {"name": "sau.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_location((800, 600))}
        ]
    )
    worker.get_by_role("button", name="Trả lời", exact=True).click()
    field.close()

    tab.goto(live_server.url + f"/phan-anh/{report.code}/")
    assert "Đã vá xong ổ gà" in tab.locator("main").inner_text()
    tab.get_by_label("Rất hài lòng").check()
    tab.get_by_role("button", name="Gửi đánh giá").click()
    report.refresh_from_db()
    assert report.status == ReportStatus.CLOSED
    assert report.rating == 3
    assert "Đã đóng" in tab.locator("main").inner_text()
    phone.close()


def test_a_report_written_offline_leaves_when_the_phone_is_back_online(
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    """The phone web app: installable (manifest, service worker); the report form opened
    once opens again without a connection; a report sent offline waits in the phone, photo
    included, and leaves by itself when the connection is back."""
    phone = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True)
    tab = phone.new_page()
    form = live_server.url + "/phan-anh/gui/?loai=ngap-ung"
    tab.goto(form)
    manifest = tab.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
    assert manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    tab.evaluate("navigator.serviceWorker.ready.then(() => true)")
    tab.reload()  # now through the service worker, which keeps the form
    phone.set_offline(True)
    tab.goto(form)
    expect(tab.get_by_role("heading", name="Gửi phản ánh")).to_be_visible()
    tab.get_by_label("Sự việc thế nào?").fill("Cống tắc, nước tràn vào nhà dân")
    tab.get_by_label("Vĩ độ").fill(HAC_THANH[0])
    tab.get_by_label("Kinh độ").fill(HAC_THANH[1])
    tab.get_by_label("Điện thoại").fill("0912888999")
    tab.get_by_label("Ảnh").set_input_files(
        files=[{"name": "cong.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_location()}]
    )
    tab.get_by_role("button", name="Gửi phản ánh").click()
    status = tab.locator("#drafts")
    status.get_by_text("Mất kết nối").wait_for()
    assert not Report.objects.exists()
    phone.set_offline(False)
    status.get_by_role("link").wait_for()
    report = Report.objects.get()
    assert report.category.code == "ngap-ung"
    assert report.contact_phone == "0912888999"
    assert report.photos.count() == 1
    phone.close()
