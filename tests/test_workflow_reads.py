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
