"""Loading tabular files into the tabular store in a background task (ADR 0028): the status
a resource goes through (pending, loading N rows, done, error) on the publishers' page and in
the CKAN API, a failure that keeps the previous table, the rows written in batches into a
new table swapped in at the end, types widened when a value past the sample does not fit,
and a file read as a stream: a load's memory is bounded by its batches, not by the file."""

from __future__ import annotations

import codecs
import io
import tracemalloc
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from flows import user
from tinhso.agencies.models import Agency
from tinhso.core.models import AuditEntry
from tinhso.opendata import datastore, loading, services
from tinhso.opendata.formats import detect
from tinhso.opendata.loading import datastore_load
from tinhso.opendata.models import Activity, Dataset, DatastoreTable, LoadStatus, Resource
from tinhso.opendata.services import (
    ResourceInput,
    dataset_create,
    resource_create,
    resource_replace_file,
)

pytestmark = pytest.mark.django_db
API = "/api/3/action/"
CSV = "Mã,Xã,Dân số\r\n1,Phường Hạc Thành,85000\r\n2,Xã Hoằng Hóa,42000\r\n3,Xã Nga Sơn,\r\n"


@pytest.fixture
def queued(settings: Any) -> None:
    """Tasks are queued and left there (as on a worker that has not picked them up yet)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _dataset(name: str = "tai-bang-thu") -> Dataset:
    agency = Agency.objects.get(short_name="SYT")
    return dataset_create(
        actor=user("dulieu.yte"),
        data={"name": name, "title": "Bảng tải thử", "owner_org": agency.code},
    )


def _resource(dataset: Dataset, content: bytes, filename: str = "bang.csv") -> Resource:
    return resource_create(
        actor=user("dulieu.yte"),
        dataset=dataset,
        data=ResourceInput(name="Bảng", file=detect(filename, content)),
    )


def _fresh(resource: Resource) -> Resource:
    return Resource.objects.select_related("datastore").get(pk=resource.pk)


def _rows(resource: Resource) -> list[dict[str, Any]]:
    table = DatastoreTable.objects.get(resource=resource)
    request = datastore.SearchRequest(limit=1000)
    return datastore.search(table.table, table.fields, table.row_count, request).records


def _token(token_for: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": token_for(user("dulieu.yte"))["Authorization"]}


def _broken_xlsx() -> bytes:
    """Recognised as a spreadsheet (a zip with a workbook) but unreadable as one."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "không phải XML")
    return out.getvalue()


# --- Status ---------------------------------------------------------------------------------


def test_an_upload_is_queued_in_its_transaction_then_loaded_with_progress(
    queued: None, client: Client, token_for: Any, login_client: Any, vi: None
) -> None:
    dataset = _dataset()
    resource = _fresh(_resource(dataset, CSV.encode()))
    # Queued, not loaded: the request did not read the rows.
    assert resource.load_status == LoadStatus.PENDING
    assert resource.load_task_id
    assert not hasattr(resource, "datastore")
    shown = client.get(API + "resource_show", {"id": str(resource.pk)}, **_token(token_for))
    result = shown.json()["result"]
    assert result["datastore_active"] is False
    assert result["datastore_load"]["status"] == "pending"
    status = client.get(
        API + "xloader_status", {"resource_id": str(resource.pk)}, **_token(token_for)
    )
    assert status.json()["result"]["status"] == "pending"
    assert status.json()["result"]["job_id"] == resource.load_task_id
    page = login_client(user("dulieu.yte")).get(f"/du-lieu-mo/quan-ly/{dataset.name}/")
    html = page.content.decode()
    assert 'data-status="pending"' in html
    assert 'hx-trigger="every 3s"' in html  # htmx refreshes the list while a load runs
    assert f'<a href="/du-lieu-mo/quan-ly/{dataset.name}/">' in html  # and a link does without

    seen: list[tuple[str, int]] = []
    write = datastore._write

    def watched(table: str, columns: list[str], batch: list[list[Any]]) -> None:
        now = Resource.objects.get(pk=resource.pk)
        seen.append((now.load_status, now.load_rows))
        write(table, columns, batch)

    datastore._write = watched  # type: ignore[assignment]
    try:
        outcome = datastore_load(str(resource.pk), resource.stored_file, batch_rows=1)
    finally:
        datastore._write = write  # type: ignore[assignment]
    assert outcome == "done"
    # Loading, with the rows of the batches before each batch.
    assert seen == [("loading", 0), ("loading", 1), ("loading", 2)]
    resource = _fresh(resource)
    assert resource.load_status == LoadStatus.DONE
    assert resource.load_rows == 3
    assert resource.load_table == ""
    assert [r["Xã"] for r in _rows(resource)] == ["Phường Hạc Thành", "Xã Hoằng Hóa", "Xã Nga Sơn"]
    done = client.get(
        API + "xloader_status", {"resource_id": str(resource.pk)}, **_token(token_for)
    )
    assert done.json()["result"]["status"] == "complete"
    assert done.json()["result"]["task_info"]["rows_loaded"] == 3
    assert done.json()["result"]["task_info"]["datastore_active"] is True
    kinds = list(Activity.objects.filter(dataset=dataset).values_list("kind", flat=True))
    assert "datastore_loaded" in kinds
    assert AuditEntry.objects.filter(action="opendata.datastore_loaded").exists()
    html = login_client(user("dulieu.yte")).get(f"/du-lieu-mo/quan-ly/{dataset.name}/")
    assert "hx-trigger" not in html.content.decode()
    assert "3 dòng" in html.content.decode()
    # A second run of the same load (a worker thought lost) changes nothing.
    assert datastore_load(str(resource.pk), resource.stored_file) == "superseded"


