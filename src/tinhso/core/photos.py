"""Photos people send (a citizen's report, a producer's product), cleaned before anyone
else sees them.

In the request a photo is only checked (`photo_check`: size, kind, header, pixel count) and
kept as it came in a private folder; after commit the worker cleans it (`photo_clean`) and
only then is it shown (feedback.services.photo_clean_stored, products.photos).

A photo is recognised by its content (JPEG, PNG, or HEIC as phones take them), decoded
whole by Pillow (HEIC through pillow-heif) within a pixel budget, turned upright by its
EXIF orientation, shrunk to at most PHOTO_SIDE pixels on its longer side, and written
again from its pixels only: JPEG (HEIC becomes JPEG) or PNG. Nothing of the original file
survives: no EXIF (the place it was taken, the camera, the time), no XMP, no comments, no
trailing data."""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from tinhso.core.filecheck import IMAGE_MAX_PIXELS
from tinhso.core.files import CheckedFile

PHOTO_SIDE = 1600
MAX_PHOTOS = 5
# The ISO base media file brands of HEIF/HEIC images (ISO/IEC 23008-12).
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# A phone's JPEG may be a multi-picture file (MPO): its first picture is the photo.
_FORMATS = {"JPEG": ["JPEG", "MPO"], "PNG": ["PNG"], "HEIF": ["HEIF"]}


@dataclass(frozen=True)
class CleanPhoto:
    file: CheckedFile
    width: int
    height: int


def photo_limit_bytes() -> int:
    return int(settings.TINHSO_FEEDBACK_PHOTO_MAX_BYTES)


def _kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


_RAW = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"),
        "HEIF": ("image/heic", ".heic")}  # fmt: skip


def _recognised(content: bytes, name: str) -> tuple[str, str]:
    """The file's name as shown in messages and its kind (JPEG, PNG, HEIF), after the
    checks of size and kind by content (ValidationError otherwise)."""
    name = (name or "ảnh").rsplit("/", 1)[-1][:120]
    limit = photo_limit_bytes()
    if len(content) > limit:
        raise ValidationError(
            _("%(name)s is %(size).1f MB; a photo may be at most %(limit)d MB.")
            % {"name": name, "size": len(content) / 1048576, "limit": limit // 1048576},
            code="photo_too_large",
        )
    if not content:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="photo_empty")
    kind = _kind(content[:16])
    if kind is None:
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG or HEIC; its content was checked, not its name).")
            % {"name": name},
            code="photo_type",
        )
    if kind == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    return name, kind


def photo_check(content: bytes, *, name: str) -> CheckedFile:
    """What a report's photo must pass before it is kept (in the request, cheaply): its
    size, its kind by content, and a header Pillow reads with a pixel count within the
    budget. The whole image is decoded and cleaned after commit (`photo_clean`). Raises
    ValidationError as `photo_clean` does."""
    name, kind = _recognised(content, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=_FORMATS[kind]) as opened:
                if opened.width * opened.height > IMAGE_MAX_PIXELS:
                    raise _too_many_pixels(name)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels(name) from None
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(
            _("%(name)s is not a valid photo (it is damaged or incomplete).") % {"name": name},
            code="photo_malformed",
        ) from None
    content_type, extension = _RAW[kind]
    return CheckedFile(
        original_name=name, content=content, content_type=content_type, extension=extension,
        sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip


def photo_clean(content: bytes, *, name: str) -> CleanPhoto:
    """The cleaned photo, or ValidationError with a message naming the file (codes:
    photo_too_large, photo_empty, photo_type, photo_malformed, photo_too_many_pixels)."""
    name, kind = _recognised(content, name)
    malformed = ValidationError(
        _("%(name)s is not a valid photo (it is damaged or incomplete).") % {"name": name},
        code="photo_malformed",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=_FORMATS[kind]) as opened:
                if opened.width * opened.height > IMAGE_MAX_PIXELS:
                    raise _too_many_pixels(name)
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels(name) from None
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise malformed from None
    image.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
    # Only the pixels go on: nothing the original carried (EXIF, XMP, ICC, comments).
    image.info = {}
    out = io.BytesIO()
    if kind == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", ".png"
    else:
        if image.mode != "RGB":
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
        content_type, extension = "image/jpeg", ".jpg"
    data = out.getvalue()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    checked = CheckedFile(
        original_name=f"{stem}{extension}",
        content=data,
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return CleanPhoto(checked, image.width, image.height)


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("%(name)s is too large an image; an image may have at most %(limit)d megapixels.")
        % {"name": name, "limit": IMAGE_MAX_PIXELS // 1_000_000},
        code="photo_too_many_pixels",
    )


class PhotoState(models.TextChoices):
    PENDING = "pending", _lazy("Being cleaned")
    READY = "ready", _lazy("Ready")
    FAILED = "failed", _lazy("Not a usable photo")


class KeptPhoto(models.Model):
    """What a module keeps of a photo someone sent (a report's, a product's): as it came
    (`raw_name`, in a private folder never served) until the worker cleans it after commit
    (`photo_clean_kept`); then only the clean one (`storage_name`) is shown."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=8, choices=PhotoState.choices, default=PhotoState.PENDING)
    raw_name = models.CharField(max_length=255, blank=True)
    storage_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["added_at", "id"]


def photo_clean_kept(model: type[KeptPhoto], pk: int, *, folder: str) -> None:
    """Clean a kept photo (an outbox handler's work: at least once, so idempotent): store
    the clean one in `folder`, where it is served, and remove the original; a photo that
    cannot be decoded is marked failed (never shown) and its original removed too."""
    from tinhso.core.files import discard, read_bytes, store

    with transaction.atomic():
        photo = model._default_manager.select_for_update().filter(pk=pk).first()
        if photo is None or photo.state != PhotoState.PENDING:
            return  # delivered before, or its record is gone
        try:
            clean = photo_clean(read_bytes(photo.raw_name), name=f"{photo.public_id}")
        except (ValidationError, FileNotFoundError):
            photo.state = PhotoState.FAILED
        else:
            photo.storage_name = store(clean.file, folder=folder)
            photo.content_type, photo.size = clean.file.content_type, clean.file.size
            photo.sha256, photo.width, photo.height = clean.file.sha256, clean.width, clean.height
            photo.state = PhotoState.READY
        discard(photo.raw_name)
        photo.raw_name = ""
        photo.save()
