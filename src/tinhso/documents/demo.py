"""The documents' part of the demo (core.demo): the officials of the e-office (clerks,
specialists, heads of unit, leaders) of the province's People's Committee, two departments
and the two demo communes, and their internal units (before the demo PKI, so leaders and
clerks get signing certificates)."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tinhso.accounts.demo import demo_agency, demo_official_ensure
from tinhso.accounts.models import User
from tinhso.accounts.roles import LEADER
from tinhso.accounts.services import membership_grant
from tinhso.core.demo import DemoRun
from tinhso.documents import exchange, services
from tinhso.documents.models import (
    Assignment,
    DocType,
    Incoming,
    IncomingEvent,
    IncomingStatus,
    Message,
    MessageState,
    Outgoing,
    OutgoingEvent,
    OutgoingStatus,
    OutgoingVersion,
    Recipient,
    RecipientKind,
    TraceEntry,
    Unit,
)
from tinhso.documents.roles import CLERK, SPECIALIST, UNIT_HEAD

# Where: "province" (the province's People's Committee), a department's short name, or a
# commune's official name. (username, full name, role, where, title, unit code)
OFFICIALS = [
    ("vanthu.ubnd", "Lê Thị Ngân", CLERK, "province", "Văn thư Văn phòng UBND tỉnh", ""),
    ("cv.ubnd", "Phạm Văn Kiên", SPECIALIST, "province", "Chuyên viên Văn phòng UBND tỉnh", "VP"),
    ("tp.ubnd", "Đặng Thị Yến", UNIT_HEAD, "province", "Chánh Văn phòng UBND tỉnh", "VP"),
    ("lanhdao.ubnd", "Lê Đức Giang", LEADER, "province", "Phó Chủ tịch", ""),
    ("vanthu.tuphap", "Ngô Thị Hằng", CLERK, "STP", "Văn thư Sở Tư pháp", ""),
    ("cv.tuphap", "Trần Thị Hà", SPECIALIST, "STP", "Chuyên viên Phòng Hành chính tư pháp",
     "HCTP"),
    ("tp.tuphap", "Vũ Văn Nam", UNIT_HEAD, "STP", "Trưởng phòng Hành chính tư pháp", "HCTP"),
    ("vanthu.nnmt", "Hà Thị Thu", CLERK, "SNNMT", "Văn thư Sở Nông nghiệp và Môi trường", ""),
    ("cv.nnmt", "Lương Văn Tú", SPECIALIST, "SNNMT", "Chuyên viên Phòng Kế hoạch", "KH"),
    ("tp.nnmt", "Cao Thị Lý", UNIT_HEAD, "SNNMT", "Trưởng phòng Kế hoạch", "KH"),
    ("vanthu.hacthanh", "Trịnh Văn Long", CLERK, "Phường Hạc Thành", "Văn thư UBND phường", ""),
    ("cv.hacthanh", "Đinh Thị Hoa", SPECIALIST, "Phường Hạc Thành", "Công chức Văn phòng",
     "VP"),
    ("vanthu.hoanghoa", "Mai Thị Hương", CLERK, "Xã Hoằng Hóa", "Văn thư UBND xã", ""),
    ("cv.hoanghoa", "Lê Văn Thành", SPECIALIST, "Xã Hoằng Hóa", "Công chức Văn phòng", "VP"),
]  # fmt: skip

UNITS = {
    "province": [("VP", "Văn phòng UBND tỉnh")],
    "STP": [("VP", "Văn phòng Sở"), ("HCTP", "Phòng Hành chính tư pháp")],
    "SNNMT": [("VP", "Văn phòng Sở"), ("KH", "Phòng Kế hoạch - Tài chính")],
    "Phường Hạc Thành": [("VP", "Văn phòng HĐND và UBND")],
    "Xã Hoằng Hóa": [("VP", "Văn phòng HĐND và UBND")],
}


def demo_officials_step(run: DemoRun) -> None:
    """The e-office's officials and units (order < 70: the demo PKI then gives the leaders
    and clerks their certificates and every agency its seal). An official of another
    module's demo (a commune's clerk) takes the documents role too."""
    from tinhso.documents.models import Direction
    from tinhso.documents.services import register_default

    units: dict[tuple[str, str], Unit] = {}
    for where, listed in UNITS.items():
        agency = demo_agency(where)
        register_default(agency, Direction.OUTGOING)
        register_default(agency, Direction.INCOMING)
        for code, name in listed:
            units[(where, code)], _ = Unit.objects.get_or_create(
                agency=agency, code=code, defaults={"name": name}
            )
    for username, name, role, where, title, unit in OFFICIALS:
        agency = demo_agency(where)
        if not demo_official_ensure(
            username=username, full_name=name, role=role, agency=agency, title=title
        ):
            user = User.objects.get(username=username)
            membership_grant(actor=None, user=user, agency=agency, role=role, title=title)
        if unit:
            units[(where, unit)].members.add(User.objects.get(username=username))


# --- the demo's records ----------------------------------------------------------------------

# The second (demo) province: no server behind it in the demo; its documents arrive here as
# they would over the exchange (exchange.receive with this peer), and the statuses that go
# back to it wait in the mailbox its server would poll.
SECOND_PROVINCE = (exchange.DEMO_PEER.code, exchange.DEMO_PEER.name)
SECOND_ORGANS = exchange.DEMO_PEER.organs

# Who works the documents in each demo agency: (specialist, head of unit or "", leader,
# clerk, unit code).
DESKS = {
    "province": ("cv.ubnd", "tp.ubnd", "lanhdao.ubnd", "vanthu.ubnd", "VP"),
    "STP": ("cv.tuphap", "tp.tuphap", "lanhdao", "vanthu.tuphap", "HCTP"),
    "SNNMT": ("cv.nnmt", "tp.nnmt", "lanhdao.nnmt", "vanthu.nnmt", "KH"),
    "Phường Hạc Thành": ("cv.hacthanh", "", "lanhdao.hacthanh", "vanthu.hacthanh", "VP"),
    "Xã Hoằng Hóa": ("cv.hoanghoa", "", "lanhdao.hoanghoa", "vanthu.hoanghoa", "VP"),
}

TOPICS = [
    ("CV", "Đề nghị phối hợp rà soát thủ tục hành chính thuộc thẩm quyền giải quyết"),
    ("CV", "Góp ý dự thảo Quyết định quy định chức năng, nhiệm vụ"),
    ("CV", "Đôn đốc báo cáo kết quả thực hiện nhiệm vụ quý"),
    ("KH", "Kế hoạch kiểm tra công tác cải cách hành chính"),
    ("BC", "Báo cáo tình hình tiếp nhận, giải quyết hồ sơ trực tuyến"),
    ("TB", "Thông báo kết luận của Phó Chủ tịch tại cuộc họp giao ban"),
    ("GM", "Giấy mời dự hội nghị tập huấn chuyển đổi số"),
    ("QĐ", "Quyết định thành lập Tổ công tác triển khai Đề án 06"),
    ("TTr", "Tờ trình phê duyệt danh mục dịch vụ công trực tuyến toàn trình"),
    ("HD", "Hướng dẫn số hóa hồ sơ, kết quả giải quyết thủ tục hành chính"),
    ("CV", "Phòng, chống thiên tai và tìm kiếm cứu nạn mùa mưa bão"),
    ("CV", "Triển khai chương trình Mỗi xã một sản phẩm (OCOP)"),
    ("BC", "Báo cáo công tác phổ biến, giáo dục pháp luật"),
    ("CV", "Cung cấp thông tin phục vụ xây dựng cơ sở dữ liệu đất đai"),
    ("KH", "Kế hoạch tổ chức Ngày Pháp luật Việt Nam"),
]

CONTENT = (
    "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh, {agency} đề nghị các cơ quan, đơn vị "
    "triển khai thực hiện nội dung nêu trên, bảo đảm đúng tiến độ và chất lượng.\n\n"
    "Trong quá trình thực hiện, nếu có vướng mắc, đề nghị phản ánh về {agency} để được "
    "hướng dẫn.\n\nTrân trọng./."
)

OUTGOING_PLAN = [
    # (final state, how many in every 20) for the agencies with heads of unit.
    ("draft", 2),
    ("reviewing", 2),
    ("returned", 1),
    ("approving", 2),
    ("approved", 2),
    ("issued", 11),
]
# The states what arrives in an agency is moved on to, in turn (each agency's first few
# arrivals give every state, so every box has work).
INCOMING_FATES = [
    *("assigned", "arrived", "registered", "in_progress", "done", "refused", "done"),
    *("assigned", "arrived", "registered", "in_progress", "done", "done", "done"),
    *("arrived", "registered", "assigned", "in_progress", "done", "done"),
]


def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def demo_documents_step(run: DemoRun, *, scale: float = 1.0) -> None:
    """A few hundred documents over the past four months (with the demo's records only;
    tests make their own): drafts in every state in the People's Committee, two departments
    and the two demo communes; issued ones signed, sealed and delivered to the others,
    registered, assigned and handled there; paper ones scanned in; some from the second demo
    province; a recall asked and one accepted; some overdue. Every official has work."""
    if not run.dossiers or Outgoing.objects.exists() or Incoming.objects.exists():
        return
    _Seeder(scale).seed()


class _Seeder:
    def __init__(self, scale: float) -> None:
        self.rng = random.Random(233)  # noqa: S311 (a reproducible demo)
        self.scale = scale
        self.now = timezone.now()
        names = [d[i] for d in DESKS.values() for i in range(4) if d[i]]
        self.users = {u.username: u for u in User.objects.filter(username__in=names)}
        self.agencies = {where: demo_agency(where) for where in DESKS}
        self.units = {
            where: Unit.objects.get(agency=self.agencies[where], code=DESKS[where][4])
            for where in DESKS
        }
        # Days ago each outgoing document was drafted (its deliveries follow).
        self.age: dict[int, float] = {}
        self.incoming_age: dict[int, float] = {}

    def user(self, name: str) -> User:
        return self.users[name]

    # --- outgoing ------------------------------------------------------------------------

    def outgoing(self) -> list[Outgoing]:
        made = []
        plan: list[tuple[str, str]] = []
        for where in DESKS:
            if DESKS[where][1]:
                for state, count in OUTGOING_PLAN:
                    plan += [(where, state)] * _scaled(count * 2, self.scale)
            else:
                # Communes have no head of unit: their drafts wait for review.
                plan += [(where, "draft")] * _scaled(2, self.scale)
                plan += [(where, "reviewing")] * _scaled(3, self.scale)
        # Older first: numbers rise with the dates.
        aged = []
        for where, state in plan:
            days = self.rng.uniform(20, 120) if state == "issued" else self.rng.uniform(0, 12)
            aged.append((days, where, state))
        aged.sort(reverse=True)
        for days, where, state in aged:
            outgoing = self.draft(where, state)
            self.age[outgoing.pk] = days
            made.append(outgoing)
        return made

    def draft(self, where: str, state: str) -> Outgoing:
        specialist, head, leader, clerk, _unit = DESKS[where]
        agency, unit = self.agencies[where], self.units[where]
        doc_type, subject = self.rng.choice(TOPICS)
        others = [w for w in DESKS if w != where]
        recipients = [
            services.RecipientIn(
                kind=RecipientKind.AGENCY, name=self.agencies[w].name, agency=self.agencies[w]
            )
            for w in self.rng.sample(others, self.rng.choice([1, 1, 1, 2]))
        ]
        if self.rng.random() < 0.3:
            recipients.append(
                services.RecipientIn(kind=RecipientKind.UNIT, name=unit.name, unit=unit)
            )
        external = exchange.external_organs()
        if external and self.rng.random() < 0.1:
            organ, name, _peer = self.rng.choice(external)
            recipients.append(
                services.RecipientIn(kind=RecipientKind.EXTERNAL, name=name, organ_id=organ)
            )
        outgoing = services.draft_save(
            actor=self.user(specialist),
            agency=agency,
            unit=unit,
            doc_type=doc_type,
            subject=subject,
            content=CONTENT.format(agency=agency.name),
            recipients=recipients,
            urgency=self.rng.choice([0, 0, 0, 0, 1, 2]),
            reply_due=(self.now + timedelta(days=15)).date() if doc_type == "CV" else None,
        )
        order = ["draft", "reviewing", "approving", "approved", "issued"]
        path = [("submit", specialist, ""), ("forward", head, "")]
        path += [("approve", leader, ""), ("issue", clerk, "")]
        if state == "returned":
            steps = [path[0], ("send_back", head, "Đề nghị sửa trích yếu")]
        else:
            steps = path[: order.index(state)]
        for action, actor, note in steps:
            outgoing = services.outgoing_act(
                outgoing=outgoing,
                actor=self.user(actor),
                action=action,
                version=outgoing.version,
                note=note,
            )
            outgoing.refresh_from_db()
        return outgoing

    def issue_pending(self) -> None:
        """Sign what the issuing queued, now (the worker would, after the seed commits)."""
        from tinhso.core.documents import document_issue
        from tinhso.core.models import PendingDocument, PendingDocumentState

        pending = PendingDocument.objects.filter(
            kind=services.OUTGOING_PDF, state=PendingDocumentState.PENDING
        ).order_by("pk")
        for pk in pending.values_list("pk", flat=True):
            document_issue(pk)

    def deliver(self) -> None:
        from tinhso.core.outbox import outbox_deliver_pending

        self.quiet_second_province()
        for _round in range(100):
            if not outbox_deliver_pending(limit=500):
                return

    # --- incoming ------------------------------------------------------------------------

    def paper(self) -> None:
        from tinhso.core.files import CheckedFile

        senders = [
            "Bộ Tư pháp",
            "Bộ Nông nghiệp và Môi trường",
            "Tòa án nhân dân tỉnh Thanh Hóa",
            "Ban Quản lý dự án đầu tư xây dựng tỉnh",
            "Công ty TNHH Nông sản Hoằng Hóa",
        ]
        for index in range(_scaled(7, self.scale) * len(DESKS)):
            where = list(DESKS)[index % len(DESKS)]
            doc_type, subject = self.rng.choice(TOPICS)
            days = self.rng.uniform(0, 120)
            content = _pdf(subject, f"{index + 1}/{doc_type}")
            incoming = services.incoming_upload(
                actor=self.user(DESKS[where][3]),
                agency=self.agencies[where],
                sender_name=self.rng.choice(senders),
                notation=f"{100 + index}/{doc_type}-BTP",
                doc_type=doc_type,
                subject=subject,
                promulgated_on=(self.now - timedelta(days=days + 3)).date(),
                files=[
                    CheckedFile(
                        original_name=f"scan-{index + 1}.pdf",
                        content=content,
                        content_type="application/pdf",
                        extension=".pdf",
                        sha256=hashlib.sha256(content).hexdigest(),
                    )
                ],
                signer_name="Nguyễn Văn An",
            )
            self.incoming_age[incoming.pk] = days

    def second_province(self) -> None:
        from tinhso.documents import edxml

        code, name = SECOND_PROVINCE
        peer = exchange.Peer(code=code, name=name, url="", secret="", organs=SECOND_ORGANS)
        for index in range(_scaled(6, self.scale) * len(DESKS)):
            where = list(DESKS)[index % len(DESKS)]
            organ_id, organ_name = self.rng.choice(list(SECOND_ORGANS.items()))
            doc_type, subject = self.rng.choice(TOPICS)
            days = self.rng.uniform(0, 120)
            dated = (self.now - timedelta(days=days + 1)).date()
            notation = f"{200 + index}/{'UBND-VX' if doc_type == 'CV' else doc_type + '-UBND'}"
            agency = self.agencies[where]
            message = edxml.DocumentMessage(
                sender=edxml.Organ(organ_id=organ_id, name=organ_name),
                recipients=(edxml.Organ(organ_id=agency.code, name=agency.name),),
                document_id=f"{organ_id},{dated:%Y/%m/%d},{notation}",
                code_number=notation.split("/")[0],
                code_notation=notation.split("/", 1)[1],
                place="Nghệ An",
                promulgation_date=dated,
                type_code=2,
                type_name=str(DocType(doc_type).label),
                subject=f"{subject} (phối hợp liên tỉnh)",
                content=CONTENT.format(agency=organ_name),
                signer_competence="KT. CHỦ TỊCH",
                signer_position="Phó Chủ tịch",
                signer_name="Hoàng Văn Phúc",
                to_places=(agency.name,),
                traces=(edxml.Trace(organ_id=organ_id, timestamp=self.now),),
                attachments=(
                    edxml.Attachment(
                        name=f"{notation.replace('/', '_')}.pdf",
                        content_type="application/pdf",
                        content=_pdf(subject, notation),
                    ),
                ),
            )
            received = exchange.receive(edxml.document_build(message), peer=peer)
            for pk in received.incoming:
                self.incoming_age[pk] = days

    def handle(self) -> None:
        """Move every arrived document on to its planned state."""
        turn: dict[int, int] = {}
        arrived = Incoming.objects.filter(status=IncomingStatus.ARRIVED).order_by("pk")
        by_agency = {a.pk: where for where, a in self.agencies.items()}
        for incoming in arrived:
            where = by_agency[incoming.agency_id]
            turn[incoming.agency_id] = turn.get(incoming.agency_id, -1) + 1
            fate = INCOMING_FATES[turn[incoming.agency_id] % len(INCOMING_FATES)]
            specialist, head, leader, clerk, _unit = DESKS[where]
            steps: list[tuple[str, str, dict[str, Any]]] = []
            if fate == "refused":
                steps = [("refuse", clerk, {"note": "Gửi nhầm cơ quan, đề nghị gửi lại"})]
            elif fate != "arrived":
                steps = [("register", clerk, {})]
            if fate in {"assigned", "in_progress", "done"}:
                info = [self.user(head)] if head else []
                days = self.rng.choice([3, 5, 7, 10, 15])
                steps.append(
                    ("assign", leader, {"lead": self.user(specialist), "info": info, "days": days})
                )
            if fate in {"in_progress", "done"}:
                steps.append(("progress", specialist, {"note": "Đang tổng hợp ý kiến"}))
            if fate == "done":
                steps.append(("finish", specialist, {"note": "Đã xử lý, có văn bản trả lời"}))
            for action, actor, extra in steps:
                incoming = services.incoming_act(
                    incoming=incoming,
                    actor=self.user(actor),
                    action=action,
                    version=incoming.version,
                    **extra,
                )
                incoming.refresh_from_db()

    def recalls(self) -> None:
        """Two issued documents recalled: one recipient accepts, the other is still asked."""
        candidates = (
            Outgoing.objects.filter(status=OutgoingStatus.ISSUED, recall="")
            .filter(deliveries__status__in=[IncomingStatus.ARRIVED, IncomingStatus.REGISTERED])
            .exclude(deliveries__status__in=[s for s in IncomingStatus.values if s > 2])
            .distinct()
            .order_by("-pk")
        )
        # One recipient each: exchange.recall_send writes the same status XML (so the same
        # message id) for every recipient on this platform, which the mailbox refuses.
        chosen = [
            o for o in candidates[:20] if o.recipients.exclude(kind=RecipientKind.UNIT).count() == 1
        ][:2]
        for outgoing in chosen:
            where = next(w for w, a in self.agencies.items() if a.pk == outgoing.agency_id)
            services.outgoing_recall(
                outgoing=outgoing,
                actor=self.user(DESKS[where][3]),
                reason="Văn bản ban hành chưa đúng thẩm quyền, đề nghị thu hồi",
            )
        self.deliver()
        if chosen:
            by_agency = {a.pk: where for where, a in self.agencies.items()}
            for incoming in Incoming.objects.filter(outgoing=chosen[0], recall="requested"):
                services.recall_answer(
                    incoming=incoming,
                    actor=self.user(DESKS[by_agency[incoming.agency_id]][3]),
                    accept=True,
                    note="Đồng ý thu hồi",
                )
            self.deliver()

    # --- the dates -----------------------------------------------------------------------

    def backdate(self) -> None:
        """Spread the records over the past months (the services date them now): an
        outgoing document's moves over its first day, its deliveries after it was issued;
        what is still open is recent, what is closed older; some open ones overdue."""
        outgoing_rows = Outgoing.objects.filter(pk__in=self.age)
        for outgoing in outgoing_rows.only("pk", "status"):
            shift = timedelta(days=self.age[outgoing.pk])
            self._shift_outgoing(outgoing.pk, shift)
            for incoming in Incoming.objects.filter(outgoing_id=outgoing.pk).only("pk", "status"):
                closed = incoming.status in {IncomingStatus.DONE, IncomingStatus.REFUSED}
                days = self.age[outgoing.pk] - 1 if closed else self.rng.uniform(0, 14)
                self.incoming_age[incoming.pk] = max(0.0, min(days, self.age[outgoing.pk] - 1))
        for incoming in Incoming.objects.filter(pk__in=self.incoming_age).only("pk", "status"):
            days = self.incoming_age[incoming.pk]
            if incoming.status not in {IncomingStatus.DONE, IncomingStatus.REFUSED}:
                days = min(days, self.rng.uniform(0, 14))
            self._shift_incoming(incoming.pk, timedelta(days=days))

    def _shift_outgoing(self, pk: int, shift: timedelta) -> None:
        row = Outgoing.objects.get(pk=pk)
        issued_at = row.issued_at - shift if row.issued_at else None
        Outgoing.objects.filter(pk=pk).update(
            created_at=row.created_at - shift,
            updated_at=row.updated_at - shift,
            issued_at=issued_at,
            issued_on=timezone.localdate(issued_at) if issued_at else None,
            year=timezone.localdate(issued_at).year if issued_at else None,
        )
        OutgoingEvent.objects.filter(outgoing_id=pk).update(at=F("at") - shift)
        OutgoingVersion.objects.filter(outgoing_id=pk).update(at=F("at") - shift)
        TraceEntry.objects.filter(recipient__outgoing_id=pk).update(at=F("at") - shift)
        Recipient.objects.filter(pk__in=row.recipients.filter(last_status_at__isnull=False)).update(
            last_status_at=F("last_status_at") - shift
        )

    def _shift_incoming(self, pk: int, shift: timedelta) -> None:
        row = Incoming.objects.get(pk=pk)
        changes: dict[str, Any] = {
            "arrived_at": row.arrived_at - shift,
            "updated_at": row.updated_at - shift,
        }
        if row.registered_at is not None:
            changes["registered_at"] = row.registered_at - shift
        if row.due_at is not None:
            changes["due_at"] = row.due_at - shift
        Incoming.objects.filter(pk=pk).update(**changes)
        IncomingEvent.objects.filter(incoming_id=pk).update(at=F("at") - shift)
        Assignment.objects.filter(incoming_id=pk).update(assigned_at=F("assigned_at") - shift)

    def overdue(self) -> None:
        """A few documents being handled went past their deadline."""
        handling = Incoming.objects.filter(
            status__in=[IncomingStatus.ASSIGNED, IncomingStatus.IN_PROGRESS]
        ).order_by("pk")
        for incoming in handling[:: max(1, round(4 / max(self.scale, 0.25)))]:
            late = timedelta(days=self.rng.randint(1, 10))
            Incoming.objects.filter(pk=incoming.pk).update(due_at=self.now - late)

    def quiet_second_province(self) -> None:
        """The statuses to the second demo province wait in its mailbox (no server polls
        it): their delivery is not retried."""
        from tinhso.core.models import OutboxMessage

        waiting = set(
            Message.objects.filter(
                direction="out", peer=SECOND_PROVINCE[0], state=MessageState.PENDING
            ).values_list("pk", flat=True)
        )
        for row in OutboxMessage.objects.filter(topic=exchange.DELIVER, delivered_at__isnull=True):
            if row.payload.get("message") in waiting:
                OutboxMessage.objects.filter(pk=row.pk).update(
                    delivered_at=self.now, last_error="waits in the demo peer's mailbox"
                )

    def seed(self) -> None:
        with transaction.atomic():
            self.outgoing()
            self.issue_pending()
            self.deliver()
            self.paper()
            self.second_province()
            self.handle()
            self.recalls()
            self.deliver()
            self.backdate()
            self.overdue()
            self.quiet_second_province()


def _pdf(subject: str, notation: str) -> bytes:
    from tinhso.core.pdf import FAMILY, page_bytes, plain_page

    page = plain_page()
    page.add_page()
    page.set_font(FAMILY, "", 13)
    page.set_xy(25, 30)
    text = f"Số: {notation}\n\n{subject}\n\n(Bản quét văn bản giấy — dữ liệu demo)"
    page.multi_cell(160, 7, text)
    return page_bytes(page)