def test_the_task_path_loads_on_the_immediate_backend(client: Client, token_for: Any) -> None:
    """Through the CKAN API: the task is enqueued in the request's transaction (run at once
    by the tests' immediate backend, by the worker after the commit in production)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = _dataset()
    created = client.post(
        API + "resource_create",
        {"package_id": dataset.name, "upload": SimpleUploadedFile("bang.csv", CSV.encode())},
        **_token(token_for),
    )
    assert created.status_code == 200, created.content[:300]
    result = created.json()["result"]
    assert result["datastore_active"] is True
    assert result["datastore_load"]["status"] == "done"
    assert result["datastore_load"]["rows_loaded"] == 3
    assert result["datastore_rows"] == 3


def test_a_csv_whose_header_cannot_be_read_is_refused_in_the_request(queued: None) -> None:
    dataset = _dataset()
    with pytest.raises(services.InvalidError) as caught:
        _resource(dataset, codecs.BOM_UTF8)  # text, named .csv, but not even a header
    assert "upload" in caught.value.errors
    assert not dataset.resources.exists()


# --- Failures keep the previous table -------------------------------------------------------


def test_a_file_that_cannot_be_loaded_keeps_the_previous_table_and_says_why(
    client: Client, token_for: Any
) -> None:
    dataset = _dataset()
    resource = _resource(dataset, CSV.encode())
    before = DatastoreTable.objects.get(resource=resource).table
    resource = resource_replace_file(
        actor=user("dulieu.yte"), resource=resource, file=detect("moi.xlsx", _broken_xlsx())
    )
    resource = _fresh(resource)
    assert resource.load_status == LoadStatus.ERROR
    assert "không đọc được" in resource.load_error.lower()
    assert resource.datastore.table == before
    assert len(_rows(resource)) == 3  # still served
    status = client.get(
        API + "xloader_status", {"resource_id": str(resource.pk)}, **_token(token_for)
    )
    body = status.json()["result"]
    assert body["status"] == "error"
    assert body["task_info"]["error"]["message"] == resource.load_error
    assert body["task_info"]["datastore_active"] is True
    assert Activity.objects.filter(dataset=dataset, kind="datastore_failed").exists()
    assert datastore.tables_named(f"ds_{resource.pk.hex}") == [before]
    page = Client()
    page.force_login(user("dulieu.yte"))
    html = page.get(f"/du-lieu-mo/quan-ly/{dataset.name}/").content.decode()
    assert 'data-status="error"' in html


def test_a_failure_half_way_drops_the_new_table_and_keeps_the_old(
    queued: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _dataset()
    resource = _resource(dataset, CSV.encode())
    assert datastore_load(str(resource.pk), resource.stored_file) == "done"
    old = DatastoreTable.objects.get(resource=resource).table
    bigger = CSV + "".join(f"{n},Xã {n},{n * 10}\r\n" for n in range(4, 30))
    resource = resource_replace_file(
        actor=user("dulieu.yte"), resource=resource, file=detect("moi.csv", bigger.encode())
    )
    write = datastore._write
    calls = [0]

    def failing(table: str, columns: list[str], batch: list[list[Any]]) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("the database went away")
        write(table, columns, batch)

    monkeypatch.setattr(datastore, "_write", failing)
    with pytest.raises(RuntimeError):
        datastore_load(str(resource.pk), resource.stored_file, batch_rows=10)
    resource = _fresh(resource)
    assert resource.load_status == LoadStatus.ERROR
    assert "RuntimeError" in resource.load_error
    assert resource.datastore.table == old
    assert len(_rows(resource)) == 3
    assert datastore.tables_named(f"ds_{resource.pk.hex}") == [old]  # the half-load is gone


def test_a_load_for_a_replaced_file_does_nothing_and_a_dead_runs_table_is_dropped(
    queued: None,
) -> None:
    dataset = _dataset()
    first = _resource(dataset, CSV.encode())
    first_file = first.stored_file
    second = resource_replace_file(
        actor=user("dulieu.yte"),
        resource=first,
        file=detect("moi.csv", (CSV + "4,Xã Mới,1\r\n").encode()),
    )
    assert datastore_load(str(first.pk), first_file) == "superseded"
    assert not DatastoreTable.objects.filter(resource=first).exists()
    # A worker killed half-way left a table nobody names.
    dead = f"ds_{first.pk.hex}_deadbeef"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{dead}" (x integer)')
    assert datastore_load(str(second.pk), second.stored_file) == "done"
    assert len(_rows(second)) == 4
    assert dead not in datastore.tables_named(f"ds_{first.pk.hex}")


def test_a_resource_deleted_during_its_load_leaves_no_table(
    queued: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource = _resource(_dataset(), CSV.encode())
    write = datastore._write

    def deleting(table: str, columns: list[str], batch: list[list[Any]]) -> None:
        Resource.objects.filter(pk=resource.pk).delete()
        write(table, columns, batch)

    monkeypatch.setattr(datastore, "_write", deleting)
    assert datastore_load(str(resource.pk), resource.stored_file) == "superseded"
    assert datastore.tables_named(f"ds_{resource.pk.hex}") == []


# --- Batches and types ----------------------------------------------------------------------


def test_rows_are_written_in_batches_with_progress_after_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = "Mã,Tên\r\n" + "".join(f"{n},Tên {n}\r\n" for n in range(1, 26))
    batches: list[int] = []
    progress: list[int] = []
    write = datastore._write

    def spy(table: str, columns: list[str], batch: list[list[Any]]) -> None:
        batches.append(len(batch))
        write(table, columns, batch)

    monkeypatch.setattr(datastore, "_write", spy)
    loaded = datastore.table_load(
        "ds_thu_lo",
        lambda: datastore.csv_read(lambda: io.BytesIO(content.encode())),
        progress=progress.append,
        batch_rows=10,
    )
    assert batches == [10, 10, 5]
    assert progress == [10, 20, 25]
    assert loaded.row_count == 25
    assert [f["type"] for f in loaded.fields] == ["int", "text"]
    datastore.table_drop("ds_thu_lo")


def test_a_value_past_the_sample_widens_its_column_in_a_second_pass() -> None:
    rows = [f"{n},{n},{n}" for n in range(1, 21)]
    rows[14] = "15,1.5,15"  # past the sample: int → numeric
    rows[17] = "18,18,mười tám"  # int → text
    content = ("A,B,C\r\n" + "\r\n".join(rows) + "\r\n").encode()
    opened = [0]

    def reading() -> datastore.Reading:
        opened[0] += 1
        return datastore.csv_read(lambda: io.BytesIO(content))

    loaded = datastore.table_load("ds_thu_kieu", reading, batch_rows=4, sample_rows=5)
    assert opened[0] == 2
    assert [f["type"] for f in loaded.fields] == ["int", "numeric", "text"]
    found = datastore.search(
        "ds_thu_kieu", loaded.fields, loaded.row_count, datastore.SearchRequest(limit=50)
    )
    assert found.total == 20
    assert found.records[14]["B"] == 1.5
    assert found.records[17]["C"] == "mười tám"
    assert found.records[0]["C"] == "1"
    datastore.table_drop("ds_thu_kieu")
    # A file whose values all fit the sample's types is read once.
    opened[0] = 0
    content = ("A\r\n" + "".join(f"{n}\r\n" for n in range(30))).encode()
    datastore.table_load("ds_thu_kieu", reading, batch_rows=4, sample_rows=5)
    assert opened[0] == 1
    datastore.table_drop("ds_thu_kieu")


class _Unseekable(io.RawIOBase):
    """A body that can only be read forward, as an object store's is."""

    def __init__(self, content: bytes) -> None:
        super().__init__()
        self._source = io.BytesIO(content)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._source.readinto(buffer)


