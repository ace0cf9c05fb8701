"""OCOP products and traceability stamps: producers and their products, OCOP applications
(cases the workflow engine moves) with their evidence and the council's scores, the
certificates (signed PDFs with a term), stamp batches and their stamps (GS1 Digital Link
URIs with random serials), every scan of a stamp, and the counterfeit signals (cases the
market inspectors handle)."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tinhso.cases.base import CaseMove
from tinhso.cases.models import Case
from tinhso.core.photos import KeptPhoto, PhotoState

__all__ = ["PhotoState"]


class ProducerKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    COOPERATIVE = "cooperative", _("Cooperative")
    HOUSEHOLD = "household", _("Household")


class Producer(models.Model):
    """Who makes products: a business or cooperative (by its tax code) or a household (by
    its head's personal ID, taken from the population registry), in a commune; the account
    that manages it, and how many stamps it may order."""

    kind = models.CharField(_("kind"), max_length=16, choices=ProducerKind.choices)
    name = models.CharField(_("name"), max_length=255)
    name_folded = models.CharField(max_length=255, db_index=True, editable=False)
    tax_code = models.CharField(_("tax code"), max_length=14, blank=True)
    personal_id = models.CharField(_("personal ID"), max_length=12, blank=True)
    commune = models.ForeignKey(
        "agencies.Agency", verbose_name=_("commune or ward"), on_delete=models.PROTECT,
        related_name="producers",
    )  # fmt: skip
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("managed by"), on_delete=models.PROTECT,
        related_name="producers",
    )  # fmt: skip
    # Stamps one order may ask for, and in a calendar year (the province's allowance).
    # A new producer's allowance is modest; the province raises it for a large producer.
    order_limit = models.PositiveIntegerField(_("stamps per order at most"), default=100_000)
    year_limit = models.PositiveBigIntegerField(_("stamps per year at most"), default=500_000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("producer")
        verbose_name_plural = _("producers")
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code"], condition=~models.Q(tax_code=""),
                name="products_producer_tax_code",
            ),
            models.UniqueConstraint(
                fields=["personal_id"], condition=~models.Q(personal_id=""),
                name="products_producer_personal_id",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class ProductGroup(models.TextChoices):
    """The six OCOP product groups (Decision 148/QĐ-TTg, 2023)."""

    FOOD = "food", _("Food")
    DRINKS = "drinks", _("Beverages")
    HERBAL = "herbal", _("Herbal products")
    TEXTILES = "textiles", _("Textiles and garments")
    CRAFTS = "crafts", _("Souvenirs, furniture and decoration")
    TOURISM = "tourism", _("Community and eco-tourism services")


class Product(models.Model):
    """A product of a producer: its group, description, photo, GTIN (its own, or one from
    the province's GS1 prefix, assigned when it is made), the e-commerce platforms where it
    is sold, and its current certificate."""

    producer = models.ForeignKey(
        Producer, verbose_name=_("producer"), on_delete=models.PROTECT, related_name="products"
    )
    name = models.CharField(_("name"), max_length=255)
    name_folded = models.CharField(max_length=255, db_index=True, editable=False)
    group = models.CharField(_("OCOP group"), max_length=16, choices=ProductGroup.choices)
    description = models.TextField(_("description"), blank=True)
    gtin = models.CharField(_("GTIN"), max_length=14, unique=True)
    gtin_assigned = models.BooleanField(_("GTIN from the province's prefix"), default=False)
    # [{"name": "Shopee", "url": "https://…"}]
    links = models.JSONField(_("e-commerce links"), default=list, blank=True)
    certificate = models.ForeignKey(
        "products.Certificate", verbose_name=_("current certificate"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name

    def stars_on(self, day: date) -> int | None:
        """The OCOP stars the product holds on `day` (None: not certified, or expired)."""
        certificate = self.certificate
        if certificate is None or certificate.valid_until < day:
            return None
        return certificate.stars

    @property
    def stars(self) -> int | None:
        return self.stars_on(timezone.localdate())


class ProductPhoto(KeptPhoto):
    """A photo of a product (core.photos.KeptPhoto: shown only once the worker has cleaned
    it of its metadata)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="photos")

    def __str__(self) -> str:
        return f"{self.product_id}/{self.public_id}"


class ApplicationStatus(models.IntegerChoices):
    NEW = 1, pgettext_lazy("ocop application", "Submitted")
    SCORING = 2, _("Being scored")
    SCORED = 3, _("Scored")
    RETURNED = 4, _("Returned for more evidence")
    CERTIFIED = 5, _("Certified")
    NOT_CERTIFIED = 6, _("Not certified")


class Application(Case):
    """A producer's application for an OCOP rating of one product: the producer's own
    assessment, the evidence, the council's scores (criterion → points) and the result."""

    code = models.CharField(_("application number"), max_length=32, unique=True)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT,
        related_name="ocop_applications",
    )  # fmt: skip
    # The council's standing body (the department that runs the province's OCOP council).
    agency = models.ForeignKey(
        "agencies.Agency", verbose_name=_("council's body"), on_delete=models.PROTECT,
        related_name="ocop_applications",
    )  # fmt: skip
    status = models.PositiveSmallIntegerField(
        _("status"), choices=ApplicationStatus.choices, default=ApplicationStatus.NEW
    )
    self_assessment = models.TextField(_("the producer's own assessment"), blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    total = models.PositiveSmallIntegerField(_("total points"), null=True, blank=True)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("OCOP application")
        verbose_name_plural = _("OCOP applications")
        indexes = [models.Index(fields=["agency", "state"], name="products_app_agency_state")]

    def __str__(self) -> str:
        return self.code


class Evidence(models.Model):
    """A file proving a criterion of the score sheet (a test report, a licence, photos)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="files")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    criterion = models.CharField(_("criterion"), max_length=8, blank=True)
    original_name = models.CharField(max_length=255)
    storage_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class ApplicationEvent(CaseMove):
    """One move of an application."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    from_status = models.PositiveSmallIntegerField(choices=ApplicationStatus.choices)
    to_status = models.PositiveSmallIntegerField(choices=ApplicationStatus.choices)

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_status}→{self.to_status}"


