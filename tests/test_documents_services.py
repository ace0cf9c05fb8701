"""Official documents through their services (module documents): numbers and notations of
Decree 30/2020/NĐ-CP per register and year; the issued PDF signed by the leader and sealed;
every edXML message valid against the schema; who may do what on a draft and on an incoming
document; bad input refused with a clear message and nothing changed; the exchange's
refusals (unknown document, forged sender, XXE), repeats and out-of-order statuses; the
documents' figures."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

import samples
from flows import user
from test_signing import nss_db, pdfsig  # noqa: F401 (nss_db: a fixture)
from tinhso.accounts.demo import demo_agency
from tinhso.agencies.models import Agency
from tinhso.cases.transitions import (
    TransitionConflictError,
    TransitionForbiddenError,
    case_actions,
)
from tinhso.core.errors import ConflictError, DomainError
from tinhso.core.files import CheckedFile, read_bytes
from tinhso.core.models import NumberSequence, PendingDocument
from tinhso.core.outbox import outbox_deliver_pending
from tinhso.documents import edxml
from tinhso.documents.exchange import ExchangeError, organ_of, receive
from tinhso.documents.files import DOCX, XLSX, check_attachment
from tinhso.documents.models import (
    Direction,
    Incoming,
    IncomingStatus,
    Message,
    Outgoing,
    OutgoingStatus,
    RecipientKind,
    Register,
    Unit,
)
from tinhso.documents.services import (
    RecipientIn,
    draft_save,
    incoming_act,
    incoming_upload,
    outgoing_act,
    outgoing_recall,
    register_default,
    register_next,
)
from tinhso.documents.subject import incoming_actions, may_read_incoming, may_read_outgoing

pytestmark = pytest.mark.django_db

XSD = Path(__file__).resolve().parent.parent / "src/tinhso/documents/schema/edxml.xsd"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Who drafts, reviews, signs and issues in each demo agency (documents.demo).
STAFF = {
    "STP": ("cv.tuphap", "tp.tuphap", "lanhdao", "vanthu.tuphap", "HCTP"),
    "SNNMT": ("cv.nnmt", "tp.nnmt", "lanhdao.nnmt", "vanthu.nnmt", "KH"),
    "province": ("cv.ubnd", "tp.ubnd", "lanhdao.ubnd", "vanthu.ubnd", "VP"),
}
CITIZEN = "038090000001"


def again(case: Any) -> Any:
    case.refresh_from_db()
    return case


def to_agency(agency: Agency) -> RecipientIn:
    return RecipientIn(kind=RecipientKind.AGENCY, name=agency.name, agency=agency)


def drafted(
    where: str = "STP",
    *,
    doc_type: str = "CV",
    subject: str = "Phối hợp rà soát thủ tục hành chính",
    recipients: Sequence[RecipientIn] | None = None,
) -> Outgoing:
    author, _head, _leader, _clerk, unit_code = STAFF[where]
    agency = demo_agency(where)
    if recipients is None:
        recipients = [to_agency(demo_agency("SNNMT" if where != "SNNMT" else "STP"))]
    return draft_save(
        actor=user(author),
        agency=agency,
        unit=Unit.objects.get(agency=agency, code=unit_code),
        doc_type=doc_type,
        subject=subject,
        content="Nội dung văn bản.\n\nTrân trọng.",
        recipients=recipients,
    )


def step(outgoing: Outgoing, who: str, action: str, **kw: Any) -> Outgoing:
    outgoing = again(outgoing)
    outgoing_act(outgoing=outgoing, actor=user(who), action=action, version=outgoing.version, **kw)
    return again(outgoing)


def approved(where: str = "STP", **kw: Any) -> Outgoing:
    author, head, leader, _clerk, _unit = STAFF[where]
    outgoing = drafted(where, **kw)
    outgoing = step(outgoing, author, "submit")
    outgoing = step(outgoing, head, "forward")
    return step(outgoing, leader, "approve")


def issued(where: str = "STP", **kw: Any) -> Outgoing:
    outgoing = step(approved(where, **kw), STAFF[where][3], "issue")
    assert outgoing.status == OutgoingStatus.ISSUED
    return outgoing


def arrived(outgoing: Outgoing, agency: Agency) -> Incoming:
    outbox_deliver_pending()
    return Incoming.objects.get(agency=agency, document_id=outgoing.document_id)


def move(incoming: Incoming, who: str, action: str, **kw: Any) -> Incoming:
    incoming = again(incoming)
    incoming_act(incoming=incoming, actor=user(who), action=action, version=incoming.version, **kw)
    return again(incoming)


def handled(incoming: Incoming, *, finish: bool = True) -> Incoming:
    """Registered by SNNMT's clerk, assigned by its leader to cv.nnmt, finished."""
    incoming = move(incoming, "vanthu.nnmt", "register")
    incoming = move(incoming, "lanhdao.nnmt", "assign", lead=user("cv.nnmt"), days=5)
    if finish:
        incoming = move(incoming, "cv.nnmt", "finish", note="Đã xử lý xong.")
    outbox_deliver_pending()
    return incoming


