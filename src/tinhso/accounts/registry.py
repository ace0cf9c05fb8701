"""The population registry contract ("Ngày không viết": what the state knows is never
retyped) and its embedded implementation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Protocol

from tinhso.accounts.models import PopulationRecord


@dataclass(frozen=True)
class IdentityProfile:
    """What an identity provider or the registry vouches for about a citizen."""

    personal_id: str
    full_name: str
    date_of_birth: date | None = None
    sex: str = ""
    permanent_address: str = ""
    phone: str = ""
    email: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class PopulationRegistry(Protocol):
    def lookup(self, personal_id: str) -> IdentityProfile | None: ...


class EmbeddedRegistry:
    """Synthetic citizens stored in this database (demo, development, tests)."""

    def lookup(self, personal_id: str) -> IdentityProfile | None:
        record = PopulationRecord.objects.filter(personal_id=personal_id.strip()).first()
        if record is None:
            return None
        return IdentityProfile(
            personal_id=record.personal_id,
            full_name=record.full_name,
            date_of_birth=record.date_of_birth,
            sex=record.sex,
            permanent_address=record.permanent_address,
            phone=record.phone,
            email=record.email,
        )


def registry() -> PopulationRegistry:
    return EmbeddedRegistry()
