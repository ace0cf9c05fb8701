"""The permission matrix (in the spirit of NetBox's ViewTestCases): every page and API
operation of every module is requested as each actor of a fixed cast, and its matrix states
who gets the answer with the data, who a reduced answer, and that everyone else is refused
and learns nothing (docs/adr/0015-least-privilege.md).

The cast: anonymous, the applicant, another citizen, an official of another agency,
officials of the parent agency (the province), the right agency's wrong roles and the right
roles, all at Phường Hạc Thành; modules add the actors they need (`EXTRA`: the data
publisher and the accountant of other agencies).

A module declares its matrix as a list of `Route`s, one line or a few each:

    Route("GET", "can-bo/thanh-toan/", full=serving("payments.keep")),
    Route("GET", "/api/v1/payments/{reference}", full={"applicant", "accountant", *HANDLERS},
          args=lambda s: {"reference": s.payment.reference}),
    Route("POST", "ckan:package_create", full=serving("opendata.publish"), ...),

`route` is the route as the site declares it (a Django URL pattern, an API operation of the
OpenAPI document, or `ckan:<action>`); tests/test_route_coverage.py resolves each route's
address and fails for any route of the site that is in no matrix. A module's matrix is the
`ROUTES` of tests/test_matrix_<module>.py (the dossiers': tests/test_permissions.py), run by
its `test_route`. `check_route` runs one route: the actors outside `full` are asked first,
then `full`; it asserts

* `full`: a status in `ok`;
* `limited`: a status in `limited_ok` (or `ok`) and none of the `markers` in the body;
* everyone else: refused (`refusal`: 401/403/404, or sent to sign in), none of the markers;
* a refused request writes nothing (no audit entry, no personal-data access row), and a
  reduced answer is no read of the applicant's data (no row in their access log);

then the route's own `check`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.http import HttpResponse
from django.test import Client
from django.test.utils import override_settings

from flows import act, user
from tinhso.accounts.models import User
from tinhso.accounts.policies import Reach, purpose_get
from tinhso.accounts.roles import (
    AGENCY_ADMIN,
    CLERK,
    LEADER,
    PROVINCE_ADMIN,
    RECEIVER,
    SPECIALIST,
)
from tinhso.accounts.services import api_token_create, membership_grant, official_create
from tinhso.agencies.models import Agency, AgencyKind
from tinhso.catalog.roles import CATALOG_EDITOR
from tinhso.core.models import AuditEntry, PersonalDataAccess
from tinhso.opendata.roles import PUBLISHER
from tinhso.payments.roles import ACCOUNTANT

# --- The cast --------------------------------------------------------------------------------
# Officials of Phường Hạc Thành handle the test dossiers.
CITIZENS = {"applicant": "038090000001", "other_citizen": "038090000002"}
DEMO_OFFICIALS = {
    "other_agency": "tiepnhan.hoanghoa",  # receiver of another commune
    "province_admin": "admin",  # province administrator (a parent agency)
    "province_catalog_editor": "bientap",
    "accountant": "ketoan.hacthanh",
    "clerk": "vanthu.hacthanh",
    "receiver": "tiepnhan.hacthanh",
    "specialist": "chuyenvien.hacthanh",
    "leader": "lanhdao.hacthanh",
}
# Made for the test through the real services: roles the demo does not give at Hạc Thành.
MADE_OFFICIALS = {
    # The finding of issue 12: a specialist of the province People's Committee.
    "parent_specialist": ("province", SPECIALIST),
    "parent_leader": ("province", LEADER),
    "publisher": ("hac_thanh", PUBLISHER),
    "catalog_editor": ("hac_thanh", CATALOG_EDITOR),
    "agency_admin": ("hac_thanh", AGENCY_ADMIN),
}
ACTORS = ["anonymous", *CITIZENS, *DEMO_OFFICIALS, *MADE_OFFICIALS]
# Actors a module's matrix adds to the cast (`Route.extra`): the same roles in other agencies.
EXTRA = {
    "other_publisher": "dulieu.yte",  # data publisher of Sở Y tế
    "other_accountant": "ketoan",  # accountant of the province's service centre
    # Citizens' reports (feedback): who receives, handles and moderates them at Hạc Thành,
    # and the receiver of another commune.
    "report_receiver": "phananh.hacthanh",
    "report_handler": "hientruong.hacthanh",
    "report_moderator": "kiemduyet.hacthanh",
    "other_report_receiver": "phananh.hoanghoa",
    # OCOP products and stamps: the OCOP council's secretary, scorer and leader at its
    # standing body (Sở Nông nghiệp và Môi trường), and a market inspector of Sở Công Thương.
    "ocop_secretary": "ocop.thuky",
    "ocop_scorer": "ocop.chamdiem",
    "ocop_leader": "lanhdao.nnmt",
    "inspector": "qltt",
    # Official documents (e-office): Sở Tư pháp's specialist, head of unit, leader and clerk
    # (who move the scene's outgoing document; the clerk is the dossiers' clerk there too),
    # and Sở Nông nghiệp và Môi trường's clerk and specialist (who receive it; its leader is
    # `ocop_leader`).
    "doc_specialist": "cv.tuphap",
    "doc_unit_head": "tp.tuphap",
    "doc_leader": "lanhdao",
    "doc_clerk": "vanthu.tuphap",
    "other_doc_clerk": "vanthu.nnmt",
    "other_doc_specialist": "cv.nnmt",
}
HANDLERS = {"receiver", "specialist", "leader"}  # the personal-data roles of the agency

# Where each official of the cast holds which role (checked against the database by
# tests/test_route_coverage.py), so a matrix can say "the roles of a purpose in that agency".
MEMBERSHIPS: dict[str, tuple[tuple[str, str], ...]] = {
    "other_agency": (("hoang_hoa", RECEIVER),),
    "province_admin": (("province", PROVINCE_ADMIN),),
    "province_catalog_editor": (("province", CATALOG_EDITOR),),
    "accountant": (("hac_thanh", ACCOUNTANT),),
    "clerk": (("hac_thanh", CLERK), ("hac_thanh", "doc_clerk")),
    "receiver": (("hac_thanh", RECEIVER),),
    "specialist": (("hac_thanh", SPECIALIST),),
    "leader": (("hac_thanh", LEADER),),
    **{name: ((where, role),) for name, (where, role) in MADE_OFFICIALS.items()},
    "other_publisher": (("syt", PUBLISHER),),
    "other_accountant": (("service_centre", ACCOUNTANT),),
    "report_receiver": (("hac_thanh", "feedback_receiver"),),
    "report_handler": (("hac_thanh", "feedback_handler"),),
    "report_moderator": (("hac_thanh", "feedback_moderator"),),
    "other_report_receiver": (("hoang_hoa", "feedback_receiver"),),
    "ocop_secretary": (("snnmt", "ocop_secretary"),),
    "ocop_scorer": (("snnmt", "ocop_scorer"),),
    "ocop_leader": (("snnmt", LEADER),),
    "inspector": (("sct", "market_inspector"),),
    "doc_specialist": (("stp", "doc_specialist"),),
    "doc_unit_head": (("stp", "doc_unit_head"),),
    "doc_leader": (("stp", LEADER),),
    "doc_clerk": (("stp", "doc_clerk"), ("stp", CLERK)),
    "other_doc_clerk": (("snnmt", "doc_clerk"),),
    "other_doc_specialist": (("snnmt", "doc_specialist"),),
}

EVERYONE = frozenset(ACTORS)
SIGNED_IN = EVERYONE - {"anonymous"}
OFFICIALS = SIGNED_IN - set(CITIZENS)
STAFF = frozenset({"province_admin", "province_catalog_editor"})  # may enter /quan-tri/

# What of the applicant (Nguyễn Văn An) must not reach anyone without the right.
PERSONAL_MARKERS = ["038090000001", "0912000001", "Lê Lai"]
# What pages must not show of them to the public, or to officials who never handle their
# dossier: their name too.
PUBLIC_MARKERS = [*PERSONAL_MARKERS, "Nguyễn Văn An"]


def serving(purpose: str, where: str = "hac_thanh") -> frozenset[str]:
    """The actors (extras included) serving `purpose` in the agency `where`: a role of the
    purpose held there (or above it, for a purpose that reaches the agencies below), or a
    role serving it anywhere in the province."""
    spec = purpose_get(purpose)
    found = set()
    for actor, held in MEMBERSHIPS.items():
        for agency, role in held:
            here = agency == where or (spec.reach == Reach.SUBTREE and agency == "province")
            if role in spec.roles_anywhere or (role in spec.roles and here):
                found.add(actor)
    return frozenset(found)


def serving_anywhere(purpose: str) -> frozenset[str]:
    """The actors (extras included) who hold a role of `purpose` in some agency."""
    spec = purpose_get(purpose)
    return frozenset(
        actor
        for actor, held in MEMBERSHIPS.items()
        if any(role in spec.roles | spec.roles_anywhere for _agency, role in held)
    )


def agency(where: str) -> Agency:
    """The agencies the cast names: hac_thanh, hoang_hoa, province, service_centre, and the
    departments syt (Sở Y tế), snnmt (Sở Nông nghiệp và Môi trường, the OCOP council's
    body), sct (Sở Công Thương, the market inspectors) and stp (Sở Tư pháp, the sender of
    the scene's official document)."""
    if where == "province":
        return Agency.objects.get(level="province", parent__isnull=True)
    if where == "service_centre":
        return Agency.objects.get(kind=AgencyKind.SERVICE_CENTRE)
    if where in ("syt", "snnmt", "sct", "stp"):
        return Agency.objects.get(short_name=where.upper())
    names = {"hac_thanh": "Phường Hạc Thành", "hoang_hoa": "Xã Hoằng Hóa"}
    return Agency.objects.get(admin_unit_name=names[where])


def hac_thanh() -> Agency:
    return agency("hac_thanh")


def cast() -> dict[str, User | None]:
    """Every actor of the matrix, extras included (None: anonymous)."""
    people: dict[str, User | None] = {"anonymous": None}
    for name, username in {**CITIZENS, **DEMO_OFFICIALS, **EXTRA}.items():
        people[name] = User.objects.get(username=username)
    for name, (where, role) in MADE_OFFICIALS.items():
        person = official_create(actor=None, username=f"matrix.{name}", full_name=name)
        membership_grant(actor=None, user=person, agency=agency(where), role=role)
        people[name] = person
    return people


@dataclass
class Matrix:
    """Runs a request as every actor. `web` clients are signed in by session, `api` ones
    carry a bearer token."""

    people: dict[str, User | None]
    _clients: dict[tuple[str, str], Client] = field(default_factory=dict)

    def client(self, actor: str, kind: str = "web") -> Client:
        key = (actor, kind)
        if key not in self._clients:
            client = Client(HTTP_ACCEPT_LANGUAGE="vi")
            person = self.people[actor]
            if person is not None and kind == "web":
                client.force_login(person)
            if person is not None and kind == "api":
                _row, plain = api_token_create(user=person, name="matrix")
                client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
            self._clients[key] = client
        return self._clients[key]

    def run(
        self,
        request: Callable[[Client], HttpResponse],
        *,
        kind: str = "web",
        actors: Iterable[str] = ACTORS,
    ) -> dict[str, HttpResponse]:
        return {actor: request(self.client(actor, kind)) for actor in actors}


def body(response: HttpResponse) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return content.decode("utf-8", errors="replace")


SIGN_IN_PAGES = ("/dang-nhap/", "/quan-tri/login/")


REFUSALS = (401, 403, 404)


def refused(response: HttpResponse, kind: str, statuses: Iterable[int] = REFUSALS) -> bool:
    """A refusal that reveals nothing: sign in first, forbidden, or not found."""
    if kind == "web" and response.status_code == 302:
        return response["Location"].startswith(SIGN_IN_PAGES)
    return response.status_code in statuses


def assert_matrix(
    answers: dict[str, HttpResponse],
    *,
    full: Iterable[str],
    limited: Iterable[str] = frozenset(),
    kind: str = "web",
    markers: Iterable[str] = PERSONAL_MARKERS,
    ok: Iterable[int] = (200,),
    refusal: Iterable[int] = REFUSALS,
    limited_ok: Iterable[int] = (),
) -> None:
    """`full` actors get the answer with the personal data; `limited` ones a successful
    answer without it; every other actor is refused (`refusal`, or sent to sign in) and the
    answer holds none of it."""
    full, limited, ok, markers = set(full), set(limited), tuple(ok), list(markers)
    reduced = tuple(limited_ok) or ok
    problems = []
    for actor, response in answers.items():
        text = body(response)
        leaked = [m for m in markers if m in text]
        if actor in full:
            if response.status_code not in ok:
                problems.append(f"{actor}: expected {ok}, got {response.status_code}")
        elif actor in limited:
            if response.status_code not in reduced or leaked:
                problems.append(f"{actor}: expected a reduced answer, got {response.status_code}"
                                f" with {leaked}")  # fmt: skip
        elif not refused(response, kind, refusal) or leaked:
            problems.append(f"{actor}: expected a refusal, got {response.status_code} {leaked}")
    assert not problems, "\n".join(problems)


# --- The scene -------------------------------------------------------------------------------


class Scene:
    """What the routes are asked about, built through the real services when a route first
    needs it: a change of civil-status record of the applicant at Phường Hạc Thành
    (received with BM.01, one scanned paper, assigned to its specialist, paid through the
    bank with a signed receipt, being processed); a private dataset of Hạc Thành with a
    table; one more API token of the applicant; the applicant's cooperative, its products,
    OCOP applications, a certified product with a batch of stamps and its labels, and a
    counterfeit signal; official documents of Sở Tư pháp: a draft, and a dispatch issued and
    delivered to Sở Nông nghiệp và Môi trường (its incoming document there)."""

    def __init__(self, client: Client) -> None:
        self.bank_client = client
        self.matrix = Matrix(cast())
        self.applicant = user("038090000001")

    # The dossier, its paper, its BM.01 and its payment.
    @cached_property
    def dossier(self) -> Any:
        from test_payments import bank_through, pending
        from tinhso.dossiers.models import Dossier

        dossier = paying_dossier(self.applicant)
        payment = pending(dossier)
        status, _answer = bank_through(self.bank_client).pay(payment.vietqr())
        assert status == 200
        dossier = Dossier.objects.get(pk=dossier.pk)
        assert dossier.state == "processing"
        return dossier

    @cached_property
    def payment(self) -> Any:
        payment = self.dossier.payments.get()
        assert payment.receipt_id is not None
        return payment

    @cached_property
    def file(self) -> Any:
        return self.dossier.files.get()

    @cached_property
    def bm01(self) -> Any:
        from tinhso.dossiers.models import DocumentKind

        return self.dossier.documents.get(kind=DocumentKind.BM01)

    def official(self, suffix: str = "") -> str:
        return f"/can-bo/ho-so/{self.dossier.code}/{suffix}"

    # Open data.
    PRIVATE_TITLE = "Bảng riêng của ma trận quyền"
    PRIVATE_TAG = "the-rieng-ma-tran"

    @cached_property
    def private_dataset(self) -> Any:
        """A dataset of Hạc Thành its publisher has not published, with a tag of its own, in
        a data field, with a CSV table."""
        from tinhso.opendata.formats import detect
        from tinhso.opendata.models import Theme
        from tinhso.opendata.services import ResourceInput, dataset_create, resource_create

        publisher = self.matrix.people["publisher"]
        assert publisher is not None
        dataset = dataset_create(
            actor=publisher,
            data={"name": "ma-tran-rieng", "title": self.PRIVATE_TITLE,
                  "owner_org": hac_thanh().code, "tags": [self.PRIVATE_TAG],
                  "groups": [Theme.objects.order_by("name").first().name]},  # type: ignore[union-attr]
        )  # fmt: skip
        resource_create(
            actor=publisher,
            dataset=dataset,
            data=ResourceInput(
                name="Bảng", file=detect("bang.csv", "Mã,Tên\r\n1,Ma trận quyền\r\n".encode())
            ),
        )
        assert dataset.private
        assert dataset.tags.filter(name=self.PRIVATE_TAG).exists()
        assert dataset.themes.exists()
        return dataset

    @cached_property
    def private_resource(self) -> Any:
        return self.private_dataset.resources.get()

    # Citizens' reports.
    @cached_property
    def report(self) -> Any:
        """A pothole the applicant reported at Hạc Thành with a photo (their name not to be
        shown), accepted, assigned to the field worker, answered: waiting for their rating."""
        from decimal import Decimal

        from test_feedback import jpeg_with_location
        from tinhso.feedback.services import Photo, ReportDraft, report_act, report_submit

        report = report_submit(ReportDraft(
            category_code="o-ga", description="Ổ gà trước cổng chợ", latitude=Decimal("19.807"),
            longitude=Decimal("105.7765"), answers={"muc_do": "vua"}, reporter=self.applicant,
            photos=[Photo("anh.jpg", jpeg_with_location((640, 480)))],
        ))  # fmt: skip
        from tinhso.core.outbox import outbox_deliver_pending

        outbox_deliver_pending()  # the photo, cleaned after commit by the worker
        receiver, worker = user("phananh.hacthanh"), user("hientruong.hacthanh")
        report = report_act(report=report, actor=receiver, action="accept", version=1)
        report = report_act(
            report=report, actor=receiver, action="assign", version=2, assignee=worker
        )
        return report_act(report=report, actor=worker, action="answer", version=3, note="Đã vá.")

    @cached_property
    def report_photo(self) -> Any:
        return self.report.photos.get()

    # Accounts.
    @cached_property
    def applicant_token(self) -> Any:
        """An API token of the applicant, other than the one the matrix signs in with."""
        row, _plain = api_token_create(user=self.applicant, name="matrix-owned")
        return row

    # OCOP products and stamps (through the services, as tests/test_products.py builds them).
    @cached_property
    def producer(self) -> Any:
        """HTX Nem chua Hạc Thành, the applicant's cooperative (tax code 2800123452), its
        address and phone the applicant's own."""
        from test_products import business

        return business()

    @cached_property
    def product(self) -> Any:
        from test_products import product

        return product(self.producer)

    @cached_property
    def application(self) -> Any:
        """The OCOP application of `product`, with one PNG as evidence: accepted by the
        council's secretary, scored (76 points) by its scorer, waiting for the leader."""
        from test_products import act, applied, scores

        application = act(applied(self.product), "ocop.thuky", "accept")
        application = act(application, "ocop.chamdiem", "score", scores=scores(76))
        assert application.state == "scored"
        return application

    @cached_property
    def evidence(self) -> Any:
        return self.application.files.get()

    @cached_property
    def submitted(self) -> Any:
        """An application of another product of the producer, as sent: for the secretary."""
        from test_products import applied, product

        return applied(product(self.producer, name="Chè lam gừng"))

    @cached_property
    def scoring(self) -> Any:
        """An application of another product, accepted: for the scorer."""
        from test_products import act, applied, product

        return act(applied(product(self.producer, name="Bánh gai")), "ocop.thuky", "accept")

    @cached_property
    def unrated_product(self) -> Any:
        """A product of the producer never applied for."""
        from test_products import product

        return product(self.producer, name="Kẹo lạc")

    @cached_property
    def product_photo(self) -> Any:
        """A photo of the unrated product, cleaned by the worker (its EXIF place gone)."""
        from test_feedback import jpeg_with_location
        from tinhso.core.outbox import outbox_deliver_pending
        from tinhso.products.services import product_save

        item = self.unrated_product
        photos = [("keo.jpg", jpeg_with_location())]
        product_save(producer=item.producer, actor=item.producer.owner, name=item.name,
                     group=item.group, product=item, photos=photos)  # fmt: skip
        outbox_deliver_pending()
        return item.photos.get()

    @cached_property
    def certified_product(self) -> Any:
        """Chả tôm Hạc Thành, certified 4 stars through accept, score and approve."""
        from test_products import certified, product

        item = product(self.producer, name="Chả tôm Hạc Thành")
        certified(item)
        item.refresh_from_db()
        assert item.stars == 4
        return item

    @cached_property
    def batch(self) -> Any:
        """50 stamps of the certified product (lot L2611-01), issued by the worker."""
        from test_products import order

        batch = order(self.certified_product, quantity=50)
        assert batch.state == "issued"
        return batch

    @cached_property
    def stamp(self) -> Any:
        return self.batch.stamps.order_by("number").first()

    @cached_property
    def scan(self) -> Any:
        """A person's scan of the stamp (its page opened)."""
        from tinhso.products.scans import scan_stamp

        return scan_stamp(self.stamp, client="matrix").scan

    @cached_property
    def sheet(self) -> Any:
        """The batch's labels (one part, made at once for a batch this size)."""
        sheet = self.batch.sheets.get()
        assert sheet.storage_name
        return sheet

    @cached_property
    def signal(self) -> Any:
        """A serial never issued scanned under the batch's lot: the inspectors' signal."""
        from tinhso.products.models import Signal
        from tinhso.products.scans import scan_unknown

        scan_unknown(self.certified_product, serial="FAKE1", lot=self.batch.lot, client="x")
        return Signal.objects.get(product=self.certified_product)

    # Official documents (through the services, as tests/test_documents_flow.py moves one).
    DOCUMENT_SUBJECT = "Phối hợp rà soát thủ tục của ma trận quyền"

    def _document_draft(self, subject: str) -> Any:
        """A dispatch of Sở Tư pháp to Sở Nông nghiệp và Môi trường, drafted by its
        specialist (cv.tuphap) at the unit HCTP, with one PDF attached."""
        from tinhso.documents.files import check_attachment
        from tinhso.documents.models import RecipientKind, Unit
        from tinhso.documents.services import RecipientIn, draft_save
        from tinhso.dossiers.demo import simple_pdf

        stp, snnmt = agency("stp"), agency("snnmt")
        pdf = check_attachment(None, name="phu-luc.pdf", content=simple_pdf(["phu luc"]))
        return draft_save(
            actor=user("cv.tuphap"), agency=stp, unit=Unit.objects.get(agency=stp, code="HCTP"),
            doc_type="CV", subject=subject, content="Sở Tư pháp đề nghị...\n\nTrân trọng.",
            recipients=[RecipientIn(kind=RecipientKind.AGENCY, name=snnmt.name, agency=snnmt)],
            files=[pdf],
        )  # fmt: skip

    @cached_property
    def draft(self) -> Any:
        """A draft of Sở Tư pháp's specialist, not yet submitted."""
        return self._document_draft(self.DOCUMENT_SUBJECT + " (dự thảo)")

    @cached_property
    def outgoing(self) -> Any:
        """A dispatch of Sở Tư pháp submitted by its specialist, forwarded by the head of
        unit, approved (signed) by the leader, issued by the clerk, and delivered (the
        worker's run) to Sở Nông nghiệp và Môi trường."""
        from tinhso.core.outbox import outbox_deliver_pending
        from tinhso.documents.models import Outgoing, OutgoingStatus
        from tinhso.documents.services import outgoing_act

        outgoing = self._document_draft(self.DOCUMENT_SUBJECT)
        for who, action in (("cv.tuphap", "submit"), ("tp.tuphap", "forward"),
                            ("lanhdao", "approve"), ("vanthu.tuphap", "issue")):  # fmt: skip
            outgoing = Outgoing.objects.get(pk=outgoing.pk)
            outgoing_act(outgoing=outgoing, actor=user(who), action=action,
                         version=outgoing.version)  # fmt: skip
        outbox_deliver_pending()
        outgoing = Outgoing.objects.get(pk=outgoing.pk)
        assert outgoing.status == OutgoingStatus.ISSUED
        return outgoing

    @cached_property
    def incoming(self) -> Any:
        """The dispatch as Sở Nông nghiệp và Môi trường received it: arrived, to register."""
        from tinhso.documents.models import Incoming, IncomingStatus

        incoming = Incoming.objects.get(
            agency=agency("snnmt"), document_id=self.outgoing.document_id
        )
        assert incoming.status == IncomingStatus.ARRIVED
        return incoming

    def stamp_path(self, serial: str = "") -> str:
        """The address of a stamp of the batch (its GS1 Digital Link URI's path)."""
        from tinhso.products.labels_service import stamp_uri

        uri = stamp_uri(self.certified_product.gtin, self.batch.lot, serial or self.stamp.serial)
        return "/" + uri.split("/", 3)[3]


def paying_dossier(citizen: User) -> Any:
    """A change of civil-status record (15,000 đ, one scanned paper) asked of Phường Hạc
    Thành: received, assigned to its specialist, waiting for the fee."""
    from test_submission import submission
    from tinhso.accounts.selectors import identity_profile
    from tinhso.catalog.eform import form_sample
    from tinhso.catalog.models import Procedure
    from tinhso.core import files
    from tinhso.dossiers.demo import simple_pdf
    from tinhso.dossiers.services import Attachment, dossier_submit

    procedure = Procedure.objects.get(code="TH.HT.07")
    scan = files.check_upload(None, name="can-cu.pdf", content=simple_pdf(["can cu"]))
    dossier = dossier_submit(
        submission=submission(
            citizen, procedure=procedure,
            form_data=form_sample(procedure.form_schema, identity_profile(citizen)),
            attachments=[Attachment(paper=p, upload=scan) for p in procedure.papers.all()
                         if not p.eform],
        )
    )  # fmt: skip
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    return act(dossier, "chuyenvien.hacthanh", "request_payment")


# --- Routes ----------------------------------------------------------------------------------

Args = Callable[[Scene], Mapping[str, object]]
Data = Callable[[Scene, str], Any]


@dataclass(frozen=True)
class Route:
    """One page or API operation, and who gets what from it (see the module docstring)."""

    method: str
    # A Django URL pattern, an API operation's path ("/api/v1/…") or "ckan:<action>"; with
    # `path`, a label (regex routes).
    route: str
    full: frozenset[str] | set[str] = frozenset()
    limited: frozenset[str] | set[str] = frozenset()
    ok: tuple[int, ...] = (200,)
    limited_ok: tuple[int, ...] = ()  # the statuses of a reduced answer, when not `ok`
    refusal: tuple[int, ...] = REFUSALS  # the statuses that count as a refusal here
    args: Args | None = None  # the route's parameters, from the scene
    path: Callable[[Scene], str] | None = None  # the address itself, for regex routes
    data: Data | Mapping[str, object] | None = None  # query (GET) or body, per actor
    body: str = "form"  # form (multipart when it holds a file) | json
    markers: Callable[[Scene], list[str]] | None = None  # default PERSONAL_MARKERS
    extra: tuple[str, ...] = ()  # actors added to the cast (EXTRA)
    settings: Mapping[str, object] = field(default_factory=dict)
    before: Callable[[Scene], None] | None = None  # e.g. forget earlier reads
    check: Callable[[Scene, dict[str, HttpResponse]], None] | None = None  # more assertions
    writes_when_refused: str = ""  # why a refusal is recorded (the bank's callback)
    name: str = ""

    @property
    def kind(self) -> str:
        return "api" if self.route.startswith(("/api/", "ckan:", "api/")) else "web"

    def address(self, scene: Scene) -> str:
        if self.path is not None:
            return self.path(scene)
        if self.route.startswith("ckan:"):
            return "/api/3/action/" + self.route.removeprefix("ckan:")
        values = self.args(scene) if self.args is not None else {}
        if self.route.startswith("/"):
            return self.route.format(**values)
        filled = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.route)
        return "/" + filled

    def actors(self) -> list[str]:
        return [*ACTORS, *self.extra]

    def __str__(self) -> str:
        label = f"{self.method} {self.route}"
        return f"{label} ({self.name})" if self.name else label