def pdf_file(name: str = "scan.pdf") -> CheckedFile:
    return check_attachment(None, name=name, content=samples.pdf(("CONG VAN",)))


def status_message(
    outgoing: Outgoing, code: str, at: datetime, *, sender: Agency | None = None
) -> bytes:
    """A status from the recipient (SNNMT unless `sender`) about `outgoing`, in edXML."""
    assert outgoing.issued_on is not None
    return edxml.status_build(
        edxml.StatusMessage(
            response_for=edxml.Reference(
                organ_id=outgoing.agency.code,
                code=outgoing.notation,
                promulgation_date=outgoing.issued_on,
                document_id=outgoing.document_id,
            ),
            sender=organ_of(sender or demo_agency("SNNMT")),
            status_code=code,
            description=edxml.STATUS_CODES[code],
            timestamp=at,
            staff="Lương Văn Tú",
        )
    )


# --- 1. numbers and notations ------------------------------------------------------------


def test_the_next_document_of_a_register_gets_the_next_number_and_the_decree_30_notation() -> None:
    first = issued(doc_type="CV")
    second = issued(doc_type="QĐ", subject="Quyết định công bố thủ tục hành chính")
    assert first.register_id == second.register_id  # both in STP's default register
    assert second.number == first.number + 1
    assert first.notation == f"{first.number}/STP-HCTP"  # a công văn names the unit
    assert second.notation == f"{second.number}/QĐ-STP"  # a decision names its type
    assert (first.year, second.year) == (timezone.localdate().year,) * 2
    assert first.document_id != second.document_id


def test_a_peoples_committee_signs_its_decisions_ubnd() -> None:
    decision = issued("province", doc_type="QĐ", recipients=[to_agency(demo_agency("STP"))])
    assert decision.notation == f"{decision.number}/QĐ-UBND"
    letter = issued("province", doc_type="CV", recipients=[to_agency(demo_agency("STP"))])
    assert letter.notation == f"{decision.number + 1}/UBND-VP"


def test_numbers_restart_at_one_in_a_new_year(settings: Any) -> None:
    this_year = issued(doc_type="QĐ")
    stp = demo_agency("STP")
    register = register_default(stp, Direction.OUTGOING)
    with transaction.atomic():
        assert register_next(register, date(2027, 1, 5)) == 1
        assert register_next(register, date(2027, 1, 6)) == 2
        # This year's numbering goes on where it was.
        assert register_next(register, timezone.localdate()) == this_year.number + 1
        transaction.set_rollback(True)
    # Issued on 5 January next year (the PDF left to the worker): number 1 again.
    settings.TASKS = DB_TASKS
    draft = approved(doc_type="QĐ")
    new_year = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)  # 9:00 in Vietnam
    with mock.patch("django.utils.timezone.now", return_value=new_year):
        outgoing_act(
            outgoing=draft, actor=user("vanthu.tuphap"), action="issue", version=draft.version
        )
    draft = again(draft)
    assert (draft.year, draft.number, draft.notation) == (2027, 1, "1/QĐ-STP")
    assert draft.issued_on == date(2027, 1, 5)


