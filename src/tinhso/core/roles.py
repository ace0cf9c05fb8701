"""The roles officials hold in an agency, each registered by the module whose work it is.

A module declares its roles once, in its AppConfig.ready (`role_register`); a membership
(accounts.Membership) names one of them, and the policies (accounts.policies) say what each
role may do and where. Adding a module's role needs no migration of another module: the
membership's role is validated against this registry, not against a fixed list.

    role_register(RoleDef("accountant", _("Accountant"), module="payments"))
    role_label("accountant")  # "Kế toán" in Vietnamese
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class RoleDef:
    """A role: its code (stored in memberships), its name, and the module that owns it."""

    code: str
    label: StrOrPromise
    module: str


_ROLES: dict[str, RoleDef] = {}


def role_register(*definitions: RoleDef) -> None:
    """Register roles (idempotent: AppConfig.ready may run more than once). Two modules
    cannot claim the same code."""
    for definition in definitions:
        known = _ROLES.get(definition.code)
        if known is not None and known.module != definition.module:
            raise ValueError(
                f"Role {definition.code!r} is registered by {known.module} and {definition.module}."
            )
        _ROLES[definition.code] = definition


def role_get(code: str) -> RoleDef | None:
    return _ROLES.get(code)


def roles() -> list[RoleDef]:
    """Every registered role, in registration order."""
    return list(_ROLES.values())


def role_label(code: str) -> str:
    """The role's name in the active language (the code itself for an unknown role)."""
    definition = _ROLES.get(code)
    return str(definition.label) if definition is not None else code


def role_choices() -> list[tuple[str, str]]:
    return [(r.code, str(r.label)) for r in _ROLES.values()]


def validate_role(value: str) -> None:
    """Model and form validation of a membership's role."""
    if value not in _ROLES:
        raise ValidationError(
            _("%(role)s is not a role any module registers.") % {"role": value},
            code="unknown_role",
        )
