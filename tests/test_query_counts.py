"""Query counts of the main pages and API lists against their checked-in baselines
(tests/query_counts/<module>.json; query_baseline.py says how to refresh them). Every list
is measured over several rows made through the real services, so a query per row shows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from flows import act, user
from query_baseline import query_count_check
from test_payments import bank_through, pending, waiting_for_payment
from test_submission import BIRTH, hac_thanh, submission
from tinhso.accounts.models import User
from tinhso.dossiers.inbox import inbox_counts
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import dossier_submit
from tinhso.opendata.models import Dataset
from tinhso.payments.models import Payment
from tinhso.signing.models import SignedDocument

pytestmark = pytest.mark.django_db


@dataclass
class Scene:
    citizen: User
    dossiers: list[Dossier]
    finished: Dossier
    payment: Payment

    def client(self, who: str | User) -> Client:
        client = Client()
        client.force_login(user(who) if isinstance(who, str) else who)
        return client


@pytest.fixture
def scene(citizen: User, other_citizen: User) -> Scene:
    """Eight dossiers at Hạc Thành from two citizens: new, received, processing, asked for
    more papers, finished, returned, and two waiting for a fee (one paid by the bank)."""
    dossiers = [dossier_submit(submission=submission(c)) for c in (citizen, other_citizen)]
    received = act(dossier_submit(submission=submission(citizen)), "tiepnhan.hacthanh", "accept")
    specialist = user("chuyenvien.hacthanh")
    processing = act(
        act(dossier_submit(submission=submission(other_citizen)), "tiepnhan.hacthanh", "accept"),
        "tiepnhan.hacthanh", "assign", assignee=specialist,
    )  # fmt: skip
    more = act(
        act(
            act(dossier_submit(submission=submission(citizen)), "tiepnhan.hacthanh", "accept"),
            "tiepnhan.hacthanh", "assign", assignee=specialist,
        ),
        specialist, "ask_more",
    )  # fmt: skip
    finished = dossier_submit(submission=submission(citizen))
    for who, action in [("tiepnhan.hacthanh", "accept"), ("tiepnhan.hacthanh", "assign"),
                        ("chuyenvien.hacthanh", "forward"), ("lanhdao.hacthanh", "approve"),
                        ("vanthu.hacthanh", "issue")]:  # fmt: skip
        extra = {"assignee": specialist} if action == "assign" else {}
        finished = act(finished, who, action, **extra)
    returned = act(
        act(
            act(
                act(
                    act(
                        dossier_submit(submission=submission(other_citizen)),
                        "tiepnhan.hacthanh", "accept",
                    ),
                    "tiepnhan.hacthanh", "assign", assignee=specialist,
                ),
                specialist, "forward",
            ),
            "lanhdao.hacthanh", "approve",
        ),
        "vanthu.hacthanh", "issue",
    )  # fmt: skip
    returned = act(returned, "tiepnhan.hacthanh", "return_result")
    paid = waiting_for_payment(citizen)
    bank_through(Client()).pay(pending(paid).vietqr())
    waiting = waiting_for_payment(citizen)
    dossiers += [received, processing, more, finished, returned, paid, waiting]
    return Scene(citizen, dossiers, finished, pending(waiting))


def test_dossiers(scene: Scene, client: Client, token_for: Any) -> None:
    receiver, specialist = scene.client("tiepnhan.hacthanh"), scene.client("chuyenvien.hacthanh")
    mine = scene.client(scene.citizen)
    code = scene.finished.code
    check = partial(query_count_check, "dossiers")
    check("inbox page", lambda: receiver.get("/can-bo/ho-so/"))
    check("inbox page, processing", lambda: specialist.get("/can-bo/ho-so/?hop=xu-ly"))
    check("inbox counts", lambda: inbox_counts(user("tiepnhan.hacthanh")))
    check("dossier page", lambda: receiver.get(f"/can-bo/ho-so/{code}/"))
    check("register page", lambda: receiver.get("/can-bo/so-theo-doi/"))
    check("my dossiers page", lambda: mine.get("/ho-so-cua-toi/"))
    check("my dossier page", lambda: mine.get(f"/ho-so-cua-toi/{scene.finished.public_id}/"))
    check("submit page", lambda: mine.get(f"/thu-tuc/{BIRTH}/nop-ho-so/"))
    check("tracking page", lambda: client.get("/tra-cuu-ho-so/", {"ma": code}))
    official, citizen = token_for(user("tiepnhan.hacthanh")), token_for(scene.citizen)
    check(
        "GET /api/v1/dossiers (official)", lambda: client.get("/api/v1/dossiers", headers=official)
    )
    check(
        "GET /api/v1/dossiers?box (official)",
        lambda: client.get("/api/v1/dossiers?box=tiep-nhan", headers=official),
    )
    check("GET /api/v1/dossiers (citizen)", lambda: client.get("/api/v1/dossiers", headers=citizen))
    check(
        "GET /api/v1/dossiers/{code}",
        lambda: client.get(f"/api/v1/dossiers/{code}", headers=official),
    )
    check("GET /api/v1/track/{code}", lambda: client.get(f"/api/v1/track/{code}"))


def test_payments(scene: Scene, client: Client, token_for: Any) -> None:
    check = partial(query_count_check, "payments")
    accountant = scene.client("ketoan.hacthanh")
    reference = scene.payment.reference
    check("accountant page", lambda: accountant.get("/can-bo/thanh-toan/"))
    mine = scene.client(scene.citizen)
    check("payment page", lambda: mine.get(f"/thanh-toan/{reference}/"))
    headers = token_for(scene.citizen)
    check(
        "GET /api/v1/payments/{reference}",
        lambda: client.get(f"/api/v1/payments/{reference}", headers=headers),
    )


def test_agencies_and_catalog(scene: Scene, client: Client) -> None:
    code = hac_thanh().code
    agencies = partial(query_count_check, "agencies")
    agencies("directory page", lambda: client.get("/co-quan/"))
    agencies("directory page, communes", lambda: client.get("/co-quan/?level=commune"))
    agencies("agency page", lambda: client.get(f"/co-quan/{code}/"))
    agencies("GET /api/v1/agencies", lambda: client.get("/api/v1/agencies?page_size=200"))
    agencies("GET /api/v1/agencies/{code}", lambda: client.get(f"/api/v1/agencies/{code}"))
    agencies(
        "GET /api/v1/calendar/due",
        lambda: client.get(
            f"/api/v1/calendar/due?agency={code}&start=2026-03-02T09:00:00%2B07:00&days=5"
        ),
    )
    catalog = partial(query_count_check, "catalog")
    catalog("search page", lambda: client.get("/thu-tuc/"))
    catalog("search page, words", lambda: client.get("/thu-tuc/", {"q": "dang ky"}))
    catalog("procedure page", lambda: client.get(f"/thu-tuc/{BIRTH}/"))
    catalog("GET /api/v1/procedures", lambda: client.get("/api/v1/procedures?page_size=50"))
    catalog("GET /api/v1/procedures/{code}", lambda: client.get(f"/api/v1/procedures/{BIRTH}"))


def test_opendata(client: Client, settings: Any, seeded_files: Any, db: None) -> None:
    settings.MEDIA_ROOT = seeded_files
    check = partial(query_count_check, "opendata")
    dataset = Dataset.objects.filter(private=False, resources__datastore__isnull=False).first()
    assert dataset is not None
    resource = dataset.resources.get()
    check("home page", lambda: client.get("/du-lieu-mo/"))
    check("search page", lambda: client.get("/du-lieu-mo/tim-kiem/", {"q": "dan so"}))
    check("dataset page", lambda: client.get(f"/du-lieu-mo/{dataset.name}/"))
    check(
        "resource page", lambda: client.get(f"/du-lieu-mo/{dataset.name}/tai-nguyen/{resource.id}/")
    )
    check("package_search", lambda: client.get("/api/3/action/package_search?rows=50"))
    check("package_show", lambda: client.get(f"/api/3/action/package_show?id={dataset.name}"))
    check(
        "datastore_search",
        lambda: client.get(f"/api/3/action/datastore_search?resource_id={resource.id}&limit=50"),
    )
    check("catalog.ttl", lambda: client.get("/catalog.ttl"))
    publisher = Client()
    publisher.force_login(user("dulieu.yte"))
    check("publisher's datasets page", lambda: publisher.get("/du-lieu-mo/quan-ly/"))


def test_platform_accounts_and_signing(scene: Scene, client: Client) -> None:
    check = partial(query_count_check, "platform")
    check("home page", lambda: client.get("/"))
    check("healthz", lambda: client.get("/healthz"))
    period = {
        "agency": "000.00.00.H56",
        "start": "2026-01-01",
        "end": timezone.localdate().isoformat(),
    }
    check("GET /api/v1/figures", lambda: client.get("/api/v1/figures", period))
    check("GET /api/v1/indicators", lambda: client.get("/api/v1/indicators"))
    accounts = partial(query_count_check, "accounts")
    accounts("sign-in page", lambda: client.get("/dang-nhap/"))
    mine = scene.client(scene.citizen)
    accounts("account page", lambda: mine.get("/tai-khoan/"))
    document = SignedDocument.objects.filter(reference=scene.finished.code).first()
    assert document is not None
    signing = partial(query_count_check, "signing")
    signing("verification page", lambda: client.get(f"/xac-thuc/{document.public_id}/"))
    signing("GET /api/v1/audit/checkpoints", lambda: client.get("/api/v1/audit/checkpoints"))


def test_a_changed_count_fails_naming_the_repeated_statement(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import query_baseline
    from tinhso.agencies.models import Agency

    monkeypatch.setattr(query_baseline, "BASELINES", tmp_path)
    monkeypatch.setattr(query_baseline, "UPDATE", False)  # checks, even in a refresh run
    (tmp_path / "example.json").write_text('{"agency pages": 1}')
    codes = list(Agency.objects.values_list("code", flat=True)[:3])

    def one_by_one() -> list[Agency]:
        return [Agency.objects.get(code=c) for c in codes]

    with pytest.raises(AssertionError) as failure:
        query_count_check("example", "agency pages", one_by_one)
    assert "'agency pages' ran 3 queries; the baseline" in str(failure.value)
    assert '3× SELECT … FROM "agencies_agency" WHERE' in str(failure.value)
    with pytest.raises(AssertionError, match="has no baseline"):
        query_count_check("example", "a new page", one_by_one)
    monkeypatch.setattr(query_baseline, "UPDATE", True)
    # A refresh in several processes would lose names: it asks for one.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    with pytest.raises(AssertionError, match="refresh in one process"):
        query_count_check("example", "agency pages", one_by_one)
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    query_count_check("example", "agency pages", one_by_one)
    assert (tmp_path / "example.json").read_text() == '{\n  "agency pages": 3\n}\n'
