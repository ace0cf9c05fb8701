"""A request reads each workflow row once (cases.selectors): the action, the actions
offered and the inbox's inter-agency filters share one read; the next request reads the
row again, so an edit is seen at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from flows import user
from test_submission import submission
from tinhso.cases.models import Workflow
from tinhso.dossiers.services import dossier_submit

pytestmark = pytest.mark.django_db


def workflow_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"dossiers_workflow"' in q["sql"]]


def test_a_request_reads_the_workflow_once_and_the_next_one_again(
    client: Client, citizen: Any
) -> None:
    dossier = dossier_submit(submission=submission(citizen))
    client.force_login(user("tiepnhan.hacthanh"))
    with CaptureQueriesContext(connection) as acting:
        answer = client.post(
            f"/can-bo/ho-so/{dossier.code}/thao-tac/",
            {"action": "accept", "version": dossier.version},
        )
    assert answer.status_code == 302
    # One read of its workflow, one of every dossier workflow (the inter-agency filters).
    assert len(workflow_reads(acting)) <= 2, workflow_reads(acting)
    with CaptureQueriesContext(connection) as page:
        assert client.get(f"/can-bo/ho-so/{dossier.code}/").status_code == 200
    assert 1 <= len(workflow_reads(page)) <= 2, workflow_reads(page)

    # An edit between two requests is seen by the next one.
    workflow = Workflow.objects.get(code=dossier.procedure.workflow)
    definition = workflow.definition
    for action in definition["actions"]:
        if action["name"] == "assign":
            action["label"] = "Phân công (đã sửa)"
    workflow.definition = definition
    workflow.save()
    page = client.get(f"/can-bo/ho-so/{dossier.code}/")
    assert "Phân công (đã sửa)" in page.content.decode()


def test_a_move_keeps_the_related_rows_it_had_and_reads_a_changed_one_again(
    citizen: Any,
) -> None:
    """After its UPDATE the case is read again; the procedure, agency and applicant it had
    loaded are kept (their keys did not change), so the effects and notifications do not read
    them again, while a key the move changed (the assignee) gives the new row."""
    from tinhso.dossiers.selectors import dossier_by_code
    from tinhso.dossiers.transitions import dossier_act

    submitted = dossier_submit(submission=submission(citizen))
    dossier = dossier_by_code(submitted.code)
    assert dossier is not None
    procedure, agency, applicant = dossier.procedure, dossier.receiving_agency, dossier.applicant
    accepted = dossier_act(
        dossier=dossier, actor=user("tiepnhan.hacthanh"), action="accept", version=dossier.version
    )
    assert accepted.version == submitted.version + 1
    assert accepted.procedure is procedure
    assert accepted.receiving_agency is agency
    assert accepted.applicant is applicant
    specialist = user("chuyenvien.hacthanh")
    with CaptureQueriesContext(connection) as assigning:
        assigned = dossier_act(
            dossier=accepted, actor=user("tiepnhan.hacthanh"), action="assign",
            version=accepted.version, assignee=specialist,
        )  # fmt: skip
    assert assigned.assignee == specialist
    assert assigned.procedure is procedure
    reads = [q["sql"] for q in assigning.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "catalog_procedure" WHERE' in sql], reads