def test_a_register_of_decisions_numbers_them_apart_from_the_default_register() -> None:
    stp = demo_agency("STP")
    default = register_default(stp, Direction.OUTGOING)
    decisions = Register.objects.create(
        agency=stp, direction=Direction.OUTGOING, name="Sổ quyết định", doc_types=["QĐ"]
    )
    letter = issued(doc_type="CV")
    first = issued(doc_type="QĐ")
    second = issued(doc_type="QĐ")
    another_letter = issued(doc_type="CV")
    assert (first.register_id, second.register_id) == (decisions.pk, decisions.pk)
    assert (first.number, second.number) == (1, 2)
    assert first.notation == "1/QĐ-STP"
    assert letter.register_id == another_letter.register_id == default.pk
    assert another_letter.number == letter.number + 1  # no number lost to the decisions


# --- 2. the issued PDF --------------------------------------------------------------------


def test_the_issued_pdf_is_signed_by_the_leader_and_sealed_and_reads_as_a_document(
    nss_db: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    in_ci: bool,
) -> None:
    outgoing = issued(doc_type="QĐ", subject="Quyết định ban hành quy chế văn thư")
    assert outgoing.signed is not None  # the immediate task backend issued it
    content = read_bytes(outgoing.signed.storage_name)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    flat = " ".join(text.split())
    assert outgoing.notation in flat
    assert "Nơi nhận" in flat
    assert "Quyết định ban hành quy chế văn thư".upper() in flat.upper()
    day = outgoing.issued_on
    assert day is not None
    assert f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}" in flat or (
        f"ngày {day.day} tháng {day.month} năm {day.year}" in flat
    ), flat
    path = tmp_path / "van-ban.pdf"
    path.write_bytes(content)
    said = pdfsig(path, nss_db, in_ci)
    assert said.count("Signature Validation: Signature is Valid.") == 2, said
    assert said.count("Certificate Validation: Certificate is Trusted.") == 2, said
    assert user("lanhdao").full_name in said  # the personal signature, then the seal
    assert demo_agency("STP").name in said


# --- 3. every message valid ---------------------------------------------------------------


def test_every_edxml_message_of_the_flow_validates_against_the_schema() -> None:
    before = set(Message.objects.values_list("pk", flat=True))
    outgoing = issued()
    incoming = handled(arrived(outgoing, demo_agency("SNNMT")), finish=False)
    move(incoming, "cv.nnmt", "progress", note="Đang tổng hợp.")
    outbox_deliver_pending()
    schema = etree.XMLSchema(file=str(XSD))
    messages = Message.objects.exclude(pk__in=before)
    assert {(m.direction, m.kind) for m in messages} == {
        ("out", "document"),
        ("out", "status"),
        ("in", "document"),
        ("in", "status"),
    }
    assert {m.status_code for m in messages if m.kind == "status"} >= {"01", "03", "04", "05"}
    for message in messages:
        content = read_bytes(message.storage_name)
        edxml.validate(content)
        tree = etree.fromstring(content)
        assert schema.validate(tree), (message, schema.error_log)


# --- 4. who may do what -------------------------------------------------------------------

# The state a draft of STP is brought to, and how far.
BEFORE = {"submit": [], "forward": ["submit"], "approve": ["submit", "forward"],
          "issue": ["submit", "forward", "approve"]}  # fmt: skip
DOER = {"submit": "cv.tuphap", "forward": "tp.tuphap", "approve": "lanhdao",
        "issue": "vanthu.tuphap"}  # fmt: skip

OUTGOING_MATRIX = [
    ("submit", "cv.tuphap", True),  # the author
    ("submit", "tp.tuphap", False),  # the head does not submit someone's draft
    ("submit", "cv.nnmt", False),  # a specialist of another agency
    ("submit", CITIZEN, False),
    ("submit", "chuyenvien", False),  # STP's dossier specialist, no documents role
    ("forward", "tp.tuphap", True),  # the unit's head
    ("forward", "cv.tuphap", False),
    ("forward", "tp.nnmt", False),  # a head of another agency
    ("forward", "lanhdao", False),  # the leader signs, the head forwards
    ("approve", "lanhdao", True),  # the agency's leader
    ("approve", "lanhdao.nnmt", False),  # a leader of another agency
    ("approve", "lanhdao.ubnd", False),  # the province's leader: above STP, not of it
    ("approve", "tp.tuphap", False),
    ("approve", "vanthu.tuphap", False),
    ("approve", "chuyenvien", False),
    ("issue", "vanthu.tuphap", True),  # the agency's clerk
    ("issue", "vanthu.nnmt", False),
    ("issue", "vanthu.ubnd", False),
    ("issue", "lanhdao", False),
    ("issue", "cv.tuphap", False),
    ("issue", CITIZEN, False),
]


