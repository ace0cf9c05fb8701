"""Hourly on the worker: the file store's sweep (core.files.orphans_find, ADR 0016)."""

from __future__ import annotations

import logging

from django_tasks import task

from tinhso.core.schedule import chain_next

log = logging.getLogger(__name__)


@task()
def files_sweep() -> dict[str, int]:
    """Remove files no row names (those of killed processes, past the grace period), clear
    resolved markers, and log what was found; then come back in an hour."""
    from tinhso.core.files import orphans_find

    report = orphans_find(remove=True)
    if report.files_without_row:
        log.warning(
            "file store: removed %d files no row names: %s",
            len(report.files_without_row),
            ", ".join(report.files_without_row[:20]),
        )
    for missing in report.rows_without_file:
        log.error(
            "file store: %s #%s names %s, which is missing (restore it from backup)",
            missing.model,
            missing.pk,
            missing.name,
        )
    chain_next(files_sweep)
    return {
        "files_without_row": len(report.files_without_row),
        "rows_without_file": len(report.rows_without_file),
        "markers_cleared": len(report.markers_cleared),
        "in_grace": report.in_grace,
    }
