"""GET /api/v1/audit/checkpoints: the audit chain's signed checkpoints, public (ADR 0017),
so anyone can keep a copy and check the platform's log was not cut short."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tinhso.core.api import ErrorOut, Page, PageParams, paginate
from tinhso.core.models import AuditCheckpoint
from tinhso.signing.checkpoints import checkpoint_as_dict

router = Router(tags=["audit"])


class CheckpointOut(Schema):
    number: int = Field(description="1, 2, 3… (each names the one before in `previous`)")
    seq: int = Field(description="The audit entry this checkpoint attests (the chain's head)")
    hash: str = Field(description="That entry's SHA-256 chain hash")
    at: datetime
    previous: str = Field(description="SHA-256 of the previous checkpoint's statement")
    statement: str = Field(description="The exact signed text (canonical JSON, UTF-8)")
    signature: str = Field(
        description="Detached CMS/PKCS#7 signature over the statement, DER in base64 "
        "(`openssl cms -verify -binary -inform DER -content statement.json`)"
    )
    signer: str = Field(description="The seal's subject (the province People's Committee)")
    certificate_sha256: str
    timestamped_at: datetime | None = Field(description="The TSA's time, when time-stamped")


@router.get(
    "/checkpoints",
    response={200: Page[CheckpointOut], 422: ErrorOut},
    summary="Signed checkpoints of the audit chain, newest first (no credentials needed)",
    auth=None,
)
def checkpoints_list(request: HttpRequest, paging: Query[PageParams]) -> object:
    page = paginate(AuditCheckpoint.objects.order_by("-number"), paging)
    rows: list[AuditCheckpoint] = page["items"]  # type: ignore[assignment]
    return {**page, "items": [checkpoint_as_dict(c) for c in rows]}