@pytest.mark.parametrize(("action", "who", "allowed"), OUTGOING_MATRIX)
def test_who_may_move_a_draft(action: str, who: str, allowed: bool) -> None:
    outgoing = drafted()
    for earlier in BEFORE[action]:
        outgoing = step(outgoing, DOER[earlier], earlier)
    status, actor = outgoing.status, user(who)
    assert (action in {a.name for a in case_actions(outgoing, actor)}) == allowed
    if allowed:
        assert step(outgoing, who, action).status != status
        return
    with pytest.raises(DomainError) as refused:
        step(outgoing, who, action)
    assert refused.value.status == 403
    outgoing = again(outgoing)
    assert outgoing.status == status
    assert outgoing.number is None
    assert outgoing.signer_id in (None, user("lanhdao").pk)


READERS = [
    ("cv.tuphap", True),
    ("tp.tuphap", True),
    ("lanhdao", True),
    ("vanthu.tuphap", True),
    ("cv.nnmt", False),  # a specialist of another agency
    ("lanhdao.nnmt", False),
    ("lanhdao.ubnd", False),  # the province above it
    ("chuyenvien", False),  # STP, but no documents role
    (CITIZEN, False),
    (None, False),  # anonymous
]


@pytest.mark.parametrize(("who", "allowed"), READERS)
def test_who_may_read_a_draft(who: str | None, allowed: bool) -> None:
    outgoing = drafted()
    viewer: Any = AnonymousUser() if who is None else user(who)
    assert may_read_outgoing(outgoing, viewer) == allowed
    if who is None or not allowed:
        assert case_actions(outgoing, viewer) == []


def paper_incoming(notation: str = "12/UBND-VP") -> Incoming:
    return incoming_upload(
        actor=user("vanthu.nnmt"),
        agency=demo_agency("SNNMT"),
        sender_name="Ủy ban nhân dân huyện cũ",
        notation=notation,
        doc_type="CV",
        subject="Đề nghị hỗ trợ giống cây trồng",
        promulgated_on=date(2026, 11, 2),
        files=[pdf_file()],
    )


INCOMING_BEFORE = {"register": [], "assign": ["register"], "progress": ["register", "assign"],
                   "finish": ["register", "assign"]}  # fmt: skip
INCOMING_MATRIX = [
    ("register", "vanthu.nnmt", True),
    ("register", "vanthu.tuphap", False),  # a clerk of another agency
    ("register", "cv.nnmt", False),
    ("register", CITIZEN, False),
    ("assign", "lanhdao.nnmt", True),
    ("assign", "lanhdao", False),  # a leader of another agency
    ("assign", "lanhdao.ubnd", False),  # the province above it
    ("assign", "tp.nnmt", False),
    ("assign", "vanthu.nnmt", False),
    ("progress", "cv.nnmt", True),
    ("progress", "cv.tuphap", False),
    ("progress", "vanthu.nnmt", False),
    ("finish", "cv.nnmt", True),
    ("finish", "tp.tuphap", False),
    ("finish", "chuyenvien", False),
]


def incoming_step(incoming: Incoming, who: str, action: str) -> Incoming:
    extra: dict[str, Any] = {}
    if action == "assign":
        extra = {"lead": user("cv.nnmt"), "days": 5}
    if action in {"progress", "finish"}:
        extra = {"note": "Đã làm."}
    return move(incoming, who, action, **extra)


