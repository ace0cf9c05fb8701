"""Users (citizens, organisations, officials), officials' roles, sign-in security."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.accounts.identity import validate_personal_id, validate_tax_code
from tinhso.core.roles import role_label, validate_role


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    ORGANISATION = "organisation", _("Organisation")
    OFFICIAL = "official", _("Official")


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class User(AbstractUser):
    """Everyone who signs in. A citizen's username is their personal identification number;
    an organisation is known by its tax code; an official acts through their memberships."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        _("kind"), max_length=16, choices=UserKind.choices, default=UserKind.CITIZEN
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    personal_id = models.CharField(
        _("personal identification number"),
        max_length=12,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_personal_id],
    )
    tax_code = models.CharField(
        _("tax code"),
        max_length=14,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_tax_code],
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    permanent_address = models.CharField(_("permanent address"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_official(self) -> bool:
        return self.kind == UserKind.OFFICIAL


class Membership(models.Model):
    """An official holds a role in an agency; one official may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("official"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    # A role some module registers (core.roles): validated against the registry, so a
    # module adding its roles needs no migration here.
    role = models.CharField(_("role"), max_length=32, validators=[validate_role])
    title = models.CharField(_("job title"), max_length=128, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agency", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role_label} · {self.agency}"

    @property
    def role_label(self) -> str:
        return role_label(self.role)


class SignInScope(models.TextChoices):
    """What a sign-in limit counts, per key (an account name, a personal ID, an address)."""

    PASSWORD = "password", _("wrong passwords and second-factor codes, per account name and client")
    PASSWORD_NAME = (
        "password_name",
        _("wrong passwords and second-factor codes, per account name from every client"),
    )
    EID_WRONG_CODE = "eid_wrong_code", _("wrong one-time codes, per personal ID")
    EID_CODE_ID = "eid_code_id", _("one-time codes asked for, per personal ID")
    EID_CODE_ADDRESS = "eid_code_address", _("one-time codes asked for, per client address")


class SignInGuard(models.Model):
    """One row per limited key. Every attempt on the key locks this row first, so attempts
    are counted one after the other even when they arrive together; it also holds the
    lock-out once too many attempts failed."""

    scope = models.CharField(max_length=20, choices=SignInScope.choices)
    key = models.CharField(max_length=150)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="signin_guard_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class SignInAttempt(models.Model):
    """An attempt counted against a key: a password or code is counted before it is checked
    (and forgotten again when it was right), a code request when it is made."""

    scope = models.CharField(max_length=20, choices=SignInScope.choices)
    key = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="signin_attempt_key_at")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} @ {self.at}"


class TotpDevice(models.Model):
    """An official's TOTP second factor (RFC 6238). Confirmed once a first code is right;
    from then on signing in needs a fresh code."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"TOTP {self.user_id}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 digest is stored; the token itself is
    shown once, when created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class PopulationRecord(models.Model):
    """The embedded demo population registry: synthetic citizens as the national population
    database would return them. A real installation reads the national registry instead
    (accounts.registry)."""

    personal_id = models.CharField(
        _("personal identification number"),
        max_length=12,
        unique=True,
        validators=[validate_personal_id],
    )
    full_name = models.CharField(_("full name"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    permanent_address = models.CharField(_("permanent address"), max_length=255)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("population record")
        verbose_name_plural = _("population registry")

    def __str__(self) -> str:
        return self.full_name


class SignInCode(models.Model):
    """A one-time code for signing in with the demo e-identity (stored as a digest)."""

    personal_id = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.personal_id[:3]}…"