def _request(route: Route, client: Client, address: str, data: Any) -> HttpResponse:
    if route.method == "GET":
        return client.get(address, data or {})
    if route.body == "json":
        return client.generic(
            route.method, address, json.dumps(data or {}), content_type="application/json"
        )
    if route.method == "POST":
        return client.post(address, data or {})
    return client.generic(route.method, address)


def _writes(scene: Scene) -> tuple[int, int]:
    """Audit entries, and reads of the applicant's personal data in their log."""
    return (
        AuditEntry.objects.count(),
        PersonalDataAccess.objects.filter(citizen=scene.applicant).count(),
    )


def check_route(route: Route, scene: Scene) -> dict[str, HttpResponse]:
    """Request the route as every actor (those outside `full` first) and assert its
    matrix; returns the answers for further checks."""
    full = set(route.full)
    actors = route.actors()
    unknown = (full | set(route.limited)) - set(actors)
    assert not unknown, f"{route}: not in the cast: {unknown}"
    order = [a for a in actors if a not in full] + [a for a in actors if a in full]
    answers: dict[str, HttpResponse] = {}
    wrote = []
    with override_settings(**route.settings):
        if route.before is not None:
            route.before(scene)
        markers = route.markers(scene) if route.markers is not None else PERSONAL_MARKERS
        for actor in order:
            client = scene.matrix.client(actor, route.kind)
            address = route.address(scene)
            data = route.data(scene, actor) if callable(route.data) else route.data
            audit, reads = _writes(scene)
            answers[actor] = _request(route, client, address, data)
            audit_after, reads_after = _writes(scene)
            if actor in full or route.writes_when_refused:
                continue
            # A reduced answer is no read of the applicant's data; a refusal writes nothing.
            if reads_after != reads or (actor not in route.limited and audit_after != audit):
                wrote.append(actor)
        assert not wrote, f"{route}: written by actors outside `full`: {wrote}"
        assert_matrix(
            {a: answers[a] for a in actors}, full=full, limited=route.limited,
            kind=route.kind, markers=markers, ok=route.ok, refusal=route.refusal,
            limited_ok=route.limited_ok,
        )  # fmt: skip
        if route.check is not None:
            route.check(scene, answers)
    return answers


def route_id(route: Route) -> str:
    return str(route)
