"""The e-office (module documents), on PostgreSQL:

* issuing an approved document: the clerk's move (the register's next number, the PDF
  queued) and the worker's side (render, the leader's signature, the agency's seal, stored,
  the edXML message for each recipient), next to the same two signatures alone on the same
  already rendered PDF (signing.document_sign) and to two raw RSA-2048 signatures;
* the clerk's incoming box "vào sổ" and the box counts over BENCH_DOCUMENTS incoming
  documents (1,000,000 by default: most in one department, states spread), next to the raw
  SQL of the same rows (the columns the box shows, same filter, order and limit).
"""

from __future__ import annotations

import os
import time

from bench.common import Row, measure

ISSUES = int(os.environ.get("BENCH_ISSUES", "40"))
LOAD = int(os.environ.get("BENCH_DOCUMENTS", "1000000"))
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A province's register over the years: most documents are done; 1 % each waits to be
# registered, to be assigned, assigned and in progress (a department's tens of thousands of
# open documents at 1 M: far more than a real one holds, so the counts are not flattered).
STATES = ("arrived", "registered", "assigned", "in_progress") + ("done",) * 96


def _approved(count: int) -> list[int]:
    """`count` documents of the Department of Justice approved by its leader, to issue."""
    from tinhso.accounts.demo import demo_agency
    from tinhso.accounts.models import User
    from tinhso.documents.models import RecipientKind, Unit
    from tinhso.documents.services import RecipientIn, draft_save, outgoing_act

    stp, snnmt = demo_agency("STP"), demo_agency("SNNMT")
    unit = Unit.objects.get(agency=stp, code="HCTP")
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["cv.tuphap", "tp.tuphap", "lanhdao"])
    }
    made = []
    for n in range(count):
        outgoing = draft_save(
            actor=users["cv.tuphap"], agency=stp, unit=unit, doc_type="CV",
            subject=f"Phối hợp rà soát thủ tục hành chính (đợt {n + 1})",
            content="Sở Tư pháp đề nghị Sở Nông nghiệp và Môi trường phối hợp.\n\nTrân trọng./.",
            recipients=[RecipientIn(kind=RecipientKind.AGENCY, name=snnmt.name, agency=snnmt)],
        )  # fmt: skip
        for action, who in (
            ("submit", "cv.tuphap"),
            ("forward", "tp.tuphap"),
            ("approve", "lanhdao"),
        ):
            outgoing = outgoing_act(
                outgoing=outgoing, actor=users[who], action=action, version=outgoing.version
            )
            outgoing.refresh_from_db()
        made.append(outgoing.pk)
    return made


def _issuing() -> tuple[tuple[float, float], tuple[float, float], tuple[float, float], float]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from django.db import transaction
    from django.test.utils import override_settings

    from tinhso.accounts.models import User
    from tinhso.core.documents import document_issue
    from tinhso.documents.models import Outgoing
    from tinhso.documents.paper import PERSONAL_FIELD, SEAL_FIELD, render_outgoing
    from tinhso.signing import services as signing
    from tinhso.signing.pki import private_key

    rounds = max(1, ISSUES - min(20, ISSUES))
    pending = _approved(rounds + min(20, rounds))
    clerk = User.objects.get(username="vanthu.tuphap")
    from tinhso.documents.services import outgoing_act

    def issue() -> None:
        outgoing = Outgoing.objects.get(pk=pending.pop())
        with override_settings(TASKS=DB_TASKS):
            outgoing_act(outgoing=outgoing, actor=clerk, action="issue", version=outgoing.version)
        outgoing.refresh_from_db()
        assert outgoing.issuing_id is not None
        assert document_issue(outgoing.issuing_id)

    start = time.perf_counter()
    issued = measure(issue, rounds)
    rate = (rounds + min(20, rounds)) / (time.perf_counter() - start)

    done = Outgoing.objects.filter(signed__isnull=False).select_related("agency", "signer").last()
    assert done is not None
    assert done.signer is not None
    agency, signer = done.agency, done.signer
    draft, slots = render_outgoing(done, signing.verification_url(signing.verification_id_new()))
    content = draft.output()  # both signatures as incremental updates of a written PDF

    def requests() -> list[signing.SignRequest]:
        return [
            signing.SignRequest(
                certificate=signing.personal_for(signer, agency), purpose="personal",
                field_name=PERSONAL_FIELD, slot=slots["personal"], reason="Ký ban hành",
                signer_user=signer,
            ),
            signing.SignRequest(
                certificate=signing.seal_for(agency), purpose="seal", field_name=SEAL_FIELD,
                slot=slots["seal"], reason="Đóng dấu", signer_user=clerk,
            ),
        ]  # fmt: skip

    def two_signatures() -> None:
        with transaction.atomic():
            signing.document_sign(
                public_id=signing.verification_id_new(), content=content, title="bench",
                reference=done.notation, agency=agency, requests=requests(), actor=clerk,
            )  # fmt: skip
            transaction.set_rollback(True)

    keys = [
        private_key(signing.personal_for(signer, agency)),
        private_key(signing.seal_for(agency)),
    ]
    message = os.urandom(64)

    def raw_two() -> None:
        for key in keys:
            assert isinstance(key, rsa.RSAPrivateKey)
            key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    return issued, measure(two_signatures, 30), measure(raw_two, 300), rate


