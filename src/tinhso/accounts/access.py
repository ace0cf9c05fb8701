"""The personal-data access log (Decree 13/2023): every official's look at a citizen's
data is written where the citizen reads it (their account page, GET /api/v1/me/data-access)
and in the audit chain. The model is core.PersonalDataAccess; the people are accounts'."""

from collections.abc import Iterable

from django.db import transaction

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.core.audit import audit_record
from tinhso.core.models import PersonalDataAccess


def personal_data_access_record(
    *,
    official: User,
    citizen: User,
    purpose: str,
    agency: Agency | None = None,
    record: str = "profile",
    channel: str = "web",
) -> PersonalDataAccess:
    """Log that `official` viewed `citizen`'s personal data, where the citizen can read it,
    and in the audit chain."""
    with transaction.atomic():
        access = PersonalDataAccess.objects.create(
            citizen=citizen,
            official=official,
            agency=agency,
            purpose=purpose.strip()[:255],
            record=record,
            channel=channel,
        )
        audit_record(
            actor=official,
            action="personal_data.viewed",
            obj=citizen,
            data={
                "record": record,
                "channel": channel,
                "agency": agency.code if agency is not None else None,
                "purpose": purpose.strip()[:255],
            },
        )
    return access


def personal_data_access_record_many(
    *,
    official: User,
    citizens: Iterable[User | None],
    purpose: str,
    agency: Agency | None = None,
    record: str,
    channel: str = "web",
) -> int:
    """Log one look at many citizens' data (a register listing them): a row for each
    citizen, which each of them reads in their account, and one audit entry for the look.
    Returns how many citizens were logged."""
    unique = {c.pk: c for c in citizens if c is not None and c.pk is not None}
    with transaction.atomic():
        PersonalDataAccess.objects.bulk_create(
            PersonalDataAccess(
                citizen=citizen,
                official=official,
                agency=agency,
                purpose=purpose.strip()[:255],
                record=record,
                channel=channel,
            )
            for citizen in unique.values()
        )
        audit_record(
            actor=official,
            action="personal_data.viewed_many",
            object_type="accounts.user",
            data={
                "record": record,
                "channel": channel,
                "agency": agency.code if agency is not None else None,
                "purpose": purpose.strip()[:255],
                "citizens": len(unique),
            },
        )
    return len(unique)
