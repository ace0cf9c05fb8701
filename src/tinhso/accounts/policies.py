"""Who may do what, and where: the one place that answers it (ADR 0015, ADR 0019).

Two questions, and every page, endpoint and service asks them here:

* **Which agencies may this user act in, for this purpose?** A module registers its
  purposes (`purpose_register`, in its AppConfig.ready): the roles that serve a purpose and
  how far it reaches. Most purposes reach only the agency where the role is held
  (`Reach.AGENCY`): handling a dossier, reading a person's data, keeping a register, paying
  out a refund. Only purposes without personal data may reach the agencies below
  (`Reach.SUBTREE`: a supervisor reading figures).
* **May this user do this to that record?** A module registers a rule per permission
  (`permission_register`), usually built on the first question plus what the record says
  (who applied, which agencies handle it now); `may(user, permission, record)` asks it.

    purpose_register(Purpose("payments.keep", roles={ACCOUNTANT}, module="payments"))
    agency_ids_for(user, "payments.keep")            # {agency ids}
    may(user, "dossier.read_personal_data", dossier)  # True / False

An official's memberships are read once per request (kept on the user object).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from tinhso.accounts.models import Membership, User, UserKind
from tinhso.agencies.models import Agency
from tinhso.core.roles import role_get

# Whoever asks: an official or a citizen signed in, someone anonymous, or nobody (a task).
Viewer = User | AnonymousUser | None


class Reach(StrEnum):
    AGENCY = "agency"  # the agency where the role is held, never below it
    SUBTREE = "subtree"  # that agency and every agency below it (no personal data)


@dataclass(frozen=True)
class Purpose:
    """Something officials do for an agency, served by some roles, reaching some agencies."""

    code: str
    roles: frozenset[str]
    module: str
    reach: Reach = Reach.AGENCY
    label: str = ""
    roles_anywhere: frozenset[str] = field(default_factory=frozenset)
    """Roles that serve the purpose in every agency of their province (the province
    administrator publishing for any agency). Not for purposes with personal data."""


_PURPOSES: dict[str, Purpose] = {}
Rule = Callable[[Any, Any], bool]  # (the viewer, the record): each rule types its own
_RULES: dict[str, tuple[str, Rule]] = {}
_RECORDS: dict[str, type | None] = {}


def purpose_register(*purposes: Purpose) -> None:
    for purpose in purposes:
        for role in purpose.roles | purpose.roles_anywhere:
            if role_get(role) is None:
                raise ValueError(f"Purpose {purpose.code!r} names unregistered role {role!r}.")
        _PURPOSES[purpose.code] = purpose


def purpose_get(code: str) -> Purpose:
    return _PURPOSES[code]


def purposes() -> list[Purpose]:
    return list(_PURPOSES.values())


def permission_register(code: str, rule: Rule, *, module: str, record: type | None = None) -> None:
    """`rule(user, record) -> bool` answers `may(user, code, record)`; `record` is the type
    of what it is asked about (None: it is asked about nothing, `may(user, code)`). Every
    rule answers for anyone, anonymous included (tests/test_checklist.py asks each)."""
    _RULES[code] = (module, rule)
    _RECORDS[code] = record


def permissions() -> dict[str, str]:
    """Every registered permission and the module that answers it."""
    return {code: module for code, (module, _rule) in _RULES.items()}


def permission_record(code: str) -> type | None:
    """The type of record a permission is asked about (None: none)."""
    return _RECORDS[code]


def may(user: Viewer, permission: str, record: object = None) -> bool:
    """Whether `user` (anonymous included) may do `permission` to `record`."""
    _module, rule = _RULES[permission]
    return bool(rule(user, record))


# --- memberships -----------------------------------------------------------------------------

_CACHE = "_tinhso_memberships"


def signed_in(user: Viewer) -> User | None:
    """The user if someone is signed in (an official, a citizen, an organisation)."""
    if isinstance(user, User) and user.is_authenticated:
        return user
    return None


def official(user: Viewer) -> User | None:
    """The user if they are a signed-in official, else None."""
    if isinstance(user, User) and user.is_authenticated and user.kind == UserKind.OFFICIAL:
        return user
    return None


def memberships(user: Viewer) -> list[Membership]:
    """The official's active memberships in active agencies, read once per user object
    (a request's user, a task's actor); none for anyone else."""
    person = official(user)
    if person is None:
        return []
    cached: list[Membership] | None = getattr(person, _CACHE, None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=person, is_active=True, agency__is_active=True)
            .select_related("agency")
            .order_by("agency__path", "role")
        )
        setattr(person, _CACHE, cached)
    return cached


def memberships_forget(user: Viewer) -> None:
    """After a membership of this user object changed (membership_grant)."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def roles_in(user: Viewer, agency_ids: Iterable[int]) -> set[str]:
    """The roles `user` holds in these very agencies."""
    wanted = set(agency_ids)
    return {m.role for m in memberships(user) if m.agency_id in wanted}


def memberships_for(user: Viewer, purpose: str) -> list[Membership]:
    """The memberships through which `user` serves `purpose`."""
    spec = _PURPOSES[purpose]
    return [m for m in memberships(user) if m.role in spec.roles | spec.roles_anywhere]


def agencies_for(user: Viewer, purpose: str) -> list[Agency]:
    """The agencies where `user` holds a role serving `purpose` (not those below them:
    `agency_q_for` widens a SUBTREE purpose)."""
    seen: dict[int, Agency] = {}
    for m in memberships_for(user, purpose):
        seen.setdefault(m.agency_id, m.agency)
    return list(seen.values())


def agency_q_for(user: Viewer, purpose: str, field: str = "") -> Q:
    """A filter on agencies (or on `field`, a path to an agency) matching where `user`
    serves `purpose`: those agencies, their subtrees for SUBTREE purposes, the whole
    province for roles that serve it anywhere. Matches nothing when there is none."""
    spec = _PURPOSES[purpose]
    prefix = f"{field}__" if field else ""
    condition = Q(**{f"{prefix}pk__in": []})
    for m in memberships_for(user, purpose):
        if m.role in spec.roles_anywhere:
            province = m.agency.path.split("/")[1]
            condition |= Q(**{f"{prefix}path__startswith": f"/{province}/"})
        elif spec.reach == Reach.SUBTREE:
            condition |= Q(**{f"{prefix}path__startswith": m.agency.path})
        else:
            condition |= Q(**{f"{prefix}pk": m.agency_id})
    return condition


def serves(user: Viewer, purpose: str, agency: Agency) -> bool:
    """Whether `user` serves `purpose` in `agency`."""
    spec = _PURPOSES[purpose]
    for m in memberships_for(user, purpose):
        if m.role in spec.roles_anywhere:
            if agency.path.split("/")[1] == m.agency.path.split("/")[1]:
                return True
        elif spec.reach == Reach.SUBTREE:
            if agency.path.startswith(m.agency.path):
                return True
        elif m.agency_id == agency.pk:
            return True
    return False
