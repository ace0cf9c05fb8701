"""The permission matrix of OCOP products and stamps (tests/permissions.py): the catalogue,
a product's page and a stamp's page (the resolver) are everyone's and name the producer,
never its tax code nor the applicant's personal data; a producer's pages (its products,
applications, stamp orders, labels and their list of serials) are its manager's alone; an
OCOP application, its evidence and its producer's tax code and phone are for the applicant
and the OCOP council's roles at its body (Sở Nông nghiệp và Môi trường), each look of an
official logged for the applicant; each of its moves is for its own role there (the
secretary accepts, the scorer scores, the leader approves); counterfeit signals are the
market inspectors'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from permissions import (
    EVERYONE,
    PERSONAL_MARKERS,
    PUBLIC_MARKERS,
    Route,
    Scene,
    body,
    check_route,
    hac_thanh,
    route_id,
    serving,
)
from tinhso.core.models import PersonalDataAccess
from tinhso.products.models import (
    Application,
    ApplicationStatus,
    Batch,
    Producer,
    Product,
    Signal,
)

pytestmark = pytest.mark.django_db

STAFF = ("ocop_secretary", "ocop_scorer", "ocop_leader", "inspector")
ALL = EVERYONE | set(STAFF)
COUNCIL = serving("products.ocop", "snnmt")  # the OCOP roles at the council's body
# Who reads an application and its producer's tax code and phone.
READERS = {"applicant", *COUNCIL}
TAX_CODE = "2800123452"

Answers = dict[str, HttpResponse]


@pytest.fixture
def scene(client: Client) -> Scene:
    return Scene(client)


def test_the_council_is_its_secretary_scorer_and_leader() -> None:
    assert {"ocop_secretary", "ocop_scorer", "ocop_leader"} == COUNCIL


# --- what each route is asked about ---------------------------------------------------------


def _public(s: Scene) -> list[str]:
    return [*PUBLIC_MARKERS, TAX_CODE]


def _producer_data(s: Scene) -> list[str]:
    """The applicant's data and the producer's tax code and phone (the applicant's)."""
    return [*PERSONAL_MARKERS, TAX_CODE]


def _theirs(s: Scene) -> list[str]:
    """What a producer's page must not tell anyone but its manager."""
    return [*_public(s), s.application.code, s.batch.code, s.signal.code]


def _built(s: Scene) -> None:
    s.application  # noqa: B018 (the pages list them)
    s.signal  # noqa: B018


def _forget_reads(s: Scene) -> None:
    s.evidence  # noqa: B018 (built before the log is emptied)
    PersonalDataAccess.objects.all().delete()


def _code(s: Scene) -> dict[str, object]:
    return {"code": s.application.code}


def _batch(s: Scene) -> dict[str, object]:
    return {"code": s.batch.code}


def _signal(s: Scene) -> dict[str, object]:
    return {"code": s.signal.code}


def _stamp(s: Scene) -> str:
    return s.stamp_path()


def _version(case: Callable[[Scene], Any]) -> Callable[[Scene, str], int]:
    def version(s: Scene, actor: str) -> int:
        row = case(s)
        return int(type(row).objects.get(pk=row.pk).version)

    return version


def _last(actor: str) -> tuple[str, ...]:
    """The cast's extras, `actor` last: the others try a move while it can still be made."""
    return (*(a for a in STAFF if a != actor), actor)


# --- the checks ----------------------------------------------------------------------------


def _shows(actor: str, texts: Callable[[Scene], list[str]]) -> Callable[[Scene, Answers], None]:
    """`actor`'s answer holds each of `texts`."""

    def check(s: Scene, answers: Answers) -> None:
        page = body(answers[actor])
        for text in texts(s):
            assert text in page, (actor, text)

    return check


def _reads(s: Scene, record: str) -> dict[str, int]:
    rows = PersonalDataAccess.objects.filter(citizen=s.applicant, record=record)
    return {
        actor: rows.filter(official=person).count()
        for actor, person in s.matrix.people.items()
        if person is not None and rows.filter(official=person).exists()
    }


def _application_page(s: Scene, answers: Answers) -> None:
    # Its readers see the producer's tax code and phone; each official's look is logged
    # once for the applicant (the applicant's own look is no one's read).
    for actor in READERS:
        page = body(answers[actor])
        assert TAX_CODE in page, actor
        assert "0912000001" in page, actor
        assert s.evidence.original_name in page
    assert _reads(s, f"ocop:{s.application.code}") == dict.fromkeys(COUNCIL, 1)
    assert PersonalDataAccess.objects.filter(citizen=s.applicant).count() == len(COUNCIL)


def _evidence_read(s: Scene, answers: Answers) -> None:
    record = f"ocop:{s.application.code}:file:{s.evidence.public_id}"
    assert _reads(s, record) == dict.fromkeys(COUNCIL, 1)
    assert PersonalDataAccess.objects.filter(citizen=s.applicant).count() == len(COUNCIL)
    for actor in READERS:
        assert answers[actor]["Content-Type"] == "image/png"


def _moved(action: str, by: str, case: Callable[[Scene], Application]) -> Any:
    """`by` made the move (302); the application's other readers were told 403 on its page
    (which they may read); the move was made once, by `by`."""

    def check(s: Scene, answers: Answers) -> None:
        assert answers[by].status_code == 302
        assert {a: answers[a].status_code for a in READERS - {by}} == dict.fromkeys(
            READERS - {by}, 403
        )
        application = case(s)
        movers = [e.actor for e in application.events.filter(action=action)]
        assert movers == [s.matrix.people[by]]

    return check


def _certified(s: Scene, answers: Answers) -> None:
    _moved("approve", "ocop_leader", lambda s: s.application)(s, answers)
    application = Application.objects.get(pk=s.application.pk)
    assert application.status == ApplicationStatus.CERTIFIED
    assert application.certificate.stars == 4


def _registered(s: Scene, answers: Answers) -> None:
    # Each signed-in actor registered their own producer.
    for actor in ALL - {"anonymous"}:
        assert Producer.objects.filter(owner=s.matrix.people[actor], tax_code=_tax_code(actor))


def _tax_code(actor: str) -> str:
    """A tax code of the actor's own, its check digit right."""
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    seed = 280_900_000 + sorted(ALL).index(actor) * 1_000
    while True:
        digits = [int(d) for d in str(seed)]
        check = 10 - sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if check < 10:
            return f"{seed}{check}"
        seed += 1


def _producer(s: Scene, actor: str) -> dict[str, object]:
    return {"kind": "business", "name": f"Công ty {actor}", "tax_code": _tax_code(actor),
            "commune": hac_thanh().code, "address": "", "phone": ""}  # fmt: skip


def _product_made(s: Scene, answers: Answers) -> None:
    # Only the applicant has a producer: the others were sent to register one first.
    made = Product.objects.filter(name="Bánh chưng Hạc Thành")
    assert [p.producer_id for p in made] == [s.producer.pk]
    for actor, answer in answers.items():
        if actor not in ("applicant", "anonymous"):
            assert answer["Location"] == "/ocop/co-so/dang-ky/", actor


def _new_product_form(s: Scene, answers: Answers) -> None:
    for actor, answer in answers.items():
        if actor not in ("applicant", "anonymous"):
            assert answer["Location"] == "/ocop/co-so/dang-ky/", actor


def _applied(s: Scene, answers: Answers) -> None:
    made = Application.objects.get(product=s.unrated_product)
    assert made.applicant == s.applicant
    assert made.files.count() == 1


def _png(s: Scene, actor: str) -> dict[str, object]:
    from test_products import png

    return {"self_assessment": "Đặc sản.", "file_1": png("kiem-nghiem"), "criterion_1": "C3"}


def _order(s: Scene, actor: str) -> dict[str, object]:
    today = timezone.localdate()
    return {"lot": "MATRAN-2", "produced_on": str(today - timedelta(days=2)),
            "expires_on": str(today + timedelta(days=60)), "place": "Phường Hạc Thành",
            "quantity": "10"}  # fmt: skip


def _ordered(s: Scene, answers: Answers) -> None:
    made = Batch.objects.get(lot="MATRAN-2")
    assert made.ordered_by == s.applicant
    assert made.product == s.certified_product


def _scores(s: Scene, actor: str) -> dict[str, object]:
    from test_products import scores

    points = {f"score_{code}": value for code, value in scores(76).items()}
    return {"action": "score", "version": _version(lambda s: s.scoring)(s, actor), **points}


def _signal_moved(action: str) -> Callable[[Scene, Answers], None]:
    def check(s: Scene, answers: Answers) -> None:
        signal = Signal.objects.get(pk=s.signal.pk)
        movers = [e.actor for e in signal.events.filter(action=action)]
        assert movers == [s.matrix.people["inspector"]]

    return check


def _inspector_sees_no_producer_data(s: Scene, answers: Answers) -> None:
    page = body(answers["inspector"])
    assert s.signal.code in page
    assert "FAKE1" in page
    assert TAX_CODE not in page
    assert "0912000001" not in page


def _downloaded(answers: Answers, content_type: str) -> None:
    answer = answers["applicant"]
    assert answer["Content-Type"] == content_type
    assert answer["Content-Disposition"].startswith("attachment")


def _serials(s: Scene, answers: Answers) -> None:
    # Every stamp of the batch, each with its URI (read again: the answer was streamed).
    _downloaded(answers, "text/csv; charset=utf-8")
    rows = body(s.matrix.client("applicant").get(f"/ocop/co-so/tem/{s.batch.code}/tem.csv"))
    assert rows.count("\n") == 1 + s.batch.quantity
    assert s.stamp_path() in rows


def _scan_token(s: Scene) -> str:
    """The token of a scan of the stamp, as its page gives the scanner's script."""
    from django.core import signing

    from tinhso.products.views import SCAN_SALT

    return signing.dumps(s.scan.pk, salt=SCAN_SALT)


def _no_scan(s: Scene, answers: Answers) -> None:
    # Machines asking about a stamp are no person's scan.
    s.stamp.refresh_from_db()
    assert s.stamp.scans == 0


def _not_genuine(s: Scene, answers: Answers) -> None:
    # Every scan of a serial never issued is kept; the pattern's signal stays one.
    assert Signal.objects.filter(product=s.certified_product).count() == 1


# --- the matrix ----------------------------------------------------------------------------

PAGE = "ocop/ho-so/<str:code>/"
STAMPS = {"TINHSO_SCAN_RATE": 1000, "TINHSO_STAMP_SCAN_LIMIT": 1000}  # one client, many scans
RESOLVER = r"^01/(?P<rest>.*)$"

ROUTES = [
    # The public side: the catalogue, a product's page, a stamp's page.
    Route("GET", "ocop/", name="the catalogue", limited=ALL, extra=STAFF,
          before=lambda s: s.certified_product and None, markers=_public,
          check=_shows("anonymous", lambda s: ["Chả tôm Hạc Thành", "HTX Nem chua Hạc Thành"])),
    Route("GET", "ocop/san-pham/<int:pk>/", name="a certified product's page", limited=ALL,
          extra=STAFF, args=lambda s: {"pk": s.certified_product.pk}, markers=_public,
          check=_shows("anonymous", lambda s: ["Chả tôm Hạc Thành", "HTX Nem chua Hạc Thành"])),
    Route("GET", "ocop/anh/<uuid:public_id>/", name="a product's photo", limited=ALL,
          extra=STAFF, args=lambda s: {"public_id": s.product_photo.public_id}),
    Route("GET", RESOLVER, name="a stamp's page (a scan)", limited=ALL, extra=STAFF,
          path=_stamp, markers=_public, settings=STAMPS,
          check=_shows("anonymous", lambda s: ["Chả tôm Hạc Thành", "HTX Nem chua Hạc Thành",
                                               s.batch.lot])),
    Route("HEAD", RESOLVER, name="a stamp, asked whether genuine", limited=ALL, extra=STAFF,
          path=_stamp, markers=_public, check=_no_scan),
    Route("GET", RESOLVER, name="a stamp's linkset", limited=ALL, extra=STAFF, path=_stamp,
          data={"linkType": "linkset"}, markers=_public, check=_no_scan),
    Route("GET", RESOLVER, name="a serial never issued", limited=ALL, extra=STAFF,
          limited_ok=(404,), path=lambda s: s.stamp_path("FAKE1"), markers=_public,
          before=lambda s: s.signal and None, settings=STAMPS, check=_not_genuine),
    Route("POST", RESOLVER, name="a scanner shares a coarse place", limited=ALL, extra=STAFF,
          path=_stamp, markers=_public,
          data=lambda s, a: {"scan": _scan_token(s), "lat": "19.81", "lng": "105.78"}),
    # A producer's pages: its manager's (the applicant's); anyone signed in may register one.
    Route("GET", "ocop/co-so/", name="my products and stamps", full={"applicant"},
          limited=ALL - {"anonymous", "applicant"}, extra=STAFF, before=_built,
          markers=_theirs,
          check=_shows("applicant", lambda s: [s.application.code, s.batch.code, s.signal.code])),
    Route("GET", "ocop/co-so/dang-ky/", name="the form to register a producer",
          limited=ALL - {"anonymous"}, extra=STAFF),
    Route("POST", "ocop/co-so/dang-ky/", name="registering a producer",
          full=ALL - {"anonymous"}, extra=STAFF, ok=(302,), data=_producer, check=_registered),
    # Without a producer of their own, one is sent to register it first.
    Route("GET", "ocop/co-so/san-pham/moi/", name="the form of a new product",
          full={"applicant"}, limited=ALL - {"anonymous", "applicant"}, limited_ok=(302,),
          extra=STAFF, before=lambda s: s.producer and None, check=_new_product_form),
    Route("POST", "ocop/co-so/san-pham/moi/", name="a new product", full={"applicant"},
          limited=ALL - {"anonymous", "applicant"}, ok=(302,), extra=STAFF,
          before=lambda s: s.producer and None,
          data={"name": "Bánh chưng Hạc Thành", "group": "food", "description": "",
                "gtin": "", "links": ""}, check=_product_made),
    Route("GET", "ocop/co-so/san-pham/<int:pk>/dang-ky-ocop/", name="the OCOP form",
          full={"applicant"}, extra=STAFF, args=lambda s: {"pk": s.product.pk}),
    Route("POST", "ocop/co-so/san-pham/<int:pk>/dang-ky-ocop/", name="applying for OCOP",
          full={"applicant"}, extra=STAFF, ok=(302,), data=_png,
          args=lambda s: {"pk": s.unrated_product.pk}, check=_applied),
    Route("GET", "ocop/co-so/san-pham/<int:pk>/dat-tem/", name="the stamp order form",
          full={"applicant"}, extra=STAFF, args=lambda s: {"pk": s.certified_product.pk}),
    Route("POST", "ocop/co-so/san-pham/<int:pk>/dat-tem/", name="ordering stamps",
          full={"applicant"}, extra=STAFF, ok=(302,), data=_order,
          args=lambda s: {"pk": s.certified_product.pk}, check=_ordered),
    Route("GET", "ocop/co-so/tem/<str:code>/", name="a stamp order", full={"applicant"},
          extra=STAFF, args=_batch, markers=lambda s: [*_public(s), s.stamp.serial],
          check=_shows("applicant", lambda s: [s.stamp.serial])),
    Route("POST", "ocop/co-so/tem/<str:code>/", name="asking for a part of the labels",
          full={"applicant"}, extra=STAFF, ok=(302,), args=_batch, data={"part": "1"}),
    Route("GET", "ocop/co-so/tem/<str:code>/nhan-<int:part>.pdf", name="the labels",
          full={"applicant"}, extra=STAFF,
          args=lambda s: {"code": s.sheet.batch.code, "part": s.sheet.part},
          check=lambda s, a: _downloaded(a, "application/pdf")),
    Route("GET", "ocop/co-so/tem/<str:code>/tem.csv", name="the serials for a printer",
          full={"applicant"}, extra=STAFF, args=_batch,
          markers=lambda s: [*_public(s), s.stamp.serial], check=_serials),
    # An application: its applicant and the council's roles at its body; nobody else,
    # not another body's leader nor the province's administrator.
    Route("GET", PAGE, name="an OCOP application", full=READERS, extra=STAFF, args=_code,
          markers=_producer_data, before=_forget_reads, check=_application_page),
    Route("GET", "ocop/ho-so/<str:code>/tep/<uuid:public_id>/", name="its evidence",
          full=READERS, extra=STAFF, markers=_producer_data, before=_forget_reads,
          args=lambda s: {"code": s.application.code, "public_id": s.evidence.public_id},
          check=_evidence_read),
    # Each move is its role's: the application's other readers are told 403 on its page
    # (they read it: `full`, with 403), everyone else is refused and learns nothing.
    Route("POST", PAGE, name="the secretary accepts", full=READERS, ok=(302, 403),
          extra=_last("ocop_secretary"), markers=_producer_data,
          args=lambda s: {"code": s.submitted.code},
          data=lambda s, a: {"action": "accept",
                             "version": _version(lambda s: s.submitted)(s, a)},
          check=_moved("accept", "ocop_secretary", lambda s: s.submitted)),
    Route("POST", PAGE, name="the scorer scores", full=READERS, ok=(302, 403),
          extra=_last("ocop_scorer"), markers=_producer_data,
          args=lambda s: {"code": s.scoring.code}, data=_scores,
          check=_moved("score", "ocop_scorer", lambda s: s.scoring)),
    Route("POST", PAGE, name="the leader approves", full=READERS, ok=(302, 403),
          extra=_last("ocop_leader"), markers=_producer_data, args=_code,
          data=lambda s, a: {"action": "approve", "note": "Đủ điều kiện.",
                             "version": _version(lambda s: s.application)(s, a)},
          check=_certified),
    # The council's boxes: its roles at its body only (a leader elsewhere holds no seat).
    Route("GET", "can-bo/ocop/", name="the council's boxes", data={"hop": "phe-duyet"},
          full=COUNCIL, extra=STAFF,
          before=lambda s: s.application and None,
          markers=lambda s: [*_public(s), s.application.code],
          check=_shows("ocop_leader", lambda s: [s.application.code])),
    # Counterfeit signals: the market inspectors'; the producer's data is not theirs.
    Route("GET", "can-bo/tem/", name="the signals", full={"inspector"}, extra=STAFF,
          before=_built, markers=lambda s: [*_public(s), s.signal.code],
          check=_shows("inspector", lambda s: [s.signal.code])),
    Route("GET", "can-bo/tem/<str:code>/", name="a signal", full={"inspector"}, extra=STAFF,
          args=_signal, markers=lambda s: [*_public(s), "FAKE1"],
          check=_inspector_sees_no_producer_data),
    Route("POST", "can-bo/tem/<str:code>/", name="taking a signal up", full={"inspector"},
          extra=STAFF, ok=(302,), args=_signal, markers=lambda s: [*_public(s), "FAKE1"],
          data=lambda s, a: {"action": "investigate",
                             "version": _version(lambda s: s.signal)(s, a)},
          check=_signal_moved("investigate")),
    Route("POST", "can-bo/tem/<str:code>/", name="concluding on a signal", full={"inspector"},
          extra=STAFF, ok=(302,), args=_signal, markers=lambda s: [*_public(s), "FAKE1"],
          data=lambda s, a: {"action": "confirm", "note": "Thu giữ 40 hộp.",
                             "version": _version(lambda s: s.signal)(s, a)},
          check=_signal_moved("confirm")),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_route(route: Route, scene: Scene) -> None:
    check_route(route, scene)
