"""Products' photos: checked in the request (core.photos.photo_check), kept as they came in
a private folder, cleaned by the worker after commit (core.photos.photo_clean_kept, through
the outbox) and only then shown."""

from __future__ import annotations

from typing import Any

from tinhso.core.files import CheckedFile, store
from tinhso.core.outbox import outbox_put
from tinhso.core.photos import PhotoState, photo_clean_kept
from tinhso.products.models import Product, ProductPhoto

PHOTO_CLEAN = "products.photo_clean"  # the outbox topic (ProductsConfig.ready)


def photo_keep(product: Product, photo: CheckedFile) -> ProductPhoto:
    """Keep a checked photo privately and have the worker clean it; in the caller's
    transaction."""
    kept = ProductPhoto.objects.create(
        product=product, state=PhotoState.PENDING, raw_name=store(photo, folder="products-raw"),
        content_type=photo.content_type, size=photo.size, sha256=photo.sha256,
    )  # fmt: skip
    outbox_put(topic=PHOTO_CLEAN, payload={"id": kept.pk})
    return kept


def photo_clean_stored(payload: dict[str, Any]) -> None:
    photo_clean_kept(ProductPhoto, payload["id"], folder="products")
