"""A permission matrix for pages and endpoints (in the spirit of NetBox's ViewTestCases):
every request is made as each actor of a fixed cast, and the test states which actors may
see personal data, which see a reduced answer, and that everyone else is refused and
learns nothing. The cast covers anonymous, the applicant, another citizen, an official of
another agency, officials of the parent agency, the right agency's wrong roles, and the
right roles (docs/adr/0015-least-privilege.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.test import Client

from tinhso.accounts.models import User
from tinhso.accounts.roles import AGENCY_ADMIN, LEADER, SPECIALIST
from tinhso.accounts.services import api_token_create, membership_grant, official_create
from tinhso.agencies.models import Agency
from tinhso.catalog.roles import CATALOG_EDITOR
from tinhso.opendata.roles import PUBLISHER

# The cast. Officials of Phường Hạc Thành handle the test dossiers.
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
HANDLERS = {"receiver", "specialist", "leader"}  # the personal-data roles of the agency

# What of the applicant (Nguyễn Văn An) must not reach anyone without the right.
PERSONAL_MARKERS = ["038090000001", "0912000001", "Lê Lai"]


def hac_thanh() -> Agency:
    return Agency.objects.get(admin_unit_name="Phường Hạc Thành")


def province() -> Agency:
    return Agency.objects.get(level="province", parent__isnull=True)


def cast() -> dict[str, User | None]:
    """Every actor of the matrix (None: anonymous)."""
    people: dict[str, User | None] = {"anonymous": None}
    for name, username in {**CITIZENS, **DEMO_OFFICIALS}.items():
        people[name] = User.objects.get(username=username)
    for name, (where, role) in MADE_OFFICIALS.items():
        user = official_create(actor=None, username=f"matrix.{name}", full_name=name)
        agency = province() if where == "province" else hac_thanh()
        membership_grant(actor=None, user=user, agency=agency, role=role)
        people[name] = user
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
            user = self.people[actor]
            if user is not None and kind == "web":
                client.force_login(user)
            if user is not None and kind == "api":
                _row, plain = api_token_create(user=user, name="matrix")
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


def refused(response: HttpResponse, kind: str) -> bool:
    """A refusal that reveals nothing: sign in first, forbidden, or not found."""
    if kind == "web" and response.status_code == 302:
        return "/dang-nhap/" in response["Location"]
    return response.status_code in (401, 403, 404)


def assert_matrix(
    answers: dict[str, HttpResponse],
    *,
    full: set[str],
    limited: set[str] = frozenset(),  # type: ignore[assignment]
    kind: str = "web",
    markers: Iterable[str] = PERSONAL_MARKERS,
    ok: Iterable[int] = (200,),
) -> None:
    """`full` actors get the answer with the personal data; `limited` ones a successful
    answer without it; every other actor is refused and the answer holds none of it."""
    problems = []
    for actor, response in answers.items():
        text = body(response)
        leaked = [m for m in markers if m in text]
        if actor in full:
            if response.status_code not in ok:
                problems.append(f"{actor}: expected {ok}, got {response.status_code}")
        elif actor in limited:
            if response.status_code not in ok or leaked:
                problems.append(f"{actor}: expected a reduced answer, got {response.status_code}"
                                f" with {leaked}")  # fmt: skip
        elif not refused(response, kind) or leaked:
            problems.append(f"{actor}: expected a refusal, got {response.status_code} {leaked}")
    assert not problems, "\n".join(problems)
