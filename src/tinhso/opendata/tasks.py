"""Hourly: the platform's own datasets are regenerated from its records (ADR 0014)."""

from __future__ import annotations

from django_tasks import task

from tinhso.core.schedule import chain_next
from tinhso.opendata.platform import platform_datasets_refresh


@task()
def opendata_refresh() -> int:
    """Refresh what changed, then come back in an hour (the worker keeps it going)."""
    changed = platform_datasets_refresh()
    chain_next(opendata_refresh)
    return changed