class Certificate(models.Model):
    """An OCOP certificate: its number in the council body's yearly register, the stars,
    the term (36 months), and the signed PDF (issued after commit: core.documents)."""

    number = models.CharField(_("certificate number"), max_length=32, unique=True)
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="certificate"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="certificates")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    stars = models.PositiveSmallIntegerField(_("stars"))
    total = models.PositiveSmallIntegerField(_("total points"))
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), db_index=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    signed = models.ForeignKey(
        "signing.SignedDocument", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    issuing = models.ForeignKey(
        "core.PendingDocument", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # When the producer was told the certificate ends soon (products.reminders), once.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("OCOP certificate")
        verbose_name_plural = _("OCOP certificates")

    def __str__(self) -> str:
        return self.number


class BatchState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be issued")
    ISSUING = "issuing", pgettext_lazy("stamp batch", "Being issued")
    ISSUED = "issued", pgettext_lazy("stamp batch", "Issued")


class Batch(models.Model):
    """A production lot and the stamps ordered for it: the lot number (GS1 AI 10), its
    dates and place, how many stamps (printed quantity) and how many are issued so far
    (issued in the background, a chunk per transaction)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("order number"), max_length=32, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="batches")
    lot = models.CharField(_("batch number"), max_length=20)
    produced_on = models.DateField(_("production date"))
    expires_on = models.DateField(_("expiry date"), null=True, blank=True)
    place = models.CharField(_("place of production"), max_length=255)
    quantity = models.PositiveIntegerField(_("number of stamps"))
    issued = models.PositiveIntegerField(_("stamps issued so far"), default=0)
    state = models.CharField(max_length=8, choices=BatchState.choices, default=BatchState.QUEUED)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(default=timezone.now, db_index=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-ordered_at"]
        verbose_name = _("stamp batch")
        verbose_name_plural = _("stamp batches")
        constraints = [
            models.UniqueConstraint(fields=["product", "lot"], name="products_batch_product_lot")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.lot})"


class Stamp(models.Model):
    """One stamp: its serial (GS1 AI 21, 80 random bits), its place in the batch, and its
    scans so far (the public page tells a buyer whether it was scanned before)."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by the unique (batch, number) constraint, which leads with it.
    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, related_name="stamps", db_index=False
    )
    # Unique by a constraint, not `unique=True`: no second, pattern-matching index on
    # PostgreSQL for a column only ever looked up whole.
    serial = models.CharField(max_length=20)
    number = models.PositiveIntegerField()  # 1… within the batch (label order)
    scans = models.PositiveIntegerField(default=0)
    first_scan_at = models.DateTimeField(null=True, blank=True)
    last_scan_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="products_stamp_batch_number"),
            models.UniqueConstraint(fields=["serial"], name="products_stamp_serial"),
        ]

    def __str__(self) -> str:
        return self.serial


