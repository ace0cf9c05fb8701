"""A batch's printable labels: parts of LABELS_PER_SHEET stamps, each a PDF rendered by the
worker (products.labels) when the producer asks for it — at once for a batch that fits in
one part — and kept in the file store; never on the request path."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from tinhso.core.files import CheckedFile, store
from tinhso.products.gs1 import dl_uri
from tinhso.products.labels import Label, label_sheet_pdf
from tinhso.products.models import Batch, BatchState, LabelSheet, Stamp

LABELS_PER_SHEET = 2_000


def parts_of(batch: Batch) -> int:
    return (batch.quantity + LABELS_PER_SHEET - 1) // LABELS_PER_SHEET


def part_range(batch: Batch, part: int) -> tuple[int, int]:
    """The first and last stamp numbers of part `part` (1…) of the batch's labels."""
    return (part - 1) * LABELS_PER_SHEET + 1, min(batch.quantity, part * LABELS_PER_SHEET)


def stamp_uri(gtin: str, lot: str, serial: str) -> str:
    return dl_uri(settings.TINHSO_PUBLIC_URL, gtin, lot, serial)


def sheet_request(batch: Batch, part: int) -> LabelSheet | None:
    """Ask for part `part` (1…) of the batch's labels; None when the batch has no such part
    or is not issued yet. Asking again for a part keeps the one asked for or made."""
    if batch.state != BatchState.ISSUED or not 1 <= part <= parts_of(batch):
        return None
    first, last = part_range(batch, part)
    with transaction.atomic():
        sheet, created = LabelSheet.objects.get_or_create(
            batch=batch, part=part, defaults={"first": first, "last": last}
        )
        if created:
            # The task's row commits with the sheet's (the database backend).
            sheet_render_task.enqueue(sheet.pk)
    return sheet


def sheets_after_issue(batch_id: int) -> None:
    """A batch that fits in one part gets its labels without asking."""
    batch = Batch.objects.get(pk=batch_id)
    if batch.state == BatchState.ISSUED and parts_of(batch) == 1:
        sheet_request(batch, 1)


def sheet_render(sheet_id: int) -> bool:
    """Render and keep a part's labels (once; False if it was done already)."""
    sheet = LabelSheet.objects.select_related("batch__product__producer").get(pk=sheet_id)
    if sheet.storage_name:
        return False
    batch = sheet.batch
    product = batch.product
    expiry = f" · HSD {batch.expires_on:%d/%m/%Y}" if batch.expires_on else ""
    caption = (product.name, f"Lô {batch.lot}", f"NSX {batch.produced_on:%d/%m/%Y}{expiry}")
    serials = (
        Stamp.objects.filter(batch=batch, number__gte=sheet.first, number__lte=sheet.last)
        .order_by("number").values_list("serial", flat=True)
    )  # fmt: skip
    labels = [
        Label(uri=stamp_uri(product.gtin, batch.lot, serial), serial=serial, lines=caption)
        for serial in serials.iterator(chunk_size=2_000)
    ]
    content = label_sheet_pdf(
        labels, title=f"Tem truy xuất {batch.code} – phần {sheet.part}",
        author=product.producer.name,
    )  # fmt: skip
    checked = CheckedFile(
        original_name=f"{batch.code}-{sheet.part}.pdf", content=content,
        content_type="application/pdf", extension=".pdf",
        sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip
    with transaction.atomic():
        locked = LabelSheet.objects.select_for_update().get(pk=sheet.pk)
        if locked.storage_name:
            return False
        locked.storage_name = store(checked, folder="stamp-labels")
        locked.size, locked.ready_at = len(content), timezone.now()
        locked.save(update_fields=["storage_name", "size", "ready_at"])
    return True


@task()
def sheet_render_task(sheet_id: int) -> bool:
    return sheet_render(sheet_id)
