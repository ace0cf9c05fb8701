"""The open-data portal: datasets (CKAN "packages"), their resources, the fields they are
grouped in (CKAN "groups"), the agencies that publish them (CKAN "organizations") and the
tabular store behind CSV and spreadsheet resources."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Theme(models.Model):
    """One of the province's data fields (lĩnh vực), e.g. Y tế. Mapped to the EU data-theme
    vocabulary for DCAT-AP."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    eu_theme = models.CharField(
        _("EU data theme"),
        max_length=8,
        help_text=_("Code in the EU data-theme vocabulary, e.g. HEAL, EDUC, AGRI."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name = _("data field")
        verbose_name_plural = _("data fields")

    def __str__(self) -> str:
        return self.title


class Publisher(models.Model):
    """An agency as a publisher of data (a CKAN organisation), with the stable slug the
    API and the DCAT catalogue name it by."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.OneToOneField(
        "agencies.Agency", on_delete=models.PROTECT, related_name="publisher"
    )
    name = models.SlugField(_("slug"), max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("publisher")
        verbose_name_plural = _("publishers")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free keyword of datasets (CKAN's tags), shared by every dataset that names it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("tag"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Frequency(models.TextChoices):
    """The EU frequency vocabulary's codes (DCAT-AP dct:accrualPeriodicity)."""

    CONTINUOUS = "UPDATE_CONT", _("Continuously updated")
    DAILY = "DAILY", _("Daily")
    WEEKLY = "WEEKLY", _("Weekly")
    MONTHLY = "MONTHLY", _("Monthly")
    QUARTERLY = "QUARTERLY", _("Quarterly")
    ANNUAL = "ANNUAL", _("Annual")
    IRREGULAR = "IRREG", _("Irregular")
    NEVER = "NEVER", _("Never")


class Dataset(models.Model):
    """A dataset. Private (visible to its publisher only) until a publisher publishes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    notes = models.TextField(_("description"), blank=True)
    notes_en = models.TextField(_("English description"), blank=True)
    publisher = models.ForeignKey(
        Publisher,
        verbose_name=_("publishing agency"),
        on_delete=models.PROTECT,
        related_name="datasets",
    )
    themes = models.ManyToManyField(
        Theme, verbose_name=_("fields"), related_name="datasets", blank=True
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), related_name="datasets", blank=True)
    license_id = models.CharField(_("licence"), max_length=32, default="CC-BY-4.0")
    temporal_start = models.DateField(_("covers from"), null=True, blank=True)
    temporal_end = models.DateField(_("covers until"), null=True, blank=True)
    spatial = models.CharField(_("place covered"), max_length=200, blank=True)
    spatial_code = models.PositiveIntegerField(
        _("administrative unit code"),
        null=True,
        blank=True,
        help_text=_("Official code of the province or commune the data covers."),
    )
    frequency = models.CharField(
        _("update frequency"), max_length=16, choices=Frequency.choices, blank=True
    )
    contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    private = models.BooleanField(_("private"), default=True)
    # Set for the datasets the platform generates from its own records.
    generator = models.CharField(max_length=32, blank=True, default="", editable=False)
    metadata_created = models.DateTimeField(default=timezone.now)
    metadata_modified = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Folded (accent-free, lower-case) text the search matches: title first, then the rest.
    search_title = models.TextField(editable=False, default="")
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-metadata_modified"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        indexes = [
            models.Index(fields=["private", "-metadata_modified"]),
            models.Index(fields=["publisher", "private"]),
        ]

    def __str__(self) -> str:
        return self.name


class LoadStatus(models.TextChoices):
    """Where a tabular file stands on its way into the tabular store (ADR 0028)."""

    PENDING = "pending", _("Waiting to be loaded")
    LOADING = "loading", _("Loading")
    DONE = "done", _("Loaded")
    ERROR = "error", _("Could not be loaded")


class Resource(models.Model):
    """A file of a dataset (uploaded and stored by the platform) or a link to one. A CSV or
    XLSX file is loaded into the tabular store by a background task; `load_*` say how far
    it is (the table being served, if any, stays the previous one until the load is done)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="resources")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("link"), max_length=1000, blank=True)
    stored_file = models.CharField(max_length=255, blank=True, editable=False)
    filename = models.CharField(max_length=255, blank=True)
    format = models.CharField(_("format"), max_length=16, blank=True)
    mimetype = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(_("size"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_modified = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveBigIntegerField(_("downloads"), default=0)
    load_status = models.CharField(
        _("loading into the tabular store"),
        max_length=8,
        choices=LoadStatus.choices,
        blank=True,
        default="",
        editable=False,
    )
    load_rows = models.BigIntegerField(default=0, editable=False)  # rows loaded so far
    load_error = models.TextField(blank=True, editable=False)
    load_table = models.CharField(max_length=63, blank=True, editable=False)  # being filled
    load_task_id = models.CharField(max_length=64, blank=True, editable=False)
    load_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    load_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["dataset", "position"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self) -> str:
        return self.name

    @property
    def is_upload(self) -> bool:
        return bool(self.stored_file)


class DatastoreTable(models.Model):
    """The queryable table a tabular resource was loaded into: one real table per resource,
    named after it, with one typed column per field (`c0`, `c1`, …; the field names are
    kept here, so no client-supplied name ever reaches SQL)."""

    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, related_name="datastore")
    table = models.CharField(max_length=63, unique=True)
    fields = models.JSONField(default=list)  # [{"id": "Tên", "type": "text"}, …]
    row_count = models.BigIntegerField(default=0)
    bad_rows = models.JSONField(default=list)  # [{"line": 7, "error": "…"}, …] (first 100)
    bad_row_count = models.PositiveIntegerField(default=0)
    encoding = models.CharField(max_length=16, blank=True)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tabular table")
        verbose_name_plural = _("tabular tables")

    def __str__(self) -> str:
        return self.table


class ActivityKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Description changed")
    PUBLISHED = "published", _("Published")
    UNPUBLISHED = "unpublished", _("Withdrawn from publication")
    RESOURCE_CREATED = "resource_created", _("Resource added")
    RESOURCE_UPDATED = "resource_updated", _("Resource updated")
    DATASTORE_LOADED = "datastore_loaded", _("Table loaded")
    DATASTORE_FAILED = "datastore_failed", _("Table could not be loaded")


class Activity(models.Model):
    """What happened to a dataset (created, changed, published, a resource added or
    reloaded): the event row each change writes in its own transaction."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="activities")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32, choices=ActivityKind.choices)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.kind}"