class LabelSheet(models.Model):
    """A part of a batch's printable labels (a PDF of up to LABELS_PER_SHEET stamps),
    rendered in the background when asked for (or at once for a small batch)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="sheets")
    part = models.PositiveIntegerField()
    first = models.PositiveIntegerField()
    last = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    asked_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["part"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "part"], name="products_sheet_batch_part")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.part}"


class Scan(models.Model):
    """One opening of a stamp's URI by a person (not the linkset machines read): when, the
    client as a keyed digest (never its address), the region the proxy tells (where known),
    and a coarse place if the scanner shared it. `stamp` is empty for a serial never
    issued (the GTIN is one of this province's)."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by products_scan_stamp_at, which leads with it.
    stamp = models.ForeignKey(
        Stamp, null=True, blank=True, on_delete=models.CASCADE, related_name="scan_rows",
        db_index=False,
    )  # fmt: skip
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    serial = models.CharField(max_length=20)
    lot = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(default=timezone.now)
    client = models.CharField(max_length=16)
    region = models.CharField(max_length=64, blank=True)
    latitude = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    longitude = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["stamp", "at"], name="products_scan_stamp_at"),
            # One client's scans of the last minute (the rate limit).
            models.Index(fields=["client", "at"], name="products_scan_client_at"),
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.at:%Y-%m-%d %H:%M}"


class BatchTally(models.Model):
    """Scans of a batch, counted on a few rows per batch (the stamp's number picks one), so
    scans of one batch do not all queue on one row; their sum is the batch's scans."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="+", db_index=False)
    shard = models.PositiveSmallIntegerField()
    scans = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "shard"], name="products_tally_batch_shard")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.shard}: {self.scans}"


class SignalKind(models.TextChoices):
    UNKNOWN_SERIAL = "unknown", _("A serial never issued")
    TOO_MANY = "too_many", _("A stamp scanned too many times")
    FAR_APART = "far_apart", _("Scanned far apart within hours")
    EXPIRED = "expired", _("Scanned after the batch's expiry date")
    OVER_QUANTITY = "over_qty", _("A batch scanned more than its printed quantity")


class SignalStatus(models.IntegerChoices):
    NEW = 1, pgettext_lazy("signal status", "New")
    INVESTIGATING = 2, _("Being investigated")
    CONFIRMED = 3, _("Counterfeit confirmed")
    DISMISSED = 4, _("Dismissed")


OPEN_SIGNAL_STATUSES = (SignalStatus.NEW, SignalStatus.INVESTIGATING)


class Signal(Case):
    """A counterfeit signal: what was seen (its kind and the facts), on which product,
    batch and stamp, where (the scan's coarse place, else the producer's commune), and the
    inspectors' conclusion. One open signal per pattern (`key`): a pattern seen again adds
    to it rather than opening another."""

    code = models.CharField(_("signal number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=SignalKind.choices)
    key = models.CharField(max_length=96)
    status = models.PositiveSmallIntegerField(
        _("status"), choices=SignalStatus.choices, default=SignalStatus.NEW
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="signals")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="signals"
    )
    stamp = models.ForeignKey(
        Stamp, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    serial = models.CharField(max_length=20, blank=True)
    facts = models.TextField(_("what was seen"))
    latitude = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    longitude = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    commune = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The market inspection body that handles it.
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="stamp_signals"
    )
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        verbose_name = _("counterfeit signal")
        verbose_name_plural = _("counterfeit signals")
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(status__in=[1, 2]),
                name="products_signal_open_key",
            )
        ]  # fmt: skip
        indexes = [models.Index(fields=["agency", "state"], name="products_signal_agency_st")]

    def __str__(self) -> str:
        return self.code


class SignalEvent(CaseMove):
    """One move of a signal."""

    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="events")
    from_status = models.PositiveSmallIntegerField(choices=SignalStatus.choices)
    to_status = models.PositiveSmallIntegerField(choices=SignalStatus.choices)

    def __str__(self) -> str:
        return f"{self.signal_id}: {self.from_status}→{self.to_status}"


class ProductRollup(models.Model):
    """What happened per commune (the producer's) over a day, month or year
    (core.rollups): stamps issued, scans, signals raised."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    span = models.PositiveSmallIntegerField()
    day = models.DateField()
    stamps_issued = models.BigIntegerField(default=0, db_default=0)
    scans = models.BigIntegerField(default=0, db_default=0)
    signals = models.IntegerField(default=0, db_default=0)
    certificates = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "span", "day"], name="products_rollup_agency_span_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.span} {self.day}"


class RollMark(models.Model):
    """How far the hourly roll of scans into the rollups has gone (the last scan's id):
    scans are counted into ProductRollup by the worker, not in the scan's own request, so
    no commune's day row is locked by every scan."""

    name = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"
