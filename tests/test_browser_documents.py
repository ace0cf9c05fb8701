"""Official documents in a real browser (Playwright driving Debian's chromium), across the
roles of two agencies: Sở Tư pháp's specialist drafts a công văn to Sở Nông nghiệp và Môi
trường, the head of unit sends it back with a reason, the specialist revises and resubmits,
the head forwards it, the leader approves and signs, the clerk issues it with the register's
next number; SNNMT's clerk registers it, its leader assigns it to a specialist, who drafts a
reply through the "Reply" link (on a phone-sized screen); back at the sender, the page shows
the recipient's whole trace (01 arrived, 03 registered, 04 assigned).

The test settings' immediate task backend signs the issued PDF inside the clerk's request;
the outbox (the edXML messages between the agencies) is delivered by the test between the
steps, standing in for the worker."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db.models import Max
from playwright.sync_api import expect

from test_browser import _sign_in, browser  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded_transactional_db"),
]

PHONE = {"width": 390, "height": 844}


class People:
    """One browser context per person, signed in once."""

    def __init__(self, browser: Any, live_server: Any) -> None:  # noqa: F811
        self.browser, self.live_server = browser, live_server
        self.tabs: dict[str, Any] = {}
        self.contexts: list[Any] = []

    def tab(self, username: str, **options: Any) -> Any:
        if username not in self.tabs:
            context = self.browser.new_context(locale="vi-VN", **options)
            self.contexts.append(context)
            tab = context.new_page()
            _sign_in(tab, self.live_server, username)
            self.tabs[username] = tab
        return self.tabs[username]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _act(tab: Any, url: str, action: str, note: str = "") -> None:
    tab.goto(url)
    form = tab.locator(f"form:has(input[name=action][value={action}])")
    if note:
        form.locator("textarea").fill(note)
    form.locator("button[type=submit]").click()
    tab.wait_for_load_state()
    expect(tab.get_by_role("status").first).to_be_visible()


def test_a_document_drafted_reviewed_issued_received_assigned_and_answered(
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    from tinhso.accounts.demo import demo_agency
    from tinhso.core.outbox import outbox_deliver_pending
    from tinhso.documents.models import Incoming, IncomingStatus, Outgoing, OutgoingStatus

    stp, snnmt = demo_agency("STP"), demo_agency("SNNMT")
    people = People(browser, live_server)
    base = live_server.url
    try:
        # The specialist drafts, on a phone.
        cv = people.tab("cv.tuphap", viewport=PHONE)
        cv.goto(base + "/can-bo/van-ban/")
        cv.locator("main a[href='/can-bo/van-ban/soan/']").click()
        cv.locator("#id_doc_type").select_option("CV")
        cv.locator("#id_subject").fill("Phối hợp rà soát thủ tục hành chính")
        cv.locator("#id_content").fill("Sở Tư pháp đề nghị Sở phối hợp rà soát...")
        cv.locator("#id_agencies").select_option(str(snnmt.pk))
        cv.locator("main button.primary").click()
        cv.wait_for_url(re.compile(r"/can-bo/van-ban/di/\d+/$"))
        url = cv.url
        outgoing = Outgoing.objects.get(pk=int(url.rstrip("/").rsplit("/", 1)[-1]))
        assert outgoing.author.username == "cv.tuphap"
        _act(cv, url, "submit")

        # The head of unit sends it back with a reason.
        head = people.tab("tp.tuphap")
        head.goto(base + "/can-bo/van-ban/?hop=xem-xet")
        expect(head.locator(f"main a[href='/can-bo/van-ban/di/{outgoing.pk}/']")).to_have_count(1)
        _act(head, url, "send_back", "Ghi rõ năm rà soát trong trích yếu.")

        # The specialist revises it and submits it again.
        cv.goto(url)
        assert "Ghi rõ năm rà soát" in cv.locator("main").inner_text()
        cv.locator(f"main a[href='/can-bo/van-ban/di/{outgoing.pk}/sua/']").click()
        cv.locator("#id_subject").fill("Phối hợp rà soát thủ tục hành chính năm 2026")
        cv.locator("main button.primary").click()
        cv.wait_for_url(url)
        _act(cv, url, "submit")

        _act(head, url, "forward")
        _act(people.tab("lanhdao"), url, "approve")

        register_max = (
            Outgoing.objects.filter(agency=stp, status=OutgoingStatus.ISSUED, doc_type="CV")
            .exclude(pk=outgoing.pk)
            .aggregate(n=Max("number"))["n"]
            or 0
        )
        clerk = people.tab("vanthu.tuphap")
        _act(clerk, url, "issue")
        notation = clerk.locator("#notation").inner_text().strip()
        assert re.fullmatch(r"\d+/STP-HCTP", notation), notation
        assert int(notation.split("/")[0]) == register_max + 1
        outgoing.refresh_from_db()
        assert outgoing.status == OutgoingStatus.ISSUED
        assert outgoing.signed_id is not None
        clerk.goto(url)
        expect(clerk.locator("main a[href^='/xac-thuc/']")).to_have_count(1)

        # Delivered to SNNMT; its clerk registers it.
        outbox_deliver_pending()
        incoming = Incoming.objects.get(agency=snnmt, document_id=outgoing.document_id)
        in_url = f"{base}/can-bo/van-ban/den/{incoming.pk}/"
        nnmt_clerk = people.tab("vanthu.nnmt")
        nnmt_clerk.goto(base + "/can-bo/van-ban/?hop=vao-so")
        assert nnmt_clerk.locator(f"main a[href='/can-bo/van-ban/den/{incoming.pk}/']").count()
        _act(nnmt_clerk, in_url, "register")
        assert nnmt_clerk.locator("#incoming-number").inner_text().strip().isdecimal()
        outbox_deliver_pending()
        trace = [e.code for e in outgoing.recipients.get().trace.all()]
        assert trace == ["01", "03"], trace

        # Its leader assigns it to the specialist.
        leader = people.tab("lanhdao.nnmt")
        leader.goto(in_url)
        handler = incoming.agency.memberships.filter(user__username="cv.nnmt").first()
        assert handler is not None
        leader.locator("#lead").select_option(str(handler.user_id))
        leader.locator("#days").fill("5")
        leader.locator("form:has(input[value=assign]) button[type=submit]").click()
        leader.wait_for_load_state()
        incoming.refresh_from_db()
        assert incoming.status == IncomingStatus.ASSIGNED
        outbox_deliver_pending()

        # The specialist replies, on a phone, through the Reply link.
        nnmt_cv = people.tab("cv.nnmt", viewport=PHONE)
        nnmt_cv.goto(base + "/can-bo/van-ban/?hop=xu-ly")
        nnmt_cv.locator(f"main a[href='/can-bo/van-ban/den/{incoming.pk}/']").click()
        nnmt_cv.locator("main a[href*='tra-loi=']").click()
        assert nnmt_cv.locator("#id_agencies").evaluate(
            "s => Array.from(s.selectedOptions).map(o => o.value)"
        ) == [str(stp.pk)]
        nnmt_cv.locator("#id_content").fill("Sở Nông nghiệp và Môi trường thống nhất phối hợp.")
        nnmt_cv.locator("main button.primary").click()
        nnmt_cv.wait_for_url(re.compile(r"/can-bo/van-ban/di/\d+/$"))
        reply = Outgoing.objects.get(pk=int(nnmt_cv.url.rstrip("/").rsplit("/", 1)[-1]))
        assert reply.response_for_id == incoming.pk
        assert reply.agency_id == snnmt.pk
        assert reply.recipients.get().agency_id == stp.pk

        # Back at the sender: the whole trace.
        cv.goto(url)
        codes = [c.strip() for c in cv.locator("#recipients .code").all_inner_texts()]
        assert codes == ["01", "03", "04"], codes
    finally:
        people.close()
