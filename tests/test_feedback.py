"""Citizens' reports (module feedback): the place found in the real boundaries, photos
cleaned of their metadata, bad input refused whole, the handling workflow with its
permission matrix, the reporter's contact kept from everyone but the receivers, and the
public pages."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from flows import user
from tinhso.feedback.models import Report, ReportPhoto, ReportStatus

pytestmark = pytest.mark.django_db
NEW = "/phan-anh/gui/"
# Inside Phường Hạc Thành (the centre of the former Thanh Hóa city) and Xã Hoằng Hóa.
HAC_THANH = ("19.807000", "105.776500")
HANOI = ("21.028500", "105.854200")


def jpeg_with_location(size: tuple[int, int] = (2400, 1800)) -> bytes:
    """A phone's photo: EXIF with the place it was taken (GPS), the camera and an XMP
    packet."""
    image = Image.new("RGB", size, (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (19.0, 48.0, 25.2)
    gps[3], gps[4] = "E", (105.0, 46.0, 35.4)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, xmp=b"<x:xmpmeta>Hac Thanh 19.807</x:xmpmeta>")
    return out.getvalue()


def post_report(client: Client, **fields: Any) -> Any:
    data = {
        "category": "o-ga",
        "description": "Ổ gà lớn trước cổng trường, gọi 0912 345 678",
        "lat": HAC_THANH[0],
        "lng": HAC_THANH[1],
        "attribute[muc_do]": "nghiem-trong",
        "phone": "0912345678",
        "checked": "1",
    }
    data.update(fields)
    return client.post(NEW, data, HTTP_ACCEPT_LANGUAGE="vi")


def test_the_commune_of_a_point_comes_from_the_real_boundaries() -> None:
    from tinhso.agencies.geo import commune_at

    found = commune_at(float(HAC_THANH[0]), float(HAC_THANH[1]))
    assert found is not None
    assert found.admin_unit_name == "Phường Hạc Thành"
    assert commune_at(float(HANOI[0]), float(HANOI[1])) is None
    # 166 units of the province, each with its boundary.
    from tinhso.agencies.models import Boundary

    assert Boundary.objects.filter(agency__level="commune").count() == 166


def test_an_anonymous_report_with_a_photo_reaches_the_ward_without_its_metadata(
    client: Client,
) -> None:
    from tinhso.core.outbox import outbox_deliver_pending

    photo = SimpleUploadedFile("IMG_0001.JPG", jpeg_with_location(), content_type="image/jpeg")
    response = post_report(client, photos=photo)
    assert response.status_code == 302, response.content.decode()[:2000]
    report = Report.objects.get()
    # Kept as it came, privately, until the worker cleans it after commit: not shown yet.
    kept = ReportPhoto.objects.get(report=report)
    assert kept.state == "pending"
    assert client.get(f"/phan-anh/anh/{kept.public_id}/").status_code == 404
    assert (
        "being prepared"
        in client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    outbox_deliver_pending()
    assert report.commune.admin_unit_name == "Phường Hạc Thành"
    assert report.agency == report.commune
    assert report.status == ReportStatus.NEW
    assert report.due_at is not None
    stored = ReportPhoto.objects.get(report=report)
    assert (stored.width, stored.height) == (1600, 1200)  # shrunk to 1600 px
    served = client.get(f"/phan-anh/anh/{stored.public_id}/")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    body = b"".join(served.streaming_content)
    cleaned = Image.open(io.BytesIO(body))
    assert not cleaned.getexif()
    assert b"PhoneMaker" not in body
    assert b"Hac Thanh" not in body
    assert b"xmpmeta" not in body
    # The public page: the masked description, never the phone.
    page = client.get(response["Location"]).content.decode()
    assert "Phường Hạc Thành" in page
    assert "0912345678" not in page
    assert "0912 345 678" not in page
    assert "** *** *78" in page or "*** *78" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"category": "khong-co"}, "category", "Choose what the report is about"),
        ({"lat": HANOI[0], "lng": HANOI[1]}, "place", "outside the province"),
        ({"lat": "abc"}, "place", "not a valid latitude"),
        ({"lat": "", "lng": ""}, "place", "Pick the place on the map"),
        ({"attribute[muc_do]": ""}, "attribute[muc_do]", "Mức độ nguy hiểm"),
        ({"attribute[muc_do]": "rat-nho"}, "attribute[muc_do]", "from its list"),
        ({"phone": ""}, "contact", "Leave a phone number"),
        ({"description": " "}, "description", "Describe what is wrong"),
    ],
)
def test_bad_reports_are_refused_whole(fields: dict[str, str], field: str, message: str) -> None:
    from django.utils import translation

    from tinhso.feedback.services import ReportInvalid

    client = Client()
    with translation.override("en"):
        response = client.post(
            NEW,
            {
                **{
                    "category": "o-ga",
                    "description": "Ổ gà",
                    "lat": HAC_THANH[0],
                    "lng": HAC_THANH[1],
                    "attribute[muc_do]": "vua",
                    "phone": "0912345678",
                    "checked": "1",
                },
                **fields,
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 422
    errors = response.context["errors"]
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors
    assert not Report.objects.exists()
    assert not ReportPhoto.objects.exists()
    assert ReportInvalid.status == 422


def test_photos_that_are_not_photos_or_too_large_are_refused_with_nothing_stored(
    client: Client, settings: Any
) -> None:
    fake = SimpleUploadedFile("anh.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    response = post_report(client, photos=fake)
    assert response.status_code == 422
    assert "không phải là ảnh" in " ".join(response.context["errors"]["photos"]).lower() or (
        "photo" in " ".join(response.context["errors"]["photos"]).lower()
    )
    settings.TINHSO_FEEDBACK_PHOTO_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("to.jpg", jpeg_with_location((5000, 4000)) + b"\0" * (1024 * 1024))
    response = post_report(client, photos=big)
    assert response.status_code == 422
    assert "MB" in " ".join(response.context["errors"]["photos"])
    assert not Report.objects.exists()
    from tinhso.core.filestores import file_store

    assert not list(file_store().listing("feedback"))
    assert not list(file_store().listing("feedback-raw"))


def test_a_heic_photo_from_a_phone_is_kept_as_a_jpeg(client: Client) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = Image.new("RGB", (800, 600), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, format="HEIF")
    response = post_report(client, photos=SimpleUploadedFile("IMG_0002.HEIC", out.getvalue()))
    assert response.status_code == 302
    from tinhso.core.outbox import outbox_deliver_pending

    outbox_deliver_pending()
    stored = ReportPhoto.objects.get()
    assert stored.content_type == "image/jpeg"
    assert (stored.width, stored.height) == (800, 600)


def test_script_in_a_description_is_shown_as_text() -> None:
    client = Client()
    post_report(client, description="<script>alert(1)</script> ổ gà")
    report = Report.objects.get()
    page = client.get(f"/phan-anh/{report.code}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_burst_of_reports_from_one_sender_is_slowed_down(settings: Any) -> None:
    from tinhso.feedback.services import BURST_LIMIT

    client = Client()
    codes = [
        post_report(client, description=f"Ổ gà số {n}").status_code for n in range(BURST_LIMIT + 1)
    ]
    assert codes[:BURST_LIMIT] == [302] * BURST_LIMIT
    assert codes[-1] == 429
    assert Report.objects.count() == BURST_LIMIT


def _submitted(citizen: Any | None = None, **kwargs: Any) -> Report:
    from tinhso.feedback.services import ReportDraft, report_submit

    return report_submit(
        ReportDraft(
            category_code=kwargs.pop("category", "o-ga"),
            description=kwargs.pop("description", "Ổ gà"),
            latitude=Decimal(HAC_THANH[0]),
            longitude=Decimal(HAC_THANH[1]),
            answers={"muc_do": "vua"},
            reporter=citizen,
            contact_phone="" if citizen else "0987654321",
            **kwargs,
        )
    )


def test_the_ward_accepts_assigns_the_field_worker_answers_with_a_photo_the_reporter_rates(
    login_client: Any, citizen: Any
) -> None:
    report = _submitted(citizen)
    receiver = login_client(user("phananh.hacthanh"))
    page = receiver.get(f"/can-bo/phan-anh/{report.code}/")
    assert page.status_code == 200
    assert (
        receiver.post(
            f"/can-bo/phan-anh/{report.code}/", {"action": "accept", "version": 1}
        ).status_code
        == 302
    )
    moved = receiver.post(
        f"/can-bo/phan-anh/{report.code}/",
        {"action": "assign", "version": 2, "assignee": "hientruong.hacthanh"},
    )
    assert moved.status_code == 302
    worker = login_client(user("hientruong.hacthanh"))
    assert report.code in worker.get("/can-bo/phan-anh/?hop=xu-ly").content.decode()
    fix = SimpleUploadedFile("sau.jpg", jpeg_with_location((800, 600)), content_type="image/jpeg")
    answered = worker.post(
        f"/can-bo/phan-anh/{report.code}/",
        {"action": "answer", "version": 3, "note": "Đã vá xong ổ gà.", "photos": fix},
    )
    assert answered.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.ANSWERED
    assert report.answer == "Đã vá xong ổ gà."
    assert report.photos.filter(kind="answer").count() == 1
    # The reporter hears of it, rates it, which closes it.
    from tinhso.core.models import Notification

    assert Notification.objects.filter(user=citizen, subject__contains=report.code).exists()
    mine = login_client(citizen)
    assert (
        mine.post(f"/phan-anh/{report.code}/", {"what": "rate", "rating": "3"}).status_code == 302
    )
    report.refresh_from_db()
    assert report.rating == 3
    assert report.status == ReportStatus.CLOSED
    assert list(report.events.values_list("action", flat=True)) == [
        "accept",
        "assign",
        "answer",
        "close",
    ]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 403),  # anonymous (sent to sign in or refused)
        ("citizen", 403),
        ("phananh.hoanghoa", 403),  # the receiver of another commune
        ("tiepnhan.hacthanh", 403),  # the right ward, a role that does not handle reports
        ("phananh.hacthanh", 200),  # the right ward, the right role
    ],
)
def test_who_may_handle_a_report(
    login_client: Any, citizen: Any, who: str | None, status: int
) -> None:
    report = _submitted()
    client = Client() if who is None else login_client(citizen if who == "citizen" else user(who))
    page = client.get(f"/can-bo/phan-anh/{report.code}/")
    assert page.status_code in ((302, 403) if who is None else (status,))
    acted = client.post(f"/can-bo/phan-anh/{report.code}/", {"action": "accept", "version": 1})
    report.refresh_from_db()
    assert (report.status == ReportStatus.ACCEPTED) is (status == 200)
    assert acted.status_code in ((302, 403) if status != 200 else (302,))


def test_the_reporters_contact_only_to_the_receivers_and_their_look_is_logged(
    login_client: Any, citizen: Any
) -> None:
    from tinhso.core.models import PersonalDataAccess

    anonymous = _submitted()
    receiver, worker = (
        login_client(user("phananh.hacthanh")),
        login_client(user("hientruong.hacthanh")),
    )
    assert "0987654321" in receiver.get(f"/can-bo/phan-anh/{anonymous.code}/").content.decode()
    assert "0987654321" not in worker.get(f"/can-bo/phan-anh/{anonymous.code}/").content.decode()
    signed = _submitted(citizen)
    receiver.get(f"/can-bo/phan-anh/{signed.code}/")
    assert PersonalDataAccess.objects.filter(
        citizen=citizen, official=user("phananh.hacthanh")
    ).exists()
    # The public never sees the name unless the reporter agreed.
    page = Client().get(f"/phan-anh/{signed.code}/").content.decode()
    assert citizen.full_name not in page


def test_a_duplicate_is_suggested_while_reporting_and_gets_the_originals_answer(
    login_client: Any,
) -> None:
    original = _submitted()
    client = Client()
    suggested = client.post(
        NEW,
        {
            "category": "o-ga",
            "description": "Ổ gà",
            "lat": "19.807100",
            "lng": "105.776500",
            "attribute[muc_do]": "vua",
            "phone": "0911111111",
        },
    )
    assert suggested.status_code == 200
    assert original.code in suggested.content.decode()
    assert Report.objects.count() == 1
    sent = post_report(client, lat="19.807100")  # "send anyway" carries checked=1
    assert sent.status_code == 302
    copy = Report.objects.exclude(pk=original.pk).get()
    receiver = login_client(user("phananh.hacthanh"))
    receiver.post(
        f"/can-bo/phan-anh/{copy.code}/",
        {"action": "mark_duplicate", "version": 1, "duplicate_of": original.code},
    )
    copy.refresh_from_db()
    assert copy.status == ReportStatus.DUPLICATE
    assert copy.duplicate_of == original
    assert original.code in Client().get(f"/phan-anh/{copy.code}/").content.decode()


def test_the_map_is_drawn_on_the_server_its_dots_are_links_and_it_stays_light(
    client: Client,
) -> None:
    """The province's map needs no tile service and no script: an SVG of the outline from
    the stored boundary with each report a link; a dot projected back gives the report's
    place; the page with its map stays a few tens of kilobytes."""
    import re

    report = _submitted()
    html = client.get("/phan-anh/").content.decode()
    outline = re.search(r'class="map-area" d="(M[^"]+)"', html)
    assert outline is not None
    assert outline.group(1).count("L") > 100  # the province's shape, simplified
    link = f'<a href="/phan-anh/{report.code}/"><circle class="dot dot-open"'
    assert link in html
    attrs = dict(re.findall(r'data-(min-lat|max-lat|min-lng|cos|scale)="([-\d.]+)"', html))
    cx, cy = (float(v) for v in re.search(link + r' cx="([\d.]+)" cy="([\d.]+)"', html).groups())  # type: ignore[union-attr]
    scale, cos = float(attrs["scale"]), float(attrs["cos"])
    assert float(attrs["max-lat"]) - cy / scale == pytest.approx(float(HAC_THANH[0]), abs=2e-4)
    assert float(attrs["min-lng"]) + cx / (cos * scale) == pytest.approx(
        float(HAC_THANH[1]), abs=2e-4
    )
    assert len(html.encode()) < 80_000
    # A commune's map: its own boundary, and the report's page shows where it is.
    commune = report.commune
    assert commune is not None
    zoomed = client.get("/phan-anh/", {"xa": commune.code}).content.decode()
    assert link in zoomed
    assert 'class="map-area"' in client.get(f"/phan-anh/{report.code}/").content.decode()


def test_outlines_are_simplified_but_keep_their_shape() -> None:
    """A ring (its first point is its last) keeps its corners; points within the tolerance
    of a straight edge go."""
    from tinhso.agencies.maps import _simplify

    square = [[0, 0], [0.5, 0.0001], [1, 0], [1, 1], [0, 1], [0, 0]]
    assert _simplify(square, 0.01) == [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    assert _simplify(square, 0.00001) == square


def test_the_figures_of_a_body_come_from_its_rollups(login_client: Any, citizen: Any) -> None:
    """Received, answered on time and late (against each report's due time), not accepted,
    open now, and the average rating (a changed rating is not counted twice): in GET
    /api/v1/figures under "feedback" for the ward, and on the public page's table."""
    from datetime import timedelta

    from django.utils import timezone

    from tinhso.feedback.services import ReportDraft, report_act, report_rate, report_submit

    receiver, worker = user("phananh.hacthanh"), user("hientruong.hacthanh")
    quick = _submitted(citizen)
    quick = report_act(report=quick, actor=receiver, action="accept", version=1)
    quick = report_act(report=quick, actor=receiver, action="answer", version=2, note="Xong.")
    report_rate(report=quick, user=citizen, rating=3)
    report_rate(report=quick, user=citizen, rating=2)
    old = report_submit(
        ReportDraft(
            category_code="den-duong", description="Đèn hỏng", latitude=Decimal(HAC_THANH[0]),
            longitude=Decimal(HAC_THANH[1]), contact_phone="0987654321",
        ),
        now=timezone.now() - timedelta(days=20),
    )  # fmt: skip
    old = report_act(report=old, actor=receiver, action="accept", version=1)
    old = report_act(report=old, actor=receiver, action="assign", version=2, assignee=worker)
    report_act(report=old, actor=worker, action="answer", version=3, note="Đã thay bóng.")
    refused = _submitted()
    report_act(report=refused, actor=receiver, action="reject", version=1, note="Không đúng.")
    _submitted()  # still open
    today = timezone.localdate()
    answer = Client().get("/api/v1/figures", {
        "agency": quick.agency.code, "start": str(today - timedelta(days=40)), "end": str(today),
    })  # fmt: skip
    assert answer.status_code == 200
    assert answer.json()["feedback"] == {
        "received": 4, "answered": 2, "answered_on_time": 1, "answered_late": 1,
        "on_time_share": 0.5, "rejected": 1, "open": 1, "satisfaction": 2.0,
    }  # fmt: skip
    # The same from the records themselves.
    from tinhso.feedback.models import ReportEvent

    assert Report.objects.filter(agency=quick.agency).count() == 4
    assert ReportEvent.objects.filter(report__agency=quick.agency, action="answer").count() == 2
    page = Client().get("/phan-anh/").content.decode()
    assert "Ủy ban nhân dân phường Hạc Thành" in page
    assert "50 %" in page


def test_period_rows_add_up_whole_years_months_and_edge_days() -> None:
    from datetime import date

    from tinhso.core.rollups import Span, period_rows

    condition = period_rows(date(2024, 12, 30), date(2026, 3, 2))
    text = str(condition)
    assert f"('span', {int(Span.YEAR)})" in text
    assert "datetime.date(2025, 1, 1)" in text  # the whole year 2025
    assert "datetime.date(2026, 2, 1)" in text  # whole months of 2026
    assert "datetime.date(2024, 12, 31)" in text  # the days at the edges
    assert "datetime.date(2026, 3, 2)" in text


def test_a_report_forwarded_to_another_body_leaves_the_first(login_client: Any) -> None:
    """A ward's receiver forwards a report that is not theirs (with the reason and the
    body): the other body's receiver has it in their box and handles it; the first ward no
    longer does; the public history says where it went."""
    from tinhso.agencies.models import Agency

    report = _submitted()
    hoang_hoa = Agency.objects.get(admin_unit_name="Xã Hoằng Hóa")
    first = login_client(user("phananh.hacthanh"))
    address = f"/can-bo/phan-anh/{report.code}/"
    refused = first.post(address, {"action": "forward", "version": 1, "note": "Không thuộc phường"})
    assert refused.status_code == 422  # no body chosen
    moved = first.post(address, {"action": "forward", "version": 1, "note": "Thuộc xã",
                                 "forward_to": hoang_hoa.code})  # fmt: skip
    assert moved.status_code == 302
    report.refresh_from_db()
    assert report.agency == hoang_hoa
    assert report.status == ReportStatus.NEW
    assert first.get(address).status_code == 403
    other = login_client(user("phananh.hoanghoa"))
    assert report.code in other.get("/can-bo/phan-anh/?hop=moi").content.decode()
    assert other.post(address, {"action": "accept", "version": 2}).status_code == 302
    event = report.events.get(action="forward")
    assert "Xã Hoằng Hóa" in event.note or "xã Hoằng Hóa" in event.note


def test_overdue_reports_are_escalated_to_the_bodys_leaders_once() -> None:
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from tinhso.core.models import Notification
    from tinhso.feedback.escalation import escalate_overdue
    from tinhso.feedback.services import ReportDraft, report_submit

    def late(days: int) -> Report:
        return report_submit(
            ReportDraft(
                category_code="ngap-ung", description="Ngập", latitude=Decimal(HAC_THANH[0]),
                longitude=Decimal(HAC_THANH[1]), contact_phone="0987654321",
            ),
            now=timezone.now() - timedelta(days=days),
        )  # fmt: skip

    overdue, fresh = late(20), _submitted()
    assert escalate_overdue() == 1
    overdue.refresh_from_db()
    assert overdue.escalated_at is not None
    assert overdue.events.filter(action="escalate").count() == 1
    leader = user("lanhdao.hacthanh")
    told = Notification.objects.filter(user=leader, subject__contains=overdue.code, channel="inbox")
    assert told.exists()
    assert Notification.objects.filter(
        user=user("phananh.hacthanh"), subject__contains=overdue.code
    ).exists()
    assert not Notification.objects.filter(subject__contains=fresh.code, user=leader).exists()
    call_command("feedback_escalate", stdout=io.StringIO())  # once only
    assert told.count() == 1


def test_both_reporters_get_the_answer_and_a_reporter_reopens_within_the_window(
    citizen: Any,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tinhso.cases.transitions import TransitionError
    from tinhso.core.models import Notification
    from tinhso.feedback.services import REOPEN_DAYS, report_act

    receiver = user("phananh.hacthanh")
    original = _submitted(citizen)
    copy = _submitted()  # anonymous, with a phone for the answer
    original = report_act(report=original, actor=receiver, action="accept", version=1)
    report_act(report=copy, actor=receiver, action="mark_duplicate", version=1,
               duplicate_of=original)  # fmt: skip
    told = Notification.objects.filter(recipient="0987654321", user__isnull=True)
    assert any(original.code in n.body for n in told)
    original = report_act(report=original, actor=receiver, action="answer", version=2,
                          note="Đã khắc phục xong.")  # fmt: skip
    assert told.filter(body__contains="Đã khắc phục xong.").exists()
    assert Notification.objects.filter(user=citizen, body__contains="Đã khắc phục xong.").exists()
    # The reporter reopens it while the window is open …
    reopened = report_act(report=original, actor=citizen, action="reopen",
                          version=original.version, note="Vẫn còn ổ gà.")  # fmt: skip
    assert reopened.status == ReportStatus.IN_PROGRESS
    reopened = report_act(report=reopened, actor=receiver, action="answer",
                          version=reopened.version, note="Đã vá lại.")  # fmt: skip
    # … and not once it has passed.
    later = timezone.now() + timedelta(days=REOPEN_DAYS + 1)
    with pytest.raises(TransitionError):
        report_act(report=reopened, actor=citizen, action="reopen", version=reopened.version,
                   note="Lại hỏng.", now=later)  # fmt: skip


def test_a_photo_that_cannot_be_decoded_whole_is_never_shown_and_not_kept(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """A photo whose header reads but whose image is cut short passes the request's check;
    the worker finds it cannot be decoded: it is marked failed, never served, and the
    original is removed."""
    from tinhso.core.filestores import file_store
    from tinhso.core.outbox import outbox_deliver_pending

    cut = jpeg_with_location((800, 600))[:3000]
    assert post_report(client, photos=SimpleUploadedFile("cat.jpg", cut)).status_code == 302
    photo = ReportPhoto.objects.get()
    raw = photo.raw_name
    assert file_store().exists(raw)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_deliver_pending()
    photo.refresh_from_db()
    assert photo.state == "failed"
    assert photo.raw_name == ""
    assert not file_store().exists(raw)
    assert client.get(f"/phan-anh/anh/{photo.public_id}/").status_code == 404


def test_a_moderator_edits_what_the_public_reads_or_hides_the_report(
    login_client: Any, citizen: Any
) -> None:
    """The ward's moderator rewrites the public text (the reporter and the handlers still
    read the original) or hides the report: gone from the public pages, the photos and
    Open311, still the reporter's; a receiver of another commune may not moderate."""
    report = _submitted(citizen, description="Ông Nguyễn Văn X ở số 12 chửi bới, ổ gà to")
    address = f"/can-bo/phan-anh/{report.code}/"
    outsider = login_client(user("phananh.hoanghoa"))
    assert outsider.post(address, {"action": "hide"}).status_code == 403
    moderator = login_client(user("kiemduyet.hacthanh"))
    edited = moderator.post(address, {"action": "show", "public_description": "Ổ gà to"})
    assert edited.status_code == 302
    page = Client().get(f"/phan-anh/{report.code}/").content.decode()
    assert "Ổ gà to" in page
    assert "chửi bới" not in page
    assert "chửi bới" in login_client(citizen).get(f"/phan-anh/{report.code}/").content.decode()
    assert moderator.post(address, {"action": "hide"}).status_code == 302
    assert Client().get(f"/phan-anh/{report.code}/").status_code == 404
    assert Client().get(f"/open311/v2/requests/{report.code}.json").status_code == 404
    assert report.code not in Client().get("/phan-anh/").content.decode()
    assert login_client(citizen).get(f"/phan-anh/{report.code}/").status_code == 200
    from tinhso.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="report.moderate").count() == 2


def test_open311_lists_rejected_reports_with_their_reasons_in_a_fixed_number_of_queries(
    client: Client,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tinhso.feedback.services import report_act

    receiver = user("phananh.hacthanh")

    def reject(n: int) -> None:
        for index in range(n):
            report = _submitted(description=f"Ổ gà {index}")
            report_act(report=report, actor=receiver, action="reject", version=1,
                       note=f"Không thuộc thẩm quyền ({index}).")  # fmt: skip

    def listed() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/open311/v2/requests.json")
        assert answer.status_code == 200
        notes = [r["status_notes"] for r in answer.json() if r["status"] == "closed"]
        return len(queries), notes

    reject(2)
    few, notes = listed()
    assert "Không thuộc thẩm quyền (1)." in notes
    reject(5)
    many, notes = listed()
    assert many == few
    assert "Không thuộc thẩm quyền (4)." in notes


def test_numbers_typed_in_the_address_or_an_answer_are_masked_for_the_public(
    login_client: Any, citizen: Any
) -> None:
    from tinhso.feedback.services import ReportDraft, report_submit

    report = report_submit(
        ReportDraft(
            category_code="den-duong",
            description="Đèn không sáng, gọi 0912 345 678",
            address="Nhà anh An, SĐT 0912345672",
            latitude=Decimal(HAC_THANH[0]),
            longitude=Decimal(HAC_THANH[1]),
            answers={"so_cot": "0912345678"},
            reporter=citizen,
        )
    )
    anonymous = Client()
    page = anonymous.get(f"/phan-anh/{report.code}/").content.decode()
    for typed in ("0912345672", "0912345678", "0912 345 678"):
        assert typed not in page
    assert "Nhà anh An, SĐT ********72" in page
    assert "********78" in page
    listed = anonymous.get(f"/open311/v2/requests/{report.code}.json").json()
    assert listed[0]["address"] == "Nhà anh An, SĐT ********72"
    everything = anonymous.get("/open311/v2/requests.json").content.decode()
    assert "0912345672" not in everything
    assert "0912345678" not in everything
    # The reporter reads what they typed; so does the ward that handles it.
    mine = login_client(citizen).get(f"/phan-anh/{report.code}/").content.decode()
    assert "Nhà anh An, SĐT 0912345672" in mine
    assert "0912345678" in mine
    handler = login_client(user("phananh.hacthanh"))
    assert "0912345672" in handler.get(f"/can-bo/phan-anh/{report.code}/").content.decode()
    inbox = handler.get("/can-bo/phan-anh/")
    assert inbox.status_code == 200
    assert report.code in inbox.content.decode()
    assert "0912345672" not in inbox.content.decode()  # a list shows it masked


def test_open311_refuses_a_method_in_its_own_error_format(client: Client) -> None:
    answer = client.put("/open311/v2/requests.json")
    assert answer.status_code == 405
    assert answer["Allow"] == "GET, HEAD, POST"
    assert answer.json()[0]["code"] == 405
    assert "PUT" in answer.json()[0]["description"]
    xml = client.delete("/open311/v2/services.xml")
    assert xml.status_code == 405
    assert xml["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>405</code>" in xml.content


def test_what_the_reporter_typed_is_read_whole_only_by_the_receiver_and_the_moderator(
    login_client: Any, citizen: Any
) -> None:
    from tinhso.core.models import PersonalDataAccess

    report = _submitted(citizen, description="Ổ gà trước nhà, gọi 0912 345 678")
    page = f"/can-bo/phan-anh/{report.code}/"
    worker = login_client(user("hientruong.hacthanh")).get(page)
    assert worker.status_code == 200
    assert "0912 345 678" not in worker.content.decode()
    assert "**** *** *78" in worker.content.decode()  # as the public reads it
    assert not PersonalDataAccess.objects.filter(official=user("hientruong.hacthanh")).exists()
    moderator = login_client(user("kiemduyet.hacthanh")).get(page)
    assert "0912 345 678" in moderator.content.decode()
    looked = PersonalDataAccess.objects.get(citizen=citizen, official=user("kiemduyet.hacthanh"))
    assert "Kiểm duyệt" in looked.purpose
    assert "0912 345 678" in login_client(user("phananh.hacthanh")).get(page).content.decode()
    # A number typed only in the address: shown whole to the moderator, and so logged.
    placed = _submitted(citizen, description="Ổ gà", address="Ngõ 5, gọi 0987 111 222")
    moderator_page = login_client(user("kiemduyet.hacthanh")).get(
        f"/can-bo/phan-anh/{placed.code}/"
    )
    assert "0987 111 222" in moderator_page.content.decode()
    assert PersonalDataAccess.objects.filter(record=f"report:{placed.code}").exists()