def test_a_spreadsheet_from_a_stream_that_cannot_seek_is_read_row_by_row() -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Năm", "Doanh thu"])
    for year in range(2000, 2030):
        sheet.append([year, year * 1.5])
    out = io.BytesIO()
    book.save(out)
    batches: list[int] = []
    loaded = datastore.table_load(
        "ds_thu_bang_tinh",
        lambda: datastore.xlsx_read(lambda: _Unseekable(out.getvalue())),
        progress=batches.append,
        batch_rows=8,
    )
    assert batches == [8, 16, 24, 30]
    assert [f["type"] for f in loaded.fields] == ["int", "numeric"]
    found = datastore.search(
        "ds_thu_bang_tinh", loaded.fields, loaded.row_count, datastore.SearchRequest(limit=1)
    )
    assert found.records == [{"_id": 1, "Năm": 2000, "Doanh thu": 3000}]
    datastore.table_drop("ds_thu_bang_tinh")


def test_the_page_says_how_many_rows_are_loaded_so_far(
    queued: None, login_client: Any, vi: None
) -> None:
    dataset = _dataset()
    resource = _resource(dataset, CSV.encode())
    Resource.objects.filter(pk=resource.pk).update(load_status=LoadStatus.LOADING, load_rows=120000)
    html = (
        login_client(user("dulieu.yte"))
        .get(f"/du-lieu-mo/quan-ly/{dataset.name}/")
        .content.decode()
    )
    assert 'data-status="loading"' in html
    assert "120000 dòng" in html
    assert 'hx-trigger="every 3s"' in html


