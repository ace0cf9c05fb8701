"""Writes of the core module that are not the audit chain itself."""

from typing import Any

from django.db import transaction

from tinhso.core.audit import audit_record
from tinhso.core.models import PersonalDataAccess


def personal_data_access_record(
    *,
    official: Any,
    citizen: Any,
    purpose: str,
    agency: Any | None = None,
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
