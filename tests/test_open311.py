"""Open311 GeoReport v2 at /open311/v2/, read by an unmodified client nobody here wrote
(`georeport` from PyPI, JSON and XML) and written to with plain form posts, as mobile apps
and FixMyStreet do; errors in Open311's format; nothing personal in any answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from georeport import GeoReport

from tinhso.feedback.models import Report

HAC_THANH = {"lat": "19.807000", "long": "105.776500"}


@pytest.fixture
def api_key(seeded_transactional_db: None) -> str:
    from tinhso.feedback.services import open311_client_create

    return open311_client_create("Ứng dụng kiểm thử")[1]


def _post(base: str, fmt: str, **fields: Any) -> requests.Response:
    return requests.post(f"{base}/requests.{fmt}", data=fields, timeout=30)


def test_an_unmodified_open311_client_reads_services_and_reports(
    live_server: Any, api_key: str
) -> None:
    base = f"{live_server.url}/open311/v2"
    created = _post(
        base,
        "json",
        api_key=api_key,
        service_code="rac-thai",
        description="Đổ phế thải, gọi 0912345678",
        **HAC_THANH,
        **{"attribute[loai][]": ["xay-dung", "sinh-hoat"]},
        email="an@example.org",
        first_name="Văn",
        last_name="An",
    )
    assert created.status_code == 200, created.text
    code = created.json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        client = GeoReport(base, jurisdiction="thanhhoa.gov.vn", output_format=fmt)
        services = client.get_service_list()
        codes = [s["service_code"] for s in services]
        assert {"o-ga", "den-duong", "rac-thai", "dich-vu-cong"} <= set(codes)
        definition = client.get_service_definition("rac-thai")
        attribute = (
            definition["attributes"][0] if fmt == "json" else definition["attributes"]["attribute"]
        )
        assert attribute["code"] == "loai"
        assert attribute["datatype"] == "multivaluelist"
        many = client.get_service_requests(service_code="rac-thai", status="open")
        many = many if isinstance(many, list) else [many]
        assert code in [r["service_request_id"] for r in many]
        one = client.get_service_request(code)
        assert one["service_request_id"] == code
        assert one["status"] == "open"
        assert one["service_code"] == "rac-thai"
        assert float(one["lat"]) == pytest.approx(19.807)
        assert float(one["long"]) == pytest.approx(105.7765)
        assert one["agency_responsible"] == "Ủy ban nhân dân phường Hạc Thành"
    text = requests.get(f"{base}/requests/{code}.json", timeout=30).text
    for personal in ("0912345678", "an@example.org", "Văn An"):
        assert personal not in text
    assert Report.objects.get(code=code).answers == {"loai": ["xay-dung", "sinh-hoat"]}


def test_post_in_xml_answers_an_open311_document_and_errors_are_open311s(
    live_server: Any, api_key: str
) -> None:
    base = f"{live_server.url}/open311/v2"
    created = _post(
        base,
        "xml",
        api_key=api_key,
        service_code="ngap-ung",
        description="Cống tắc",
        **HAC_THANH,
        phone="0988000111",
    )
    assert created.status_code == 200
    assert created.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(created.content)  # noqa: S314
    assert root.tag == "service_requests"
    assert root[0].tag == "request"
    code = root.find("request/service_request_id").text  # type: ignore[union-attr]
    assert Report.objects.filter(code=code, channel="open311").exists()

    def error(response: requests.Response) -> tuple[int, str]:
        if response.headers["Content-Type"].startswith("text/xml"):
            node = ET.fromstring(response.content)  # noqa: S314
            assert node.tag == "errors"
            return int(node.find("error/code").text), node.find("error/description").text  # type: ignore[union-attr, arg-type]
        item = response.json()[0]
        return item["code"], item["description"]

    cases = [
        (_post(base, "xml", service_code="o-ga", description="x", **HAC_THANH), 403),
        (
            _post(base, "json", api_key="sai", service_code="o-ga", description="x", **HAC_THANH),
            403,
        ),
        (
            _post(
                base, "json", api_key=api_key, service_code="khong-co", description="x", **HAC_THANH
            ),
            404,
        ),
        (_post(base, "xml", api_key=api_key, service_code="o-ga", description="x"), 400),
        (
            _post(base, "json", api_key=api_key, service_code="o-ga", description="x", **HAC_THANH),
            400,
        ),
        (
            _post(
                base,
                "json",
                api_key=api_key,
                service_code="o-ga",
                description="x",
                lat="21.0285",
                long="105.8542",
                **{"attribute[muc_do]": "vua"},
            ),
            400,
        ),
        (requests.get(f"{base}/requests/PA00-0-00000.xml", timeout=30), 404),
        (requests.get(f"{base}/services/khong-co.json", timeout=30), 404),
        (requests.get(f"{base}/requests.json", params={"start_date": "hôm qua"}, timeout=30), 400),
        (
            requests.get(
                f"{base}/services.json", params={"jurisdiction_id": "hanoi.gov.vn"}, timeout=30
            ),
            404,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        code_given, description = error(response)
        assert code_given == status
        assert description
    # A missing required question names it, in the asked-for language.
    missing = requests.post(
        f"{base}/requests.json",
        data={"api_key": api_key, "service_code": "o-ga", "description": "x", **HAC_THANH},
        headers={"Accept-Language": "en"},
        timeout=30,
    )
    assert "Mức độ nguy hiểm" in missing.json()[0]["description"]
    assert Report.objects.count() == 1


def test_hidden_reports_are_not_in_open311(live_server: Any, api_key: str) -> None:
    base = f"{live_server.url}/open311/v2"
    code = _post(
        base,
        "json",
        api_key=api_key,
        service_code="ngap-ung",
        description="Ngập",
        **HAC_THANH,
        phone="0988000111",
    ).json()[0]["service_request_id"]
    Report.objects.filter(code=code).update(hidden=True)
    assert requests.get(f"{base}/requests/{code}.json", timeout=30).status_code == 404
    listed = requests.get(f"{base}/requests.json", params={"service_request_id": code}, timeout=30)
    assert listed.json() == []
