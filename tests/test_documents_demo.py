"""The documents' part of the demo (documents.demo.demo_documents_step): documents in every
state across the demo agencies, some from the second demo province, a recall asked and one
accepted, overdue ones, work in every official's boxes; a second run adds nothing."""

from __future__ import annotations

import pytest

from flows import user
from tinhso.cases.inbox import inbox_counts
from tinhso.cases.subjects import subject_get
from tinhso.core.demo import DemoRun
from tinhso.documents.demo import SECOND_PROVINCE, demo_documents_step
from tinhso.documents.models import (
    Incoming,
    IncomingStatus,
    Outgoing,
    OutgoingStatus,
    RecallState,
    Source,
)

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_documents_in_every_state_and_work_in_every_box() -> None:
    demo_documents_step(DemoRun(dossiers=False))
    assert not Outgoing.objects.exists()  # the tests' seed makes no records

    demo_documents_step(DemoRun(dossiers=True), scale=0.3)
    outgoing, incoming = Outgoing.objects.count(), Incoming.objects.count()
    assert outgoing + incoming >= 60, (outgoing, incoming)  # about 300 at scale 1
    assert set(Outgoing.objects.values_list("status", flat=True)) == set(OutgoingStatus.values)
    assert set(Incoming.objects.values_list("status", flat=True)) == set(IncomingStatus.values)
    issued = Outgoing.objects.filter(status=OutgoingStatus.ISSUED)
    assert not issued.filter(signed__isnull=True).exists()  # signed and sealed
    assert Incoming.objects.filter(source=Source.PAPER).exists()
    assert Incoming.objects.filter(sender_peer=SECOND_PROVINCE[0]).exists()
    assert Incoming.objects.filter(outgoing__isnull=False).exists()  # delivered in-process
    assert set(Outgoing.objects.values_list("recall", flat=True)) >= {
        RecallState.REQUESTED,
        RecallState.DONE,
    }
    assert Incoming.objects.filter(recall=RecallState.REQUESTED).exists()
    dates = Incoming.objects.order_by("arrived_at").values_list("arrived_at", flat=True)
    assert (dates.last() - dates.first()).days >= 30  # spread over the past months

    outgoing_subject = subject_get("outgoing_document")
    incoming_subject = subject_get("incoming_document")
    for name in (
        "cv.tuphap", "tp.tuphap", "lanhdao", "vanthu.tuphap", "vanthu.nnmt", "lanhdao.nnmt",
        "cv.nnmt", "vanthu.ubnd", "lanhdao.ubnd", "cv.hacthanh", "vanthu.hoanghoa",
    ):  # fmt: skip
        official = user(name)
        boxes = inbox_counts(official, outgoing_subject) | inbox_counts(official, incoming_subject)
        assert any(boxes.values()), (name, boxes)
    assert (
        inbox_counts(user("cv.tuphap"), incoming_subject)["qua-han"]
        or inbox_counts(user("cv.nnmt"), incoming_subject)["qua-han"]
    )

    demo_documents_step(DemoRun(dossiers=True), scale=0.3)  # only once
    assert (Outgoing.objects.count(), Incoming.objects.count()) == (outgoing, incoming)
