"""Workflows as data and the transition engine: validation, permissions, deadlines, the
paused clock, optimistic locking, and the API."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client
from django.utils import translation

from flows import act, user
from test_submission import submission
from tinhso.accounts.models import User
from tinhso.cases.models import Workflow
from tinhso.cases.workflow import workflow_parse
from tinhso.core.calendar import add_working_days, add_working_time, hours_for
from tinhso.core.models import AuditEntry
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.transitions import (
    TransitionConflictError,
    TransitionForbiddenError,
    dossier_act,
)
from tinhso.dossiers.workflow import STANDARD

pytestmark = pytest.mark.django_db


def submitted(citizen: Any) -> Dossier:
    from tinhso.dossiers.services import dossier_submit

    return dossier_submit(submission=submission(citizen))


def test_the_standard_workflow_is_valid_and_stored() -> None:
    graph = workflow_parse(STANDARD, subject="dossier")
    assert graph.start == "new"
    assert Workflow.objects.get(code="standard").definition == STANDARD


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["actions"].remove(next(a for a in d["actions"] if a["name"] == "assign")),
         "cannot be reached"),
        (lambda d: [s.update(terminal=False) for s in d["states"]], "no terminal state"),
        (lambda d: d["actions"][0].update(roles=["janitor"]), "janitor"),
        (lambda d: d["actions"][0].update(to="nowhere"), "nowhere"),
        (lambda d: d["states"][3].update(share=0.9), "add up"),
        (lambda d: d["actions"].append({"name": "loop", "from": ["returned"], "to": "new",
                                        "roles": ["receiver"]}), "leaving it"),
    ],
)  # fmt: skip
def test_a_broken_workflow_is_refused_with_a_clear_message(change: Any, message: str) -> None:
    definition = copy.deepcopy(STANDARD)
    change(definition)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        Workflow(code="broken", name="Hỏng", definition=definition).full_clean()
    assert any(message in m for m in caught.value.messages), caught.value.messages


def test_a_state_with_no_way_out_is_refused() -> None:
    definition = copy.deepcopy(STANDARD)
    definition["states"].append({"name": "limbo", "status": 4})
    definition["actions"].append({"name": "park", "from": ["processing"], "to": "limbo",
                                  "roles": ["specialist"]})  # fmt: skip
    with translation.override("vi"), pytest.raises(ValidationError) as caught:
        workflow_parse(definition, subject="dossier")
    assert "Từ trạng thái limbo không thể đi tới trạng thái kết thúc nào." in caught.value.messages


def test_the_whole_path_with_statuses_events_and_due_times(citizen: Any) -> None:
    dossier = submitted(citizen)
    hours = hours_for(dossier.receiving_agency.calendar)
    moment = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    with mock.patch("django.utils.timezone.now", return_value=moment):
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    assert dossier.status == DossierStatus.ACCEPTED
    assert dossier.due_at == add_working_days(moment, dossier.procedure.time_days, hours)
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    assert (dossier.status, dossier.assignee) == (
        DossierStatus.PROCESSING,
        user("chuyenvien.hacthanh"),
    )
    dossier = act(dossier, "chuyenvien.hacthanh", "forward", note="Đủ điều kiện")
    dossier = act(dossier, "lanhdao.hacthanh", "approve")
    assert (dossier.status, dossier.state) == (DossierStatus.PROCESSING, "issuing")
    dossier = act(dossier, "vanthu.hacthanh", "issue")
    assert dossier.status == DossierStatus.FINISHED
    dossier = act(dossier, "tiepnhan.hacthanh", "return_result")
    assert dossier.status == DossierStatus.RETURNED
    assert [(e.action, e.to_status) for e in dossier.events.order_by("id")] == [
        ("submit", 1),
        ("accept", 2),
        ("assign", 4),
        ("forward", 4),
        ("approve", 4),
        ("issue", 9),
        ("return_result", 10),
    ]
    assert AuditEntry.objects.filter(action="dossier.approve", object_id=str(dossier.pk)).exists()
    assert dossier.version == 7


def test_the_clock_stops_for_a_supplement_and_resumes(citizen: Any) -> None:
    dossier = submitted(citizen)
    hours = hours_for(dossier.receiving_agency.calendar)
    accepted = datetime.fromisoformat("2026-03-02T09:00:00+07:00")
    with mock.patch("django.utils.timezone.now", return_value=accepted):
        dossier = act(dossier, "tiepnhan.hacthanh", "accept")
        dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=user("chuyenvien.hacthanh"))
    due = dossier.due_at
    asked = datetime.fromisoformat("2026-03-02T10:00:00+07:00")
    with mock.patch("django.utils.timezone.now", return_value=asked):
        dossier = act(dossier, "chuyenvien.hacthanh", "ask_more", note="Thiếu bản sao")
    assert dossier.status == DossierStatus.SUPPLEMENT_REQUESTED
    assert dossier.paused_at == asked
    back = datetime.fromisoformat("2026-03-04T10:00:00+07:00")  # two working days later
    with mock.patch("django.utils.timezone.now", return_value=back):
        dossier.refresh_from_db()
        dossier = dossier_act(
            dossier=dossier, actor=citizen, action="supplemented", version=dossier.version
        )
    assert dossier.paused_at is None
    assert dossier.status == DossierStatus.PROCESSING
    assert dossier.due_at == add_working_time(due, timedelta(hours=16), hours)


def test_permission_matrix_for_an_action(
    client: Client, token_for: Any, citizen: Any, other_citizen: Any
) -> None:
    dossier = submitted(citizen)
    url = f"/api/v1/dossiers/{dossier.code}/actions"
    body = {"action": "accept", "version": dossier.version}

    def post(headers: dict[str, str]) -> int:
        return client.post(url, body, content_type="application/json", headers=headers).status_code

    assert post({}) == 401
    assert post(token_for(other_citizen)) == 403
    assert post(token_for(citizen)) == 403  # the applicant cannot accept their own dossier
    assert post(token_for(user("tiepnhan"))) == 403  # receiver of another agency
    assert post(token_for(user("chuyenvien.hacthanh"))) == 403  # right agency, wrong role
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.NEW
    ok = client.post(
        url, body, content_type="application/json", headers=token_for(user("tiepnhan.hacthanh"))
    )
    assert ok.status_code == 200
    assert ok.json()["status"]["code"] == 2
    assert "assign" in ok.json()["actions"]
    stale = client.post(
        url, body, content_type="application/json", headers=token_for(user("tiepnhan.hacthanh"))
    )
    assert stale.status_code == 409


def test_a_stale_version_is_a_conflict_and_changes_nothing(citizen: Any) -> None:
    dossier = submitted(citizen)
    old_version = dossier.version
    act(dossier, "tiepnhan.hacthanh", "ask_supplement", note="Thiếu giấy chứng sinh")
    dossier.refresh_from_db()
    with pytest.raises((TransitionConflictError, TransitionForbiddenError)):
        dossier_act(
            dossier=dossier, actor=user("tiepnhan.hacthanh"), action="accept", version=old_version
        )
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUPPLEMENT_REQUESTED


def test_the_citizen_withdraws(citizen: Any) -> None:
    dossier = submitted(citizen)
    dossier = dossier_act(
        dossier=dossier, actor=citizen, action="withdraw", version=dossier.version
    )
    assert dossier.status == DossierStatus.WITHDRAWN
    assert dossier.step_due_at is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_two_concurrent_approvals_exactly_one_succeeds() -> None:
    citizen = User.objects.get(username="038090000001")
    dossier = submitted(citizen)
    specialist = user("chuyenvien.hacthanh")
    dossier = act(dossier, "tiepnhan.hacthanh", "accept")
    dossier = act(dossier, "tiepnhan.hacthanh", "assign", assignee=specialist)
    dossier = act(dossier, "chuyenvien.hacthanh", "forward")
    version = dossier.version
    leaders = [user("lanhdao.hacthanh"), user("lanhdao.hacthanh")]

    def approve(leader: User) -> str:
        try:
            dossier_act(
                dossier=Dossier.objects.get(pk=dossier.pk),
                actor=leader,
                action="approve",
                version=version,
            )
            return "ok"
        except TransitionConflictError:
            return "conflict"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(approve, leaders))
    assert results == ["conflict", "ok"]
    dossier.refresh_from_db()
    assert dossier.state == "issuing"
    assert dossier.events.filter(action="approve").count() == 1


def test_workflows_travel_with_the_catalogue_and_are_checked() -> None:
    from tinhso.catalog.services import CatalogError, catalog_export, catalog_import

    data = catalog_export()
    assert [w["code"] for w in data["workflows"]] == ["lltp-lien-thong", "standard"]
    broken = copy.deepcopy(STANDARD)
    broken["actions"][0]["roles"] = ["janitor"]
    data["workflows"].append({"code": "hong", "name": "Hỏng", "definition": broken})
    data["procedures"][0]["workflow"] = "khong-co"
    with pytest.raises(CatalogError) as caught:
        catalog_import(data=data)
    text = "\n".join(caught.value.problems)
    assert "workflow hong:" in text
    assert "janitor" in text
    assert "field workflow: no workflow 'khong-co'" in text
    assert not Workflow.objects.filter(code="hong").exists()


def test_the_admin_refuses_a_broken_workflow(client: Client) -> None:
    client.login(username="admin", password="demo")
    broken = copy.deepcopy(STANDARD)
    broken["actions"][0]["to"] = "nowhere"
    import json

    response = client.post(
        "/quan-tri/cases/workflow/add/",
        {"code": "thu", "name": "Thử", "definition": json.dumps(broken)},
    )
    assert response.status_code == 200
    assert "nowhere" in response.content.decode()
    assert not Workflow.objects.filter(code="thu").exists()


def test_a_transition_leaves_the_case_as_a_fresh_read_of_its_row(
    client: Client, token_for: Any, citizen: Any
) -> None:
    """The case a transition returns is its row as the move left it: after every kind of
    move (the clock starting, an assignee, the clock paused and resumed) every column equals
    a fresh read, and the API's answer to an action is what a GET of the same dossier
    answers (times in the same zone)."""
    specialist = user("chuyenvien.hacthanh")
    dossier = submitted(citizen)
    steps: list[tuple[User, str, dict[str, Any]]] = [
        (user("tiepnhan.hacthanh"), "accept", {}),
        (user("tiepnhan.hacthanh"), "assign", {"assignee": specialist}),
        (specialist, "ask_more", {"note": "Thiếu bản sao giấy chứng sinh"}),
        (citizen, "supplemented", {}),
    ]
    for actor, action, more in steps:
        dossier = dossier_act(
            dossier=dossier, actor=actor, action=action, version=dossier.version, **more
        )
        fresh = Dossier.objects.get(pk=dossier.pk)
        for field in Dossier._meta.concrete_fields:
            assert getattr(dossier, field.attname) == getattr(fresh, field.attname), (
                action, field.name,
            )  # fmt: skip
    headers = token_for(specialist)
    url = f"/api/v1/dossiers/{dossier.code}"
    acted = client.post(
        f"{url}/actions", {"action": "forward", "version": dossier.version},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert acted.status_code == 200, acted.content
    read = client.get(url, headers=headers)
    assert acted.json() == read.json()
    assert acted.json()["due_at"] is not None
