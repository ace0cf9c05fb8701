"""The province's agencies as a tree of any depth."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tinhso.agencies.codes import MAX_LENGTH, eid_level, validate_eid_code


class AgencyKind(models.TextChoices):
    PEOPLES_COMMITTEE = "peoples_committee", _("People's Committee")
    OFFICE = "office", _("Office")
    SERVICE_CENTRE = "service_centre", _("Public-administration service centre")
    DEPARTMENT = "department", _("Department")
    INSPECTORATE = "inspectorate", _("Inspectorate")
    POLICE = "police", _("Police")
    UNIT = "unit", _("Unit")


class AgencyLevel(models.TextChoices):
    """The tier of local government the agency works at. Since 1 July 2025 there are two;
    the tree itself has no fixed depth (departments may have sub-units)."""

    PROVINCE = "province", _("Province")
    COMMUNE = "commune", _("Commune")


class Agency(models.Model):
    """A state body: the province's People's Committee, a department, the service centre,
    a commune's People's Committee, or a unit below any of them."""

    code = models.CharField(
        _("electronic identifier code"),
        max_length=MAX_LENGTH,
        unique=True,
        validators=[validate_eid_code],
        help_text=_("Decision 20/2020/QĐ-TTg structure, e.g. 000.00.04.H56"),
    )
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("English name"), max_length=255, blank=True)
    short_name = models.CharField(_("short name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=AgencyKind.choices)
    level = models.CharField(_("level"), max_length=16, choices=AgencyLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of primary keys ("/1/7/42/"), maintained by agencies.services, so a
    # whole subtree is one indexed prefix query on both databases.
    path = models.CharField(max_length=512, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    admin_unit_code = models.PositiveIntegerField(
        _("administrative unit code"),
        null=True,
        blank=True,
        help_text=_("Official code of the province, commune or ward the agency governs."),
    )
    admin_unit_type = models.CharField(_("administrative unit type"), max_length=32, blank=True)
    admin_unit_name = models.CharField(_("administrative unit"), max_length=128, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    calendar = models.CharField(
        _("working calendar"),
        max_length=32,
        default="VN",
        help_text=_("Reference of the working calendar its deadlines are counted in."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        indexes = [models.Index(fields=["level", "kind"])]

    def __str__(self) -> str:
        return self.name

    @property
    def eid_level(self) -> int:
        return eid_level(self.code)

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]


class Boundary(models.Model):
    """The area an agency answers for (a commune's or ward's territory, the province's):
    a GeoJSON Polygon or MultiPolygon in WGS 84 (longitude, latitude), with its bounding box
    kept in columns so that finding the unit of a point reads only the few whose box holds
    it (agencies.geo). Loaded from the province's data (`tinhso boundaries_load`)."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="boundary")
    geometry = models.JSONField(_("geometry (GeoJSON)"))
    min_lat = models.FloatField()
    max_lat = models.FloatField()
    min_lng = models.FloatField()
    max_lng = models.FloatField()
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("boundary")
        verbose_name_plural = _("boundaries")
        indexes = [models.Index(fields=["min_lat", "max_lat"], name="agencies_boundary_lat")]

    def __str__(self) -> str:
        return str(self.agency)
