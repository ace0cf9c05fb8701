"""Every page of the Vietnamese UI, walked as each demo role, reads in Vietnamese: no
untranslated message and no English-looking value (a code such as "online" shown as is).
The walk follows the links each role sees, from the home page and the role's own pages."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urlparse

import pytest
from django.test import Client

from flows import act, user
from test_submission import submission
from tinhso.dossiers.services import dossier_submit

pytestmark = pytest.mark.django_db

# Words an English UI is made of and Vietnamese never writes (as whole words).
ENGLISH = re.compile(
    r"\b(the|and|of|your|with|for|this|from|to|submit|submitted|dossiers?|status|search|"
    r"sign in|sign out|online|counter|working days?|pending|title|none|true|false|"
    r"procedures?|payments?|paid|received|accepted|refused|overdue|required|upload|download|"
    r"next|previous|page|yes|no|due|draft|clerk|leader|specialist|receiver|accountant|"
    r"publisher|forward|approve|assign|issue|withdraw|stop)\b",
    re.IGNORECASE,
)
SKIP_PREFIXES = ("/api/", "/quan-tri/", "/i18n/", "/dang-xuat/", "/static/", "/media/")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", ".json", ".ttl", ".rdf", ".jsonld", ".xml", ".ico",
                 ".txt", ".zip")  # fmt: skip
PAGES_PER_ROLE = 45
ROLES = [None, "038090000001", "tiepnhan.hacthanh", "chuyenvien.hacthanh", "lanhdao.hacthanh",
         "vanthu.hacthanh", "ketoan.hacthanh", "dulieu.yte", "bientap", "admin",
         "phananh.hacthanh", "hientruong.hacthanh"]  # fmt: skip
START = ["/", "/tai-khoan/", "/ho-so-cua-toi/", "/can-bo/ho-so/", "/can-bo/thanh-toan/",
         "/du-lieu-mo/", "/thu-tuc/", "/tra-cuu-ho-so/", "/xac-thuc/", "/phan-anh/",
         "/phan-anh/gui/", "/phan-anh/gui/?loai=rac-thai", "/can-bo/phan-anh/"]  # fmt: skip


class _Page(HTMLParser):
    """The text a reader meets (not scripts, styles, code samples or the language picker's
    'English'), and the page's links."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                      "meta", "source", "track", "wbr"})  # fmt: skip
    HIDDEN = frozenset({"script", "style", "code", "pre", "svg", "textarea"})

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag in self.VOID:
            if not self._hidden:
                self.text += [str(found[n]) for n in ("aria-label", "placeholder", "alt")
                              if found.get(n)]  # fmt: skip
            return
        if self._hidden or tag in self.HIDDEN or found.get("lang") == "en":
            self._hidden.append(tag)
        elif found.get("aria-label"):
            self.text.append(str(found["aria-label"]))

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def _english(text: list[str]) -> list[str]:
    return [t for t in text if ENGLISH.search(t)]


def _walk(client: Client) -> dict[str, list[str]]:
    seen: set[str] = set()  # paths: one visit per page, whatever its query
    queue = deque(START)
    found: dict[str, list[str]] = {}
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.popleft()
        if path.split("?")[0] in seen:
            continue
        seen.add(path.split("?")[0])
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="vi")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.content.decode())
        if bad := _english(page.text):
            found[path] = bad
        for href in page.links:
            url = urlparse(urldefrag(href)[0])
            if url.scheme or url.netloc or not url.path.startswith("/"):
                continue
            if url.path.startswith(SKIP_PREFIXES) or url.path.endswith(SKIP_SUFFIXES):
                continue
            if url.path not in seen:
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


@pytest.fixture
def dossiers_in_every_box(citizen: Any) -> None:
    """Dossiers waiting at each step, so the back-office pages have rows to show."""
    dossier_submit(submission=submission(citizen))
    moving = dossier_submit(submission=submission(citizen))
    act(moving, "tiepnhan.hacthanh", "accept")
    act(moving, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    approved = dossier_submit(submission=submission(citizen))
    act(approved, "tiepnhan.hacthanh", "accept")
    act(approved, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    act(approved, "chuyenvien.hacthanh", "forward", note="Đủ điều kiện")
    act(approved, "lanhdao.hacthanh", "approve")
    # Citizens' reports: one new, one answered (with a photo), for the reports' pages.
    from test_feedback import _submitted
    from tinhso.feedback.services import report_act

    _submitted(citizen)
    report = _submitted()
    receiver = user("phananh.hacthanh")
    report = report_act(report=report, actor=receiver, action="accept", version=1)
    report_act(report=report, actor=receiver, action="answer", version=2, note="Đã khắc phục.")


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_every_page_reads_in_vietnamese(role: str | None, dossiers_in_every_box: None) -> None:
    client = Client()
    if role is not None:
        client.force_login(user(role))
    assert _walk(client) == {}