def _load(count: int) -> float:
    """`count` incoming documents in raw SQL (INSERT … SELECT generate_series), 90 % in the
    Department of Justice, the rest across the other demo agencies; seconds taken."""
    from django.db import connection

    from tinhso.accounts.demo import demo_agency
    from tinhso.documents.demo import DESKS
    from tinhso.documents.models import Incoming

    agencies = [demo_agency("STP").pk] + [demo_agency(w).pk for w in DESKS if w != "STP"]
    from tinhso.core.outbox import outbox_deliver_pending

    outbox_deliver_pending(limit=1000)  # the documents just issued arrive at SNNMT
    template = Incoming.objects.order_by("pk").first()
    assert template is not None, "run the documents demo first (seed with records)"
    columns, values = [], []
    states = "ARRAY[" + ",".join(f"'{s}'" for s in STATES) + "]"
    statuses = {"arrived": 1, "registered": 2, "assigned": 3, "in_progress": 4, "done": 5}
    status_array = "ARRAY[" + ",".join(str(statuses[s]) for s in STATES) + "]"
    others = "ARRAY[" + ",".join(str(a) for a in agencies[1:]) + "]"
    special = {
        "agency_id": f"CASE WHEN g %% 10 = 0 THEN ({others})[1 + (g / 10) %% {len(agencies) - 1}] "
        f"ELSE {agencies[0]} END",
        "state": f"({states})[1 + g %% {len(STATES)}]",
        "status": f"({status_array})[1 + g %% {len(STATES)}]",
        "arrived_at": "now() - (g * interval '13 seconds')",
        "updated_at": "now() - (g * interval '13 seconds')",
        "document_id": "''",
        "number": "NULL",
        "register_id": "NULL",
        "year": "NULL",
        "registered_at": "NULL",
        "outgoing_id": "NULL",
        "notation": "g::text || '/UBND-VP'",
        "recall": "''",
        "assignee_id": "NULL",
        "due_at": (
            "CASE WHEN g %% 100 IN (2, 3) THEN now() + ((g %% 40 - 20) * interval '1 day') END"
        ),
    }
    for field in Incoming._meta.concrete_fields:
        if field.primary_key or isinstance(field.column, type(None)):
            continue
        columns.append(f'"{field.column}"')
        values.append(special.get(field.column, f't."{field.column}"'))
    sql = (
        f"INSERT INTO documents_incoming ({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM generate_series(1, %s) g, documents_incoming t WHERE t.id = %s"
    )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, template.pk])
        cursor.execute("ANALYZE documents_incoming")
    return time.perf_counter() - start


def _boxes() -> tuple[float, list[Row]]:
    from django.db import connection

    from tinhso.accounts.demo import demo_agency
    from tinhso.accounts.models import User
    from tinhso.cases.inbox import inbox, inbox_counts
    from tinhso.documents.models import Incoming
    from tinhso.documents.subject import INCOMING_SUBJECT

    loaded = 0.0
    if Incoming.objects.count() < LOAD:
        loaded = _load(LOAD)
    clerk = User.objects.get(username="vanthu.tuphap")
    stp = demo_agency("STP").pk
    rows = inbox(clerk, INCOMING_SUBJECT, "vao-so")
    assert rows, "the clerk's box is empty"
    raw_sql = (
        "SELECT id, status, state, due_at, paused_at, arrived_at, doc_type, subject, urgency, "
        "notation, sender_name, number FROM documents_incoming WHERE agency_id = %s AND "
        "state = 'arrived' ORDER BY arrived_at ASC NULLS LAST, id LIMIT 200"
    )
    # The four counts as four statements along the same indexes the boxes use (one
    # FILTERed scan of the agency's rows would be a slower baseline than the platform).
    count_sql = (
        "SELECT (SELECT count(*) FROM documents_incoming WHERE agency_id = %(a)s AND state = "
        "'arrived'), (SELECT count(*) FROM documents_incoming WHERE agency_id = %(a)s AND "
        "state = 'registered'), (SELECT count(*) FROM documents_incoming WHERE agency_id = "
        "%(a)s AND state IN ('assigned', 'in_progress')), (SELECT count(*) FROM "
        "documents_incoming WHERE agency_id = %(a)s AND status NOT IN (5, 6, 7) AND paused_at "
        "IS NULL AND due_at < now())"
    )

    def raw(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, {"a": stp} if "%(a)s" in sql else [stp])
            cursor.fetchall()

    return loaded, [
        Row(
            f"incoming box 'vào sổ', {LOAD:,} documents",
            *measure(lambda: inbox(clerk, INCOMING_SUBJECT, "vao-so")),
            *measure(lambda: raw(raw_sql)),
        ),
        Row(
            "incoming box counts (4 boxes)",
            *measure(lambda: inbox_counts(clerk, INCOMING_SUBJECT)),
            *measure(lambda: raw(count_sql)),
        ),
    ]


def run() -> list[Row]:
    issued, signed, raw, rate = _issuing()
    loaded, boxes = _boxes()
    print(
        f"\ne-office: one worker issues {rate:.1f} documents/s (clerk's move + render + leader's "
        f"signature + seal + edXML: {issued[0]:.1f} ms median; the two signatures alone on the "
        f"rendered PDF {signed[0]:.1f} ms, two raw RSA-2048 signatures {raw[0]:.2f} ms); "
        f"{LOAD:,} incoming documents loaded in {loaded:.1f} s"
    )
    return [
        Row("issue a document (vs its 2 signatures alone)", *issued, *signed),
        Row("its 2 PAdES signatures (vs 2 raw RSA)", *signed, *raw),
        *boxes,
    ]