@pytest.mark.parametrize(("action", "who", "allowed"), INCOMING_MATRIX)
def test_who_may_move_an_incoming_document(action: str, who: str, allowed: bool) -> None:
    incoming = paper_incoming()
    doers = {"register": "vanthu.nnmt", "assign": "lanhdao.nnmt"}
    for earlier in INCOMING_BEFORE[action]:
        incoming = incoming_step(incoming, doers[earlier], earlier)
    status = incoming.status
    assert (action in {a.name for a in incoming_actions(incoming, user(who))}) == allowed
    if allowed:
        assert incoming_step(incoming, who, action).status != status or action == "progress"
        return
    with pytest.raises(TransitionForbiddenError) as refused:
        incoming_step(incoming, who, action)
    assert refused.value.status == 403
    incoming = again(incoming)
    assert incoming.status == status
    if action == "register":
        assert incoming.number is None


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("vanthu.nnmt", True), ("lanhdao.nnmt", True), ("cv.nnmt", True), ("cv.tuphap", False),
     ("lanhdao.ubnd", False), (CITIZEN, False), (None, False)],
)  # fmt: skip
def test_who_may_read_an_incoming_document(who: str | None, allowed: bool) -> None:
    viewer: Any = AnonymousUser() if who is None else user(who)
    assert may_read_incoming(paper_incoming(), viewer) == allowed


# --- 5. bad input ---------------------------------------------------------------------------


