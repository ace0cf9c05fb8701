"""The catalogue of administrative procedures (thủ tục hành chính)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcedureLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    COMMUNE = "commune", _("Commune")
    BOTH = "both", _("Province and commune")


class OnlineLevel(models.TextChoices):
    FULL = "full", _("Fully online")
    PARTIAL = "partial", _("Partly online")


class ResultMethod(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("At the counter")
    POST = "post", _("By post")


class ProcedureField(models.Model):
    """A field (lĩnh vực) procedures are grouped in, e.g. Hộ tịch."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=255)

    class Meta:
        ordering = ["name"]
        verbose_name = _("field")
        verbose_name_plural = _("fields")

    def __str__(self) -> str:
        return self.name


class Procedure(models.Model):
    """One administrative procedure as a citizen meets it: what to bring, how long it takes,
    what it costs, where to submit, and the e-form to fill."""

    code = models.CharField(
        _("procedure code"),
        max_length=32,
        unique=True,
        help_text=_("National code (e.g. 1.001193) where one exists, otherwise the province's."),
    )
    name = models.CharField(_("name"), max_length=500)
    field = models.ForeignKey(
        ProcedureField, verbose_name=_("field"), on_delete=models.PROTECT, related_name="procedures"
    )
    level = models.CharField(_("level"), max_length=16, choices=ProcedureLevel.choices)
    implementing_agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("implementing agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="procedures",
        help_text=_("For province-level procedures: the department that handles it."),
    )
    deciding_body = models.CharField(_("deciding body"), max_length=255)
    time_days = models.DecimalField(
        _("statutory time (working days)"), max_digits=5, decimal_places=1
    )
    time_note = models.CharField(_("time note"), max_length=255, blank=True)
    fees = models.JSONField(_("fees and charges"), default=list, blank=True)
    form_schema = models.JSONField(_("e-form (JSON Schema)"), default=dict, blank=True)
    online_level = models.CharField(_("online level"), max_length=16, choices=OnlineLevel.choices)
    result_methods = models.JSONField(_("result returned"), default=list)
    result_name = models.CharField(_("result"), max_length=255, blank=True)
    # How the result paper is laid out (catalog.results, ADR 0029); empty: the default.
    result_template = models.JSONField(_("result template"), default=dict, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    workflow = models.CharField(_("workflow"), max_length=64, default="standard")
    is_active = models.BooleanField(_("active"), default=True)
    search_text = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        indexes = [models.Index(fields=["level", "online_level"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def fee_total(self) -> int:
        return sum(int(fee.get("amount", 0)) for fee in self.fees)


class RequiredPaper(models.Model):
    """A paper the applicant brings or attaches (thành phần hồ sơ)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="papers")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=500)
    originals = models.PositiveSmallIntegerField(_("originals"), default=1)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    required = models.BooleanField(_("required"), default=True)
    paper_type = models.SlugField(
        _("paper type"),
        max_length=64,
        blank=True,
        help_text=_("Papers of this type already issued to the citizen can be reused."),
    )
    template = models.FileField(_("template"), upload_to="templates/", blank=True)
    eform = models.BooleanField(
        _("filled in as the e-form"),
        default=False,
        help_text=_("The declaration itself: submitting online, the e-form takes its place."),
    )

    class Meta:
        ordering = ["procedure", "position", "id"]
        verbose_name = _("required paper")
        verbose_name_plural = _("required papers")

    def __str__(self) -> str:
        return self.name

    @property
    def reusable(self) -> bool:
        return bool(self.paper_type)


class SearchSynonym(models.Model):
    """Words people type for a procedure that its name does not use ("giấy khai sinh" for
    "đăng ký khai sinh"): the search reads `phrase` as `means`. Kept with the catalogue
    (imported and exported with it)."""

    phrase = models.CharField(_("what people type"), max_length=100, unique=True)
    means = models.CharField(_("what it means"), max_length=200)

    class Meta:
        ordering = ["phrase"]
        verbose_name = _("search synonym")
        verbose_name_plural = _("search synonyms")

    def __str__(self) -> str:
        return f"{self.phrase} → {self.means}"
