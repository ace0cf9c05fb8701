"""Tabular files into the tabular store, in a background task (ADR 0028).

Uploading or replacing a CSV or XLSX file (services) marks the resource `pending` and
enqueues `datastore_load_run` in the same transaction; the task reads the stored file as a
stream (datastore.csv_read / xlsx_read), writes it in batches into a new table while the
previous one is still served, records the rows loaded so far on the resource after each
batch (`loading`), and swaps the new table in at the end, in one transaction with the
activity and audit rows (`done`). A file that cannot be loaded leaves the previous table
as it was and its reason on the resource (`error`).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tinhso.core import files as stored_files
from tinhso.core.audit import audit_record
from tinhso.opendata import datastore
from tinhso.opendata.formats import TABULAR
from tinhso.opendata.models import Activity, DatastoreTable, LoadStatus, Resource


def _record(resource: Resource, kind: str, note: str, **data: Any) -> None:
    """The load's activity row and audit entry (by the platform: the upload's own entry
    names who uploaded the file)."""
    dataset = resource.dataset
    Activity.objects.create(dataset=dataset, actor=None, kind=kind, note=note[:500])
    audit_record(
        actor=None,
        action=f"opendata.{kind}",
        obj=dataset,
        data={"name": dataset.name, "resource": str(resource.pk), **data},
    )


def _load_failed(resource_id: str, table: str, message: str) -> str:
    with transaction.atomic():
        datastore.table_drop(table)
        resource = (
            Resource.objects.select_for_update()
            .select_related("dataset")
            .filter(pk=resource_id)
            .first()
        )
        if resource is None or resource.load_table != table:
            return "superseded"
        resource.load_status = LoadStatus.ERROR
        resource.load_error = message[:2000]
        resource.load_table = ""
        resource.load_updated_at = timezone.now()
        resource.save(update_fields=["load_status", "load_error", "load_table", "load_updated_at"])
        _record(resource, "datastore_failed", f"{resource.name}: {message}", error=message[:500])
    return "error"


def datastore_load(
    resource_id: str,
    stored_file: str,
    *,
    batch_rows: int = datastore.BATCH_ROWS,
    sample_rows: int = datastore.SAMPLE_ROWS,
) -> str:
    """Load a resource's stored file into the tabular store (the body of the load task):
    read as a stream, written in batches into a new table while the previous one is still
    served, with the rows loaded so far on the resource after each batch; then, in one
    transaction, the new table named in DatastoreTable, the old one dropped, the status
    done and the activity and audit rows written. If the file cannot be loaded the new
    table is dropped, the previous one stays, and the status says why. Returns "done",
    "error" or "superseded" (the resource has another file since, or is gone, or another
    run took this load over)."""
    with transaction.atomic():
        resource = Resource.objects.select_for_update().filter(pk=resource_id).first()
        if (
            resource is None
            or resource.stored_file != stored_file
            or resource.format not in TABULAR
            or resource.load_status == LoadStatus.DONE
        ):
            return "superseded"
        prefix = f"ds_{resource.pk.hex}"
        table = f"{prefix}_{secrets.token_hex(4)}"
        resource.load_status = LoadStatus.LOADING
        resource.load_rows = 0
        resource.load_error = ""
        resource.load_table = table
        resource.load_updated_at = timezone.now()
        resource.save(
            update_fields=[
                "load_status",
                "load_rows",
                "load_error",
                "load_table",
                "load_updated_at",
            ]
        )
        current = DatastoreTable.objects.filter(resource=resource).values_list("table", flat=True)
        served = set(current)
    # Tables of a run that died half-way (its worker killed): never named, never served.
    for leftover in datastore.tables_named(prefix):
        if leftover not in served and leftover != table:
            with transaction.atomic():
                datastore.table_drop(leftover)

    def progress(rows: int) -> None:
        Resource.objects.filter(pk=resource_id, load_table=table).update(
            load_rows=rows, load_updated_at=timezone.now()
        )

    read = datastore.reader_for(resource.format)
    try:
        loaded = datastore.table_load(
            table,
            lambda: read(lambda: stored_files.open_stream(stored_file)),
            progress=progress,
            batch_rows=batch_rows,
            sample_rows=sample_rows,
        )
    except datastore.DatastoreError as exc:
        return _load_failed(
            resource_id, table, " ".join(m for ms in exc.errors.values() for m in ms)
        )
    except Exception as exc:
        message = _("The file could not be loaded (%s).") % type(exc).__name__
        if _load_failed(resource_id, table, message) == "superseded":
            return "superseded"  # another run dropped this one's table: not a failure
        raise  # the task is recorded as failed, with its traceback, for the operators
    with transaction.atomic():
        resource = (
            Resource.objects.select_for_update()
            .select_related("dataset")
            .filter(pk=resource_id)
            .first()
        )
        if resource is None or resource.load_table != table:  # deleted, or taken over
            datastore.table_drop(table)
            return "superseded"
        previous = DatastoreTable.objects.filter(resource=resource).first()
        DatastoreTable.objects.update_or_create(
            resource=resource,
            defaults={
                "table": table,
                "fields": loaded.fields,
                "row_count": loaded.row_count,
                "bad_rows": loaded.bad_rows,
                "bad_row_count": loaded.bad_row_count,
                "encoding": loaded.encoding,
                "loaded_at": timezone.now(),
            },
        )
        if previous is not None and previous.table != table:
            datastore.table_drop(previous.table)
        resource.load_status = LoadStatus.DONE
        resource.load_rows = loaded.row_count
        resource.load_table = ""
        resource.load_updated_at = timezone.now()
        resource.save(update_fields=["load_status", "load_rows", "load_table", "load_updated_at"])
        _record(
            resource,
            "datastore_loaded",
            resource.name,
            rows=loaded.row_count,
            bad_rows=loaded.bad_row_count,
        )
    return "done"


@task()
def datastore_load_run(resource_id: str, stored_file: str) -> str:
    """Load a resource's CSV or XLSX file into the tabular store (datastore_load). Enqueued
    in the transaction that stored the file; a run for a file the resource no longer has
    does nothing."""
    return datastore_load(resource_id, stored_file)
