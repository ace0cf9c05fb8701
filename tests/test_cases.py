"""The platform's cases and workflows (ADR 0019): a workflow whose states and actions have
other names than the standard one gets its forms, its payment and its inboxes from what it
declares (effects, triggers, boxes), not from names in code; a definition naming an
effect, an inbox or a role nobody provides is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from flows import act, user
from test_payments import bank_through
from test_submission import submission
from tinhso.accounts.selectors import identity_profile
from tinhso.cases.models import Workflow
from tinhso.catalog.models import Procedure
from tinhso.dossiers.inbox import inbox, inbox_counts
from tinhso.dossiers.models import DocumentKind, Dossier, DossierStatus
from tinhso.dossiers.services import Attachment, dossier_submit
from tinhso.payments.models import PaymentState

pytestmark = pytest.mark.django_db

# A ward's own way to handle a civil-status change, in Vietnamese names throughout.
THU_NGHIEM: dict[str, Any] = {
    "start": "cho_nhan",
    "states": [
        {"name": "cho_nhan", "status": 1, "box": "tiep-nhan"},
        {"name": "tu_choi", "status": 3, "terminal": True},
        {"name": "dang_xet", "status": 4, "share": 0.7, "box": "xu-ly"},
        {"name": "cho_phi", "status": 6, "paused": True},
        {"name": "cho_ky", "status": 4, "share": 0.2, "box": "phe-duyet"},
        {"name": "cho_dong_dau", "status": 4, "share": 0.1, "box": "phat-hanh"},
        {"name": "xong", "status": 9, "box": "tra-ket-qua"},
        {"name": "da_tra", "status": 10, "terminal": True},
        {"name": "da_rut", "status": 7, "terminal": True},
    ],
    "actions": [
        {"name": "nhan", "label": "Nhận hồ sơ", "from": ["cho_nhan"], "to": "dang_xet",
         "roles": ["receiver"], "effects": ["form:BM01"], "assigns": "specialist"},
        {"name": "khong_nhan", "from": ["cho_nhan"], "to": "tu_choi", "roles": ["receiver"],
         "note_required": True, "effects": ["payments.cancel", "form:BM03"]},
        {"name": "thu_phi", "from": ["dang_xet"], "to": "cho_phi", "roles": ["specialist"],
         "effects": ["payment.request"], "exceptional": True},
        {"name": "da_nop", "from": ["cho_phi"], "to": "dang_xet", "roles": ["specialist"],
         "trigger": "payment.paid"},
        {"name": "trinh", "from": ["dang_xet"], "to": "cho_ky", "roles": ["specialist"]},
        {"name": "ky", "from": ["cho_ky"], "to": "cho_dong_dau", "roles": ["leader"],
         "effects": ["result.sign"]},
        {"name": "dong_dau", "from": ["cho_dong_dau"], "to": "xong", "roles": ["clerk"],
         "effects": ["result.seal"]},
        {"name": "tra", "from": ["xong"], "to": "da_tra", "roles": ["receiver"]},
        {"name": "rut", "from": ["cho_nhan", "dang_xet", "cho_phi"], "to": "da_rut",
         "roles": ["receiver"], "applicant": True, "exceptional": True,
         "effects": ["payments.cancel", "form:STOP"]},
    ],
}  # fmt: skip


@pytest.fixture
def thu_nghiem() -> Procedure:
    """TH.HT.07 (15,000 đ, one scanned paper) at Phường Hạc Thành on the THU_NGHIEM
    workflow, saved as the admin saves one (validated whole)."""
    workflow = Workflow(code="thu-nghiem", name="Quy trình thử nghiệm", definition=THU_NGHIEM)
    workflow.full_clean()
    workflow.save()
    Procedure.objects.filter(code="TH.HT.07").update(workflow="thu-nghiem")
    return Procedure.objects.get(code="TH.HT.07")


def _submit(procedure: Procedure, citizen: Any) -> Dossier:
    from tinhso.catalog.eform import form_sample
    from tinhso.core import files
    from tinhso.dossiers.demo import simple_pdf

    scan = files.check_upload(None, name="can-cu.pdf", content=simple_pdf(["can cu"]))
    return dossier_submit(
        submission=submission(
            citizen, procedure=procedure,
            form_data=form_sample(procedure.form_schema, identity_profile(citizen)),
            attachments=[Attachment(paper=p, upload=scan) for p in procedure.papers.all()
                         if not p.eform],
        )
    )  # fmt: skip


def _boxes(dossier: Dossier) -> dict[str, str]:
    """Who sees the dossier in which box (officials of Hạc Thành)."""
    seen = {}
    for name in ("tiepnhan.hacthanh", "chuyenvien.hacthanh", "lanhdao.hacthanh",
                 "vanthu.hacthanh"):  # fmt: skip
        official = user(name)
        for slug in ("tiep-nhan", "xu-ly", "phe-duyet", "phat-hanh", "tra-ket-qua"):
            if dossier.code in [row.code for row in inbox(official, slug)]:
                seen[name] = slug
    return seen


def test_a_differently_named_workflow_gets_forms_payment_and_inboxes(
    thu_nghiem: Procedure, citizen: Any, client: Client
) -> None:
    dossier = _submit(thu_nghiem, citizen)
    assert dossier.state == "cho_nhan"
    assert _boxes(dossier) == {"tiepnhan.hacthanh": "tiep-nhan"}
    assert inbox_counts(user("tiepnhan.hacthanh"))["tiep-nhan"] == 1

    dossier = act(dossier, "tiepnhan.hacthanh", "nhan", assignee=user("chuyenvien.hacthanh"))
    assert (dossier.state, dossier.status) == ("dang_xet", DossierStatus.PROCESSING)
    assert dossier.due_at is None  # the clock starts at status 2, which this flow skips
    assert list(dossier.documents.values_list("kind", flat=True)) == [DocumentKind.BM01]
    assert dossier.assignee == user("chuyenvien.hacthanh")
    assert _boxes(dossier) == {"chuyenvien.hacthanh": "xu-ly"}

    dossier = act(dossier, "chuyenvien.hacthanh", "thu_phi")
    payment = dossier.payments.get()
    assert (payment.state, payment.amount) == (PaymentState.PENDING, 15000)
    assert dossier.paused_at is not None
    assert dossier.code in [row.code for row in inbox(user("chuyenvien.hacthanh"), "tam-dung")]
    assert _boxes(dossier) == {}  # waiting for the citizen, in nobody's work box

    status, _answer = bank_through(client).pay(payment.vietqr())
    assert status == 200
    dossier.refresh_from_db()
    payment.refresh_from_db()
    assert (dossier.state, payment.state) == ("dang_xet", PaymentState.SUCCEEDED)
    assert payment.receipt_id is not None
    assert dossier.events.get(action="da_nop").actor is None  # the bank's notice took it

    dossier = act(dossier, "chuyenvien.hacthanh", "trinh")
    assert _boxes(dossier) == {"lanhdao.hacthanh": "phe-duyet"}
    dossier = act(dossier, "lanhdao.hacthanh", "ky")
    result = dossier.documents.get(kind=DocumentKind.RESULT)
    assert result.signed is not None
    assert _boxes(dossier) == {"vanthu.hacthanh": "phat-hanh"}
    dossier = act(dossier, "vanthu.hacthanh", "dong_dau")
    assert _boxes(dossier) == {"tiepnhan.hacthanh": "tra-ket-qua"}
    assert result.signed.signatures.count() == 2  # the leader's, then the ward's seal
    dossier = act(dossier, "tiepnhan.hacthanh", "tra")
    assert dossier.status == DossierStatus.RETURNED
    assert list(dossier.events.values_list("action", flat=True)) == [
        "submit", "nhan", "thu_phi", "da_nop", "trinh", "ky", "dong_dau", "tra",
    ]  # fmt: skip


def test_its_labels_and_its_refusal_rule_come_from_the_definition(
    thu_nghiem: Procedure, citizen: Any, login_client: Any
) -> None:
    from tinhso.dossiers.transitions import TransitionError

    dossier = _submit(thu_nghiem, citizen)
    page = login_client(user("tiepnhan.hacthanh")).get(f"/can-bo/ho-so/{dossier.code}/")
    assert "Nhận hồ sơ" in page.content.decode()
    with pytest.raises(TransitionError):
        act(dossier, "tiepnhan.hacthanh", "khong_nhan")  # no reason given
    dossier = act(dossier, "tiepnhan.hacthanh", "khong_nhan", note="Thiếu giấy tờ")
    assert list(dossier.documents.values_list("kind", flat=True)) == [DocumentKind.BM03]


def test_a_withdrawal_cancels_the_payment_by_its_declared_effect(
    thu_nghiem: Procedure, citizen: Any
) -> None:
    dossier = _submit(thu_nghiem, citizen)
    dossier = act(dossier, "tiepnhan.hacthanh", "nhan", assignee=user("chuyenvien.hacthanh"))
    dossier = act(dossier, "chuyenvien.hacthanh", "thu_phi")
    dossier = act(dossier, citizen, "rut")
    assert dossier.payments.get().state == PaymentState.CANCELLED
    assert DocumentKind.STOP in dossier.documents.values_list("kind", flat=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["actions"][0]["effects"].append("fax.send"), "fax.send"),
        (lambda d: d["actions"][0]["effects"].append("form"), "needs an argument"),
        (lambda d: d["states"][0].update(box="thung-rac"), "thung-rac"),
        (lambda d: d["states"][0].update(status=42), "42"),
        (lambda d: d["actions"][0]["roles"].append("accountant"), "accountant"),
        (lambda d: d["actions"].append(
            {"name": "nop_lai", "from": ["cho_phi"], "to": "cho_ky", "roles": ["specialist"],
             "trigger": "payment.paid"}), "same trigger"),
    ],
    ids=["unknown-effect", "missing-argument", "unknown-box", "unknown-status",
         "role-outside-workflows", "two-actions-one-trigger"],
)  # fmt: skip
def test_a_definition_naming_what_nobody_provides_is_refused(change: Any, message: str) -> None:
    definition = copy.deepcopy(THU_NGHIEM)
    change(definition)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        Workflow(code="hong", name="Hỏng", definition=definition).full_clean()
    assert any(message in m for m in caught.value.messages), caught.value.messages


def test_every_subject_keeps_its_history_in_a_case_move_model() -> None:
    """Each module's history of moves is the platform's CaseMove (when, who, which action,
    the note), ordered by time, with the case and its statuses added."""
    from tinhso.cases.base import CaseMove
    from tinhso.cases.subjects import subjects

    found = {s.code: s.model._meta.get_field("events").related_model for s in subjects()}
    assert set(found) >= {
        "dossier", "report", "ocop_application", "stamp_signal", "outgoing_document",
        "incoming_document",
    }  # fmt: skip
    for code, history in found.items():
        assert isinstance(history, type), code
        assert issubclass(history, CaseMove), code
        assert history._meta.ordering == ["at", "id"], code
        names = {f.name for f in history._meta.get_fields()}
        assert {"at", "actor", "action", "note", "from_status", "to_status"} <= names, code