def docx(*, macros: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"/>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p/></w:body></w:document>',
        )
        if macros:
            archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 512)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Chỉ tiêu", 12])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "code", "said"),
    [
        ("cong-van.pdf", b"Day la van ban thuong, khong phai PDF.\n" * 20, "file_type",
         "cong-van.pdf"),
        ("macro.docx", docx(macros=True), "file_active_content", "macro"),
        ("bomb.docx", zip_bomb(), "file_decompression_bomb", "bomb.docx"),
        ("fake.docx", b"PK\x03\x04" + b"\x00" * 100, "file_type", "fake.docx"),
    ],
)  # fmt: skip
def test_a_wrong_or_dangerous_attachment_is_refused_by_its_content(
    name: str, content: bytes, code: str, said: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        check_attachment(None, name=name, content=content)
    assert refused.value.code == code
    assert said in " ".join(refused.value.messages)


def test_an_attachment_over_the_limit_is_refused(settings: Any) -> None:
    settings.TINHSO_DOCUMENT_MAX_BYTES = 2 * 1048576
    big = samples.pdf(("X",)) + b"%" + b"0" * (2 * 1048576)
    with pytest.raises(ValidationError) as refused:
        check_attachment(None, name="lon.pdf", content=big)
    assert refused.value.code == "file_too_large"
    assert "lon.pdf" in refused.value.messages[0]
    assert "2 MB" in refused.value.messages[0]


def test_a_plain_docx_and_xlsx_are_accepted_by_their_content() -> None:
    word = check_attachment(None, name="du-thao.bin", content=docx())
    assert (word.content_type, word.extension) == (DOCX, ".docx")
    sheet = check_attachment(None, name="bang.xlsx", content=xlsx())
    assert (sheet.content_type, sheet.extension) == (XLSX, ".xlsx")
    pdf = pdf_file("van-ban.pdf")
    assert pdf.content_type == "application/pdf"


def test_a_paper_document_typed_twice_is_refused_and_the_first_stays_registered() -> None:
    first = move(paper_incoming("12/UBND-VP"), "vanthu.nnmt", "register")
    count = Incoming.objects.count()
    with pytest.raises(ConflictError) as twice:
        paper_incoming("12/ubnd-vp")  # the same, typed in another case
    assert (twice.value.status, twice.value.code) == (409, "duplicate")
    assert "12/ubnd-vp" in twice.value.message
    assert "02/11/2026" in twice.value.message
    assert Incoming.objects.count() == count
    first = again(first)
    assert first.status == IncomingStatus.REGISTERED
    assert first.number is not None
    # Another date of the same sender's number is another document.
    other = incoming_upload(
        actor=user("vanthu.nnmt"), agency=demo_agency("SNNMT"),
        sender_name="Ủy ban nhân dân huyện cũ", notation="12/UBND-VP", doc_type="CV",
        subject="Khác", promulgated_on=date(2026, 11, 3), files=[pdf_file()],
    )  # fmt: skip
    assert other.pk != first.pk


def test_a_draft_without_recipients_or_to_an_unknown_organisation_is_refused() -> None:
    count = Outgoing.objects.count()
    with pytest.raises(DomainError) as none:
        drafted(recipients=[])
    assert none.value.status == 422
    assert "recipients" in (none.value.errors or {})
    with pytest.raises(DomainError) as unknown:
        drafted(
            recipients=[
                RecipientIn(kind=RecipientKind.EXTERNAL, name="Bộ Ngoại", organ_id="G99.99")
            ]
        )
    assert unknown.value.status == 422
    assert "G99.99" in unknown.value.message
    assert Outgoing.objects.count() == count


def test_a_classified_document_is_not_sent_over_the_network() -> None:
    """The Law on Protection of State Secrets: a "mật" document goes on paper; within the
    agency (its units) it may be drafted."""
    stp = demo_agency("STP")
    unit = Unit.objects.get(agency=stp, code="HCTP")
    count = Outgoing.objects.count()
    with pytest.raises(DomainError) as refused:
        draft_save(
            actor=user("cv.tuphap"), agency=stp, unit=unit, doc_type="BC", subject="Báo cáo mật",
            content="…", confidentiality=1, recipients=[to_agency(demo_agency("SNNMT"))],
        )  # fmt: skip
    assert refused.value.status == 422
    assert "confidentiality" in (refused.value.errors or {})
    assert Outgoing.objects.count() == count
    inside = draft_save(
        actor=user("cv.tuphap"), agency=stp, unit=unit, doc_type="BC", subject="Báo cáo mật",
        content="…", confidentiality=1,
        recipients=[RecipientIn(kind=RecipientKind.UNIT, name=unit.name, unit=unit)],
    )  # fmt: skip
    assert inside.confidentiality == 1


def test_a_document_not_issued_cannot_be_recalled() -> None:
    outgoing = approved()
    with pytest.raises(ConflictError) as refused:
        outgoing_recall(outgoing=outgoing, actor=user("vanthu.tuphap"), reason="Sai sót")
    assert refused.value.status == 409
    assert again(outgoing).recall == ""


def test_a_document_finished_everywhere_cannot_be_recalled() -> None:
    outgoing = issued()
    handled(arrived(outgoing, demo_agency("SNNMT")))
    assert again(outgoing).recipients.get().last_status == "06"
    messages = Message.objects.count()
    with pytest.raises(ConflictError) as refused:
        outgoing_recall(outgoing=outgoing, actor=user("lanhdao"), reason="Sai sót")
    assert refused.value.status == 409
    assert "xử lý xong" in refused.value.message
    assert again(outgoing).recall == ""
    assert Message.objects.count() == messages


def test_a_recall_reaching_a_recipient_that_finished_is_refused_there_the_other_accepts() -> None:
    snnmt, province = demo_agency("SNNMT"), demo_agency("province")
    outgoing = issued(recipients=[to_agency(snnmt), to_agency(province)])
    done = handled(arrived(outgoing, snnmt))
    pending = Incoming.objects.get(agency=province, document_id=outgoing.document_id)
    outgoing_recall(outgoing=outgoing, actor=user("lanhdao"), reason="Ban hành nhầm.")
    outbox_deliver_pending()  # the recall (13) to both
    outbox_deliver_pending()  # SNNMT's refusal (16) back
    assert again(done).status == IncomingStatus.DONE
    assert again(done).recall == "refused"
    assert again(pending).recall == "requested"
    at_snnmt = outgoing.recipients.get(agency=snnmt)
    assert [e.code for e in at_snnmt.trace.all()][-2:] == ["13", "16"]
    assert at_snnmt.last_status == "16"
    # The province's clerk accepts: the document is recalled there, the sender hears 15.
    from tinhso.documents.services import recall_answer

    recall_answer(incoming=again(pending), actor=user("vanthu.ubnd"), accept=True)
    outbox_deliver_pending()
    assert again(pending).status == IncomingStatus.RECALLED
    assert outgoing.recipients.get(agency=province).last_status == "15"
    assert again(outgoing).recall == "done"


def test_a_status_answered_after_a_recall_arrives_by_the_exchange_too() -> None:
    """A status 13 built by hand and received in-process: the finished recipient refuses
    it (16) by itself."""
    snnmt = demo_agency("SNNMT")
    outgoing = issued()
    done = handled(arrived(outgoing, snnmt))
    recall = status_message(outgoing, "13", timezone.now(), sender=outgoing.agency)
    answer = receive(recall, peer=None)
    assert not answer.repeat
    refusal = Message.objects.filter(
        direction="out", status_code="16", to_organ=outgoing.agency.code
    )
    assert refusal.count() == 1
    assert again(done).recall == "refused"
    # The same recall again (a retransmission) is a repeat: no second answer.
    assert receive(recall, peer=None).repeat
    assert refusal.count() == 1


def test_a_status_of_a_document_never_sent_is_refused_404() -> None:
    outgoing = issued()
    outgoing.document_id = "STP.2026.999999.1"
    before = Message.objects.filter(direction="in").count()
    with pytest.raises(ExchangeError) as unknown:
        receive(status_message(outgoing, "03", timezone.now()), peer=None)
    assert (unknown.value.status, unknown.value.code) == (404, "edxml_unknown_document")
    assert Message.objects.filter(direction="in").count() == before


def test_a_forged_sender_is_refused_403_and_nothing_is_kept() -> None:
    outgoing = issued()
    outbox_deliver_pending()
    forged = Agency(code="000.00.99.H99", name="Cơ quan giả")
    before = Message.objects.filter(direction="in").count()
    trace = list(outgoing.recipients.get().trace.values_list("code", flat=True))
    with pytest.raises(ExchangeError) as refused:
        receive(status_message(outgoing, "06", timezone.now(), sender=forged), peer=None)
    assert (refused.value.status, refused.value.code) == (403, "edxml_forged_sender")
    assert Message.objects.filter(direction="in").count() == before
    assert list(outgoing.recipients.get().trace.values_list("code", flat=True)) == trace


def test_an_xxe_payload_is_refused_400_with_nothing_stored(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("mật khẩu")
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope>&x;'
        "</edXMLEnvelope></edXML>"
    ).encode()
    before = (Message.objects.count(), Incoming.objects.count())
    with pytest.raises(ExchangeError) as refused:
        receive(payload, peer=None)
    assert refused.value.status == 400
    assert "mật khẩu" not in refused.value.message
    assert (Message.objects.count(), Incoming.objects.count()) == before


def test_a_repeated_message_registers_the_document_once() -> None:
    snnmt = demo_agency("SNNMT")
    outgoing = issued()
    incoming = arrived(outgoing, snnmt)
    sent = Message.objects.get(direction="out", kind="document", document_id=outgoing.document_id)
    count = Message.objects.filter(direction="in").count()
    again_received = receive(read_bytes(sent.storage_name), peer=None)
    assert again_received.repeat
    assert Incoming.objects.filter(agency=snnmt, document_id=outgoing.document_id).get() == incoming
    assert Message.objects.filter(direction="in").count() == count
    # A status repeated is on the trace once.
    status = status_message(outgoing, "05", timezone.now())
    assert not receive(status, peer=None).repeat
    assert receive(status, peer=None).repeat
    assert [e.code for e in outgoing.recipients.get().trace.all()].count("05") == 1


def test_statuses_out_of_order_are_traced_by_their_time() -> None:
    outgoing = issued()
    arrived(outgoing, demo_agency("SNNMT"))
    outbox_deliver_pending()  # its status 01 back to STP
    recipient = outgoing.recipients.get()
    start = timezone.now() + timedelta(minutes=1)
    receive(status_message(outgoing, "04", start + timedelta(minutes=2)), peer=None)
    receive(status_message(outgoing, "03", start + timedelta(minutes=1)), peer=None)
    recipient.refresh_from_db()
    assert [e.code for e in recipient.trace.all()] == ["01", "03", "04"]
    assert recipient.last_status == "04"
    assert recipient.last_status_at == start + timedelta(minutes=2)


def test_a_double_click_on_issue_takes_one_number() -> None:
    outgoing = approved()
    version = outgoing.version
    outgoing_act(outgoing=outgoing, actor=user("vanthu.tuphap"), action="issue", version=version)
    with pytest.raises(TransitionConflictError) as second:
        outgoing_act(
            outgoing=Outgoing.objects.get(pk=outgoing.pk),
            actor=user("vanthu.tuphap"),
            action="issue",
            version=version,
        )
    assert second.value.status == 409
    outgoing = again(outgoing)
    assert outgoing.status == OutgoingStatus.ISSUED
    register = outgoing.register
    assert register is not None
    last = NumberSequence.objects.get(
        register="documents.out", scope=str(register.pk), period=str(outgoing.year)
    ).last
    assert last == outgoing.number  # the second click took no number
    assert PendingDocument.objects.filter(key=f"outgoing:{outgoing.pk}").count() == 1


# --- 6. figures -----------------------------------------------------------------------------


def test_the_figures_count_documents_issued_signed_sealed_received_and_handled() -> None:
    stp, snnmt = demo_agency("STP"), demo_agency("SNNMT")
    today = timezone.localdate()
    span = {"start": str(today - timedelta(days=1)), "end": str(today + timedelta(days=1))}

    def figures(agency: Agency) -> dict[str, Any]:
        answer = Client().get("/api/v1/figures", {"agency": agency.code, **span})
        assert answer.status_code == 200, answer.content
        return answer.json()["documents"]

    sent_before, received_before = figures(stp), figures(snnmt)
    outgoing = issued()
    issued()
    handled(arrived(outgoing, snnmt))
    sent, received = figures(stp), figures(snnmt)
    assert sent["issued"] == sent_before["issued"] + 2
    assert sent["personal_share"] == 1.0
    assert sent["sealed_share"] == 1.0
    assert sent["issued_electronic"] == sent_before["issued_electronic"] + 2
    # Both went to SNNMT; one of them it handled (on time).
    assert received["received"] == received_before["received"] + 2
    assert received["received_electronic"] == received_before["received_electronic"] + 2
    assert received["handled_on_time"] == received_before["handled_on_time"] + 1
    assert received["handled_late"] == received_before["handled_late"]


def test_a_leader_cannot_assign_to_an_official_of_another_agency() -> None:
    incoming = move(paper_incoming(), "vanthu.nnmt", "register")
    with pytest.raises(DomainError) as refused:
        move(incoming, "lanhdao.nnmt", "assign", lead=user("cv.tuphap"), days=5)
    assert refused.value.status == 422
    incoming = again(incoming)
    assert incoming.status == IncomingStatus.REGISTERED
    assert not incoming.assignments.exists()
    assert incoming.handling_days is None


def test_only_the_lead_handler_reports_on_and_finishes_what_was_assigned_to_them() -> None:
    """Another specialist of the same agency sees the document (it is the agency's) but
    neither reports progress on it nor closes it: the leader gave it to someone else."""
    from tinhso.accounts.services import membership_grant
    from tinhso.documents.roles import SPECIALIST

    other = user("ocop.thuky")  # an official of SNNMT, made a specialist here
    membership_grant(actor=None, user=other, agency=demo_agency("SNNMT"), role=SPECIALIST)
    incoming = paper_incoming()
    incoming = incoming_step(incoming, "vanthu.nnmt", "register")
    incoming = incoming_step(incoming, "lanhdao.nnmt", "assign")
    assert again(incoming).assignee == user("cv.nnmt")
    assert {"progress", "finish"} & {
        a.name for a in incoming_actions(again(incoming), other)
    } == set()
    assert {"progress", "finish"} <= {
        a.name for a in incoming_actions(again(incoming), user("cv.nnmt"))
    }
    for action in ("progress", "finish"):
        with pytest.raises(TransitionForbiddenError) as refused:
            incoming_act(incoming=again(incoming), actor=other, action=action,
                         version=again(incoming).version, note="Xong.")  # fmt: skip
        assert refused.value.status == 403
    assert again(incoming).status == IncomingStatus.ASSIGNED
    done = incoming_step(again(incoming), "cv.nnmt", "finish")
    assert done.status == IncomingStatus.DONE
