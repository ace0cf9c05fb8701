"""What every visitor meets before any procedure: the error pages in Vietnamese and the
site's look, the icon and the robots' rules at the root, compressed pages, tracking codes
typed any way."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_vietnamese_404_with_ways_on(client: Client) -> None:
    page = client.get("/khong-co-trang-nay/", HTTP_ACCEPT_LANGUAGE="vi")
    html = page.content.decode()
    assert page.status_code == 404
    assert "Không tìm thấy trang" in html
    assert 'href="/tra-cuu-ho-so/"' in html
    assert "Not Found" not in html


def test_a_refusal_is_a_vietnamese_403(login_client: Any, citizen: Any) -> None:
    page = login_client(citizen).get("/can-bo/ho-so/", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 403
    assert "Bạn không được xem trang này" in page.content.decode()


def test_an_expired_form_says_what_to_do(citizen: Any) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="vi")
    page = client.post("/dang-nhap/", {"username": "x", "password": "y"})
    html = page.content.decode()
    assert page.status_code == 403
    assert "Biểu mẫu đã hết hạn" in html
    assert "CSRF" not in html


def test_the_server_error_page_needs_nothing_of_the_site() -> None:
    with translation.override("vi"):
        html = render_to_string("500.html")
    assert "Đã có lỗi xảy ra" in html


def test_the_icon_and_the_robots_rules_are_at_the_root(client: Client) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    robots = client.get("/robots.txt")
    text = b"".join(robots.streaming_content).decode()
    assert robots.status_code == 200
    assert "Disallow: /can-bo/" in text
    assert "Disallow: /ho-so-cua-toi/" in text


def test_pages_are_compressed_for_slow_phones(client: Client) -> None:
    page = client.get("/thu-tuc/", HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip"
    assert "Thủ tục hành chính" in gzip.decompress(page.content).decode()


def test_a_tracking_code_is_found_however_it_is_typed(client: Client, citizen: Any) -> None:
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    code = dossier_submit(submission=submission(citizen)).code
    assert code is not None
    typed = " " + code.lower().replace("-", " - ") + " "
    assert client.get("/tra-cuu-ho-so/", {"ma": typed}).status_code == 200
    assert client.get(f"/api/v1/track/{code.lower()}").status_code == 200


def test_tracking_shows_the_dossiers_times_and_history_never_the_applicant(
    client: Client, citizen: Any
) -> None:
    from datetime import datetime

    from flows import act
    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    dossier = dossier_submit(submission=submission(citizen))
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    answer = client.get(f"/api/v1/track/{dossier.code}").json()
    assert answer["code"] == dossier.code
    assert answer["procedure"] == "1.001193"
    assert answer["procedure_name"] == dossier.procedure.name
    assert answer["agency"] == dossier.receiving_agency.name
    assert answer["status"] == {"code": 2, "label": "Được tiếp nhận"}

    def ms(moment: datetime) -> datetime:  # JSON carries milliseconds
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    assert datetime.fromisoformat(answer["submitted_at"]) == ms(dossier.submitted_at)
    events = list(dossier.events.order_by("at", "id"))
    assert [(datetime.fromisoformat(e["at"]), e["status"]["code"]) for e in answer["events"]] == [
        (ms(e.at), e.to_status) for e in events
    ]
    # Written directly, not through the schema: still exactly what TrackOut describes.
    from ninja.renderers import JSONRenderer

    from tinhso.dossiers.api import TrackOut
    from tinhso.dossiers.selectors import dossier_tracking

    described = TrackOut.from_orm(dossier_tracking(dossier.code)).model_dump()
    assert answer == json.loads(JSONRenderer().render(None, described, response_status=200))  # type: ignore[arg-type]
    text = client.get(f"/api/v1/track/{dossier.code}").content.decode()
    page = client.get("/tra-cuu-ho-so/", {"ma": dossier.code}).content.decode()
    assert "Được tiếp nhận" in page
    assert f"{timezone.localtime(dossier.submitted_at):%d/%m/%Y %H:%M}" in page
    for personal in (citizen.full_name, citizen.personal_id, "Nguyễn Minh Khôi"):
        assert personal not in text
        assert personal not in page


def test_every_page_carries_the_provinces_identity(client: Client, settings: Any) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Dịch vụ công tỉnh Thanh Hóa" in html  # the name from the province's code (38)
    assert "Cơ quan chủ quản" in html
    assert "Văn phòng Ủy ban nhân dân tỉnh Thanh Hóa" in html
    settings.TINHSO_PORTAL_HOTLINE = "0237 3 000 000"
    settings.TINHSO_PORTAL_ADDRESS = "35 Đại lộ Lê Lợi, phường Hạc Thành"
    html = client.get("/thu-tuc/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert 'href="tel:02373000000"' in html
    assert "35 Đại lộ Lê Lợi, phường Hạc Thành" in html
    settings.TINHSO_PROVINCE_CODE = 1
    assert "Dịch vụ công Thành phố Hà Nội" in client.get("/").content.decode()


def test_the_menu_folds_on_a_phone_and_the_language_is_one_tap(client: Client) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    # The fold is the script's (progressive enhancement): without it the menu is all shown.
    assert 'id="menu-button" class="menu-button" aria-controls="main-menu"' in html
    assert "js/menu" in html
    assert '<button type="submit" name="language" value="en" lang="en"' in html


def test_the_home_page_leads_to_a_service(client: Client, citizen: Any) -> None:
    from django.core.cache import cache

    from test_submission import submission
    from tinhso.dossiers.services import dossier_submit

    cache.clear()
    for _ in range(2):
        birth = dossier_submit(submission=submission(citizen))
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    used = html.split("Dịch vụ được sử dụng nhiều", 1)[1].split("</ul>", 1)[0]
    assert f'href="/thu-tuc/{birth.procedure.code}/"' in used.split("<li>")[1]  # first
    assert "Dịch vụ theo sự kiện trong đời" in html
    assert "Dịch vụ theo lĩnh vực" in html
    assert 'action="/tra-cuu-ho-so/"' in html
    # A life event finds its procedure first.
    event = client.get("/thu-tuc/", {"q": "khai sinh"})
    assert event.context["page"][0].code == birth.procedure.code