# --- Memory ---------------------------------------------------------------------------------


class _Generated(io.RawIOBase):
    """A CSV file of `rows` rows made as it is read, never whole in memory."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self._lines = self._make(rows)
        self._pending = b""

    @staticmethod
    def _make(rows: int) -> Iterator[bytes]:
        yield 'Mã ĐVHC,"Xã, phường",Ngày,Số hồ sơ,Tỷ lệ\r\n'.encode()
        for n in range(rows):
            day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}"
            yield f"{n % 9000},Xã Hoằng {n % 500},{day},{n % 400},{n % 97}.5\r\n".encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._pending) < len(view):
            line = next(self._lines, b"")
            if not line:
                break
            self._pending += line
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _generated_size(rows: int) -> int:
    return sum(len(line) for line in _Generated._make(rows))


def test_a_large_file_is_streamed_with_memory_bounded_by_the_batch(
    queued: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 100_000
    size = _generated_size(rows)  # about 5 MB
    dataset = _dataset()
    resource = _resource(dataset, next(_Generated._make(1)) + b"1,X,2025-01-01,1,1.5\r\n")
    monkeypatch.setattr(loading.stored_files, "open_stream", lambda name: _Generated(rows))
    # Once first, so what a first call allocates for good (imports, compiled patterns) is
    # not counted.
    datastore.table_load("ds_thu_nong", lambda: datastore.csv_read(lambda: _Generated(100)))
    datastore.table_drop("ds_thu_nong")
    tracemalloc.start()
    try:
        outcome = datastore_load(
            str(resource.pk), resource.stored_file, batch_rows=200, sample_rows=200
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome == "done"
    resource = _fresh(resource)
    assert resource.datastore.row_count == rows
    assert [f["type"] for f in resource.datastore.fields] == [
        "int", "text", "date", "int", "numeric",
    ]  # fmt: skip
    # Reading the whole file would take more than its size; a batch of 200 rows is a
    # small part of it, whatever the file's size (about 0.7 MB here, for 4 MB).
    assert peak < size / 4, (peak, size)
