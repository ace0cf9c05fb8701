"""Reads of the accounts module, including who may see what."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tinhso.accounts.models import ApiToken, Membership, User, UserKind
from tinhso.accounts.policies import Purpose, memberships_for
from tinhso.accounts.roles import RECEIVER
from tinhso.core.models import PersonalDataAccess

# Roles that look a citizen up by personal ID (outside any dossier): the one-stop counter,
# which identifies the people in front of it (ADR 0015). The other roles reach a citizen's
# data only through the dossiers they handle; administrators manage accounts, not people.
CITIZEN_LOOKUP = Purpose(
    "citizens.lookup", frozenset({RECEIVER}), "accounts", label="look citizens up by ID"
)


def memberships_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, agency__is_active=True)
        .select_related("agency")
        .order_by("agency__path", "role")
    )


def citizen_data_memberships(user: User) -> list[Membership]:
    """The memberships through which this user may look citizens up (policy
    `citizens.lookup`)."""
    return memberships_for(user, CITIZEN_LOOKUP.code)


def citizen_find(*, personal_id: str) -> User | None:
    return User.objects.filter(
        personal_id=personal_id.strip(), kind=UserKind.CITIZEN, is_active=True
    ).first()


def data_accesses_for(citizen: User) -> QuerySet[PersonalDataAccess]:
    return PersonalDataAccess.objects.filter(citizen=citizen).select_related("official", "agency")


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def identity_profile(user: User) -> dict[str, Any]:
    """What the state knows of the person, as e-forms prefill it (catalog.eform): set from
    the population registry or the identity provider at each sign-in, never typed in."""
    return {
        "full_name": user.full_name,
        "personal_id": user.personal_id,
        "date_of_birth": user.date_of_birth,
        "sex": user.sex,
        "permanent_address": user.permanent_address,
        "phone": user.phone,
        "email": user.email,
    }
