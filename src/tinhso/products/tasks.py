"""The products' hourly work on the task worker: the scans rolled into the figures, the
producers told of certificates ending soon. (A
batch's stamps are issued by services.stamps_issue_task, its labels rendered by
labels_service.sheet_render_task.)"""

from __future__ import annotations

from django_tasks import task

from tinhso.core.schedule import chain_next
from tinhso.products.reminders import certificates_remind
from tinhso.products.scans import scans_roll


@task()
def products_hourly() -> int:
    """Roll the scans into the figures, tell the producers whose certificates end soon,
    then come back in an hour."""
    counted = scans_roll()
    certificates_remind()
    chain_next(products_hourly)
    return counted
