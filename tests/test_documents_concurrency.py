"""Official documents under concurrency (module documents): the clerks of an agency issuing
many approved documents at the same moment take consecutive numbers of the register — no
gap, no duplicate (Decree 30/2020/NĐ-CP numbers a register gap-free within the year)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from flows import user
from tinhso.accounts.demo import demo_agency
from tinhso.core.models import PendingDocument, PendingDocumentState
from tinhso.documents.models import Outgoing, OutgoingStatus, RecipientKind, Unit
from tinhso.documents.services import RecipientIn, draft_save, outgoing_act

ISSUES = 50
# The database task backend, as in production: issuing commits the number with the PDF
# queued; what is measured here is the numbering, not the signing.
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def approved(n: int) -> Outgoing:
    stp, snnmt = demo_agency("STP"), demo_agency("SNNMT")
    outgoing = draft_save(
        actor=user("cv.tuphap"),
        agency=stp,
        unit=Unit.objects.get(agency=stp, code="HCTP"),
        doc_type="CV",
        subject=f"Công văn số thứ tự {n}",
        content="Nội dung.",
        recipients=[RecipientIn(kind=RecipientKind.AGENCY, name=snnmt.name, agency=snnmt)],
    )
    for who, action in (("cv.tuphap", "submit"), ("tp.tuphap", "forward"),
                        ("lanhdao", "approve")):  # fmt: skip
        outgoing.refresh_from_db()
        outgoing_act(outgoing=outgoing, actor=user(who), action=action, version=outgoing.version)
    outgoing.refresh_from_db()
    assert outgoing.status == OutgoingStatus.APPROVED
    return outgoing


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_fifty_concurrent_issues_in_one_register_give_fifty_consecutive_numbers(
    settings: Any,
) -> None:
    settings.TASKS = DB_TASKS
    stp = demo_agency("STP")
    year = timezone.localdate().year
    numbers_before = set(
        Outgoing.objects.filter(agency=stp, year=year, number__isnull=False).values_list(
            "number", flat=True
        )
    )
    start = max(numbers_before, default=0)
    drafts = [approved(n) for n in range(ISSUES)]
    clerk = user("vanthu.tuphap")
    barrier = threading.Barrier(ISSUES)
    errors: list[BaseException] = []

    def issue(outgoing: Outgoing) -> None:
        try:
            barrier.wait(timeout=60)
            outgoing_act(outgoing=outgoing, actor=clerk, action="issue", version=outgoing.version)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=ISSUES) as pool:
        list(pool.map(issue, drafts))
    assert errors == []
    issued = Outgoing.objects.filter(pk__in=[d.pk for d in drafts])
    assert all(o.status == OutgoingStatus.ISSUED for o in issued)
    assert len({o.register_id for o in issued}) == 1
    numbers = sorted(o.number for o in issued if o.number is not None)
    assert numbers == list(range(start + 1, start + ISSUES + 1))  # no gap, no duplicate
    assert {o.notation for o in issued} == {f"{n}/STP-HCTP" for n in numbers}
    assert len({o.document_id for o in issued}) == ISSUES
    pending = PendingDocument.objects.filter(key__in=[f"outgoing:{d.pk}" for d in drafts])
    assert pending.count() == ISSUES
    assert set(pending.values_list("state", flat=True)) == {PendingDocumentState.PENDING}
