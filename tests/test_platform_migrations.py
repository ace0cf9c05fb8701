"""The data migrations that moved numbering into core carry every row over: codes issued
today continue without a duplicate."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from test_submission import submission
from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.models import NumberSequence
from tinhso.dossiers.services import dossier_submit

Node = tuple[str, str]


def _before(executor: MigrationExecutor, app: str, suffix: str) -> Node:
    """The migration of `app` just before the one named `…_{suffix}`."""
    graph = executor.loader.graph
    (node,) = [n for n in graph.nodes if n[0] == app and n[1].endswith(suffix)]
    (parent,) = [p for p in graph.node_map[node].parents if p.key[0] == app]
    return parent.key


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded_transactional_db")
def test_rows_from_before_are_carried_into_core() -> None:
    citizen = User.objects.get(username="038090000001")
    agency = Agency.objects.get(admin_unit_name="Phường Hạc Thành")
    dossier_submit(submission=submission(citizen))

    executor = MigrationExecutor(connection)
    targets = [_before(executor, "dossiers", "_daily_sequences_to_core")]
    executor.migrate(targets)
    old = executor.loader.project_state(targets).apps
    today = timezone.localdate()
    old.get_model("dossiers", "DailySequence").objects.filter(
        agency_id=agency.pk, day=today
    ).update(last=41)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    sequence = NumberSequence.objects.get(
        register="dossier", scope=str(agency.pk), period=today.isoformat()
    )
    assert sequence.last == 41
    assert dossier_submit(submission=submission(citizen)).code.endswith(f"{today:%y%m%d}-0042")
