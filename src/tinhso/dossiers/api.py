"""Dossiers over the API: submit (with Idempotency-Key), list, read, and public tracking."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.renderers import JSONRenderer

from tinhso.accounts.access import personal_data_access_record
from tinhso.accounts.api import _caller, bearer
from tinhso.accounts.models import User, UserKind
from tinhso.accounts.policies import agencies_for, may
from tinhso.agencies.selectors import agency_get
from tinhso.catalog.models import ResultMethod
from tinhso.catalog.selectors import procedure_get
from tinhso.core import files as dossier_files
from tinhso.core.api import ID_MAX, INT_MAX, ErrorOut, Page, PageParams, paginate
from tinhso.core.idempotency import idempotency_key, idempotency_run
from tinhso.core.input import Moment
from tinhso.dossiers.models import Dossier, DossierDocument, DossierStatus, StoredPaper
from tinhso.dossiers.selectors import (
    Tracked,
    dossier_by_code,
    dossier_tracking,
    dossier_visible,
    dossiers_visible_to,
)
from tinhso.dossiers.services import (
    Attachment,
    DataRead,
    DossierInvalid,
    Submission,
    dossier_read_record,
    dossier_submit,
)
from tinhso.dossiers.transitions import TransitionError, allowed_actions, dossier_act

router = Router(tags=["dossiers"], auth=bearer)
track_router = Router(tags=["tracking"])


class AttachmentIn(Schema):
    paper: int = Field(
        ge=1, le=ID_MAX, description="Id of the required paper (from GET /procedures/{code})"
    )
    filename: str | None = Field(None, max_length=255)
    content_base64: str | None = Field(None, description="The file, base64-encoded")
    stored_paper: int | None = Field(
        None, ge=1, le=ID_MAX, description="Id of one of your stored papers"
    )


class DossierIn(Schema):
    applicant: str | None = Field(
        None,
        description="Officials registering at the counter or from the post: the citizen's "
        "personal identification number (found in the population registry)",
    )
    channel: int = Field(2, ge=1, le=3, description="1 counter, 2 online, 3 post")
    procedure: str = Field(min_length=1, max_length=32, description="Procedure code")
    receiving_agency: str = Field(
        min_length=1, max_length=35, description="Code of the agency you submit to"
    )
    result_method: ResultMethod = Field(description="How to receive the result")
    delivery_address: str = ""
    form: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list)


class StatusOut(Schema):
    code: int
    label: str


class EventOut(Schema):
    at: datetime
    status: StatusOut

    @staticmethod
    def resolve_status(obj: Any) -> dict[str, Any]:
        return {"code": obj.to_status, "label": str(DossierStatus(obj.to_status).label)}


class FileOut(Schema):
    paper: str = Field(alias="paper_name")
    name: str = Field(alias="original_name")
    content_type: str
    size: int
    sha256: str


class DossierDocumentOut(Schema):
    kind: str
    label: str
    status: str = Field(
        description="issuing (rendered and signed in the background, in a moment) or issued"
    )
    verification: str | None = Field(description="verification id of the signed PDF, issued")
    number: str = Field(
        description='a result\'s number in its register ("05/TLKS"); empty for forms'
    )
    created_at: datetime

    @staticmethod
    def resolve_label(obj: DossierDocument) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_status(obj: DossierDocument) -> str:
        return "issued" if obj.ready else "issuing"

    @staticmethod
    def resolve_verification(obj: DossierDocument) -> str | None:
        return obj.signed.public_id if obj.ready and obj.signed is not None else None


class DossierOut(Schema):
    code: str
    state: str = Field(description="Where it is in its workflow")
    version: int = Field(description="Send it back with an action (optimistic locking)")
    due_at: datetime | None
    step_due_at: datetime | None
    paused: bool
    actions: list[str] = Field(description="Actions you may take now")
    procedure: str = Field(alias="procedure.code")
    procedure_name: str = Field(alias="procedure.name")
    receiving_agency: str = Field(alias="receiving_agency.code")
    status: StatusOut
    channel: int
    result_method: str
    submitted_at: datetime | None
    form: dict[str, Any] | None = Field(
        description="The declaration; null for an official whose role does not read the "
        "applicant's personal data (a clerk)"
    )
    files: list[FileOut] = Field(description="The attached papers (empty for such roles)")
    documents: list[DossierDocumentOut] = Field(
        description="The forms issued for it that the caller may open, those still being "
        "issued included"
    )

    @staticmethod
    def resolve_status(obj: Dossier) -> dict[str, Any]:
        return {"code": obj.status, "label": str(obj.get_status_display())}

    @staticmethod
    def resolve_form(obj: Dossier, context: Any) -> dict[str, Any] | None:
        return obj.form_data if _reads_personal_data(obj, context) else None

    @staticmethod
    def resolve_files(obj: Dossier, context: Any) -> list[Any]:
        return list(obj.files.all()) if _reads_personal_data(obj, context) else []

    @staticmethod
    def resolve_documents(obj: Dossier, context: Any) -> list[Any]:
        request = context["request"] if context else None
        user = getattr(request, "auth", None)
        return [
            d for d in obj.documents.select_related("signed")
            if may(user, "dossier.open_document", d)
        ]  # fmt: skip

    @staticmethod
    def resolve_paused(obj: Dossier) -> bool:
        return obj.paused_at is not None

    @staticmethod
    def resolve_actions(obj: Dossier, context: Any) -> list[str]:
        request = context["request"] if context else None
        user = getattr(request, "auth", None)
        return [a.name for a in allowed_actions(obj, user)] if user is not None else []


def _reads_personal_data(dossier: Dossier, context: Any) -> bool:
    request = context["request"] if context else None
    return may(getattr(request, "auth", None), "dossier.read_personal_data", dossier)


def _answer(caller: User, dossier: Dossier, status: int = 200) -> Status[object]:
    """The dossier as the caller may see it; an official's read of the applicant's data
    is logged where the citizen can see it (dossiers.policy)."""
    if may(caller, "dossier.read_personal_data", dossier):
        dossier_read_record(
            official=caller, dossier=dossier, record=DataRead.DOSSIER, channel="api"
        )
    return Status(status, dossier)


class ActionIn(Schema):
    action: str = Field(min_length=2, max_length=32, description="e.g. accept, assign, approve")
    version: int = Field(ge=1, le=INT_MAX, description="The dossier version you acted on")
    note: str = Field("", max_length=2000, description="Reason or note (required to refuse)")
    assignee: str | None = Field(None, description="User name of the specialist (assign)")


class DossierListItemOut(Schema):
    code: str
    procedure: str = Field(alias="procedure.code")
    procedure_name: str = Field(alias="procedure.name")
    receiving_agency: str = Field(alias="receiving_agency.code")
    status: StatusOut
    submitted_at: datetime | None

    @staticmethod
    def resolve_status(obj: Dossier) -> dict[str, Any]:
        return {"code": obj.status, "label": str(obj.get_status_display())}


class InvalidOut(Schema):
    detail: str
    code: str
    errors: dict[str, list[str]]


def _counter_intake(request: HttpRequest, receiver: User, payload: DossierIn) -> Status[object]:
    """A receiver registers a walk-in (1) or postal (3) dossier; it is accepted at once."""
    from tinhso.accounts.identity import parse_personal_id
    from tinhso.accounts.registry import registry
    from tinhso.dossiers.counter import citizen_for_intake, dossier_register_at_counter

    receiving = agencies_for(receiver, "dossiers.counter")
    if not receiving or payload.channel == 2 or not payload.applicant:
        return Status(403, {"detail": _("Officials register dossiers at the counter or from the "
                                        "post, for a citizen named by personal ID."),
                            "code": "forbidden"})  # fmt: skip
    agency = agency_get(code=payload.receiving_agency)
    if agency is None or agency not in receiving:
        return Status(403, {
            "detail": _("Your agency does not receive dossiers for this procedure."),
            "code": "forbidden",
        })  # fmt: skip
    try:
        parse_personal_id(payload.applicant)
    except ValidationError as exc:
        raise DossierInvalid({"applicant": exc.messages}) from None
    profile = registry().lookup(payload.applicant)
    if profile is None:
        raise DossierInvalid(
            {"applicant": [_("This personal identification number is not in the registry.")]}
        )
    citizen = citizen_for_intake(profile=profile, official=receiver)
    personal_data_access_record(
        official=receiver, citizen=citizen, agency=agency, record="registry", channel="api",
        purpose=_("Counter intake: %(procedure)s") % {"procedure": payload.procedure},
    )  # fmt: skip

    def register() -> Dossier:
        submission = _submission(request, payload, applicant=citizen)
        submission.channel = payload.channel
        return dossier_register_at_counter(submission=submission, receiver=receiver)

    outcome = idempotency_run(
        user=receiver, operation="dossiers.create", key=idempotency_key(request),
        request=payload.dict(), create=register,
    )  # fmt: skip
    return Status(201 if outcome.created else 200, outcome.result)


def _submission(
    request: HttpRequest, payload: DossierIn, applicant: User | None = None
) -> Submission:
    user = applicant or _caller(request)
    procedure = procedure_get(code=payload.procedure)
    if procedure is None:
        raise DossierInvalid(
            {"procedure": [_("No procedure has the code %(code)s.") % {"code": payload.procedure}]}
        )
    papers = {p.pk: p for p in procedure.papers.all()}
    attachments: list[Attachment] = []
    errors: dict[str, list[str]] = {}
    for item in payload.attachments:
        paper = papers.get(item.paper)
        if paper is None:
            errors.setdefault("attachments", []).append(
                _("Paper %(id)s does not belong to this procedure.") % {"id": item.paper}
            )
            continue
        if item.stored_paper is not None:
            stored = StoredPaper.objects.filter(pk=item.stored_paper, owner=user).first()
            if stored is None:
                errors.setdefault(f"paper-{paper.pk}", []).append(
                    _("You have no such stored paper.")
                )
                continue
            attachments.append(Attachment(paper=paper, stored=stored))
            continue
        try:
            content = base64.b64decode(item.content_base64 or "", validate=True)
            attachments.append(
                Attachment(
                    paper=paper,
                    upload=dossier_files.check_upload(
                        None, name=item.filename or "tệp", content=content
                    ),
                )
            )
        except (binascii.Error, ValueError):
            errors.setdefault(f"paper-{paper.pk}", []).append(_("The file is not valid base64."))
        except ValidationError as exc:
            errors.setdefault(f"paper-{paper.pk}", []).extend(exc.messages)
    if errors:
        raise DossierInvalid(errors)
    return Submission(
        procedure=procedure,
        applicant=user,
        receiving_agency=agency_get(code=payload.receiving_agency),
        result_method=payload.result_method.value,
        form_data=payload.form,
        delivery_address=payload.delivery_address,
        attachments=attachments,
    )


@router.post(
    "",
    response={
        201: DossierOut,
        200: DossierOut,
        401: ErrorOut,
        403: ErrorOut,
        409: ErrorOut,
        422: InvalidOut,
    },
    summary="Submit a dossier (send an Idempotency-Key header to retry safely)",
)
def dossiers_create(request: HttpRequest, payload: DossierIn) -> Status[object]:
    user = _caller(request)
    if user.kind == UserKind.OFFICIAL:
        return _counter_intake(request, user, payload)
    if payload.applicant or payload.channel != 2:
        return Status(
            403, {"detail": _("Only receivers register dossiers for others."), "code": "forbidden"}
        )
    outcome = idempotency_run(
        user=user, operation="dossiers.create", key=idempotency_key(request),
        request=payload.dict(),
        create=lambda: dossier_submit(submission=_submission(request, payload)),
    )  # fmt: skip
    return Status(201 if outcome.created else 200, outcome.result)


class ListFilter(Schema):
    box: str | None = Field(
        None,
        description="An official's inbox: tiep-nhan (to receive), xu-ly (to process), "
        "phe-duyet (to approve), tra-ket-qua (to return), sap-den-han (due soon), "
        "qua-han (overdue), tam-dung (paused)",
    )


@router.get(
    "",
    response={200: Page[DossierListItemOut], 401: ErrorOut, 422: ErrorOut},
    summary="Your dossiers (citizen) or those your agencies handle (official)",
)
def dossiers_list(
    request: HttpRequest, filters: Query[ListFilter], paging: Query[PageParams]
) -> object:
    from tinhso.dossiers.inbox import BOXES, inbox

    caller = _caller(request)
    if filters.box:
        if filters.box not in {b.slug for b in BOXES} or caller.kind != UserKind.OFFICIAL:
            return Status(422, {"detail": _("Unknown inbox."), "code": "box"})
        rows = inbox(caller, filters.box)
        start = (paging.page - 1) * paging.page_size
        return {"count": len(rows), "page": paging.page, "page_size": paging.page_size,
                "pages": max(1, -(-len(rows) // paging.page_size)),
                "items": rows[start : start + paging.page_size]}  # fmt: skip
    qs = dossiers_visible_to(caller).exclude(status=DossierStatus.DRAFT)
    return paginate(qs, paging)


@router.get(
    "/{code}",
    response={200: DossierOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One dossier",
)
def dossiers_get(request: HttpRequest, code: str) -> Status[object]:
    dossier = dossier_by_code(code)
    if dossier is None:
        return Status(404, {"detail": _("No dossier has this code."), "code": "not_found"})
    caller = _caller(request)
    if not dossier_visible(dossier, caller):
        return Status(403, {"detail": _("You may not see this dossier."), "code": "forbidden"})
    return _answer(caller, dossier)


def _handled_dossier(caller: User, code: str) -> Dossier | Status[object]:
    """The dossier, or the 404 / 403 answer (officials of other agencies see nothing)."""
    dossier = dossier_by_code(code)
    if dossier is None:
        return Status(404, {"detail": _("No dossier has this code."), "code": "not_found"})
    if not dossier_visible(dossier, caller):
        return Status(403, {"detail": _("You may not see this dossier."), "code": "forbidden"})
    return dossier


@router.post(
    "/{code}/actions",
    response={200: DossierOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              422: ErrorOut},
    summary="Take a workflow action (accept, refuse, assign, forward, approve, …)",
)  # fmt: skip
def dossiers_act(request: HttpRequest, code: str, payload: ActionIn) -> Status[object]:
    caller = _caller(request)
    found = _handled_dossier(caller, code)
    if isinstance(found, Status):
        return found
    dossier = found
    if payload.action == "refuse" and not payload.note.strip():
        return Status(
            422, {"detail": _("Give the reason for refusing."), "code": "reason_required"}
        )
    assignee = None
    if payload.assignee:
        assignee = User.objects.filter(username=payload.assignee, is_active=True).first()
        if assignee is None:
            return Status(422, {"detail": _("No such user."), "code": "unknown_assignee"})
    moved = dossier_act(
        dossier=dossier, actor=caller, action=payload.action, version=payload.version,
        note=payload.note, assignee=assignee,
    )  # fmt: skip
    return _answer(caller, moved)


class TrackOut(Schema):
    code: str
    procedure: str = Field(alias="procedure.code")
    procedure_name: str = Field(alias="procedure.name")
    agency: str = Field(alias="receiving_agency.name")
    status: StatusOut
    submitted_at: datetime | None
    events: list[EventOut]

    @staticmethod
    def resolve_status(obj: Tracked) -> dict[str, Any]:
        return {"code": obj.status, "label": str(obj.get_status_display())}

    @staticmethod
    def resolve_events(obj: Tracked) -> list[Any]:
        return obj.events


@track_router.get(
    "/{code}",
    response={200: TrackOut, 404: ErrorOut},
    auth=None,
    summary="Public tracking: status and dates, never personal data",
)
def track(request: HttpRequest, code: str) -> Status[object] | HttpResponse:
    dossier = dossier_tracking(code)
    if dossier is None:
        return Status(404, {"detail": _("No dossier has this code."), "code": "not_found"})
    # The most frequent public read: its answer is written here as TrackOut describes it
    # (a test holds the two together), sparing pydantic's field-by-field validation of a
    # result this module built itself, a third of the request's time (issue 15).
    body = _JSON.render(request, track_body(dossier), response_status=200)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


_JSON = JSONRenderer()


def track_body(dossier: Tracked) -> dict[str, Any]:
    """TrackOut's JSON of a tracked dossier, built directly."""
    return {
        "code": dossier.code,
        "procedure": dossier.procedure.code,
        "procedure_name": dossier.procedure.name,
        "agency": dossier.receiving_agency.name,
        "status": {"code": dossier.status, "label": dossier.get_status_display()},
        "submitted_at": dossier.submitted_at,
        "events": [
            {
                "at": event.at,
                "status": {"code": event.to_status, "label": event.get_to_status_display()},
            }
            for event in dossier.events
        ],
    }


class RatingIn(Schema):
    score: int = Field(ge=1, le=3, description="3 very satisfied, 2 satisfied, 1 dissatisfied")
    comment: str = Field("", max_length=1000)


@router.post(
    "/{code}/rating",
    response={201: None, 200: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              422: ErrorOut},
    summary="The applicant rates their satisfaction once the result is returned (send an "
    "Idempotency-Key header to retry safely)",
)  # fmt: skip
def dossiers_rate(request: HttpRequest, code: str, payload: RatingIn) -> Status[object]:
    from tinhso.dossiers.services import dossier_rate

    caller = _caller(request)
    dossier = dossier_by_code(code)
    if dossier is None:
        return Status(404, {"detail": _("No dossier has this code."), "code": "not_found"})
    outcome = idempotency_run(
        user=caller, operation="dossiers.rate", key=idempotency_key(request),
        request={"dossier": code, **payload.dict()},
        create=lambda: dossier_rate(
            dossier=dossier, citizen=caller, score=payload.score, comment=payload.comment
        ),
    )  # fmt: skip
    return Status(201 if outcome.created else 200, None)


class ExtensionIn(Schema):
    reason: str = Field(min_length=3, max_length=2000)
    new_due: Moment = Field(
        description="ISO 8601 with an offset between -12:00 and +14:00 (without one: "
        "Vietnam's time)"
    )
    version: int = Field(ge=1, le=INT_MAX)


@router.post(
    "/{code}/extension",
    response={200: DossierOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              422: ErrorOut},
    summary="Issue BM.04: apologise and set a later due time (only before it is late)",
)  # fmt: skip
def dossiers_extend(request: HttpRequest, code: str, payload: ExtensionIn) -> Status[object]:
    from tinhso.dossiers.transitions import dossier_extend

    caller = _caller(request)
    found = _handled_dossier(caller, code)
    if isinstance(found, Status):
        return found
    dossier = found
    try:
        moved = dossier_extend(
            dossier=dossier, official=caller, reason=payload.reason, new_due=payload.new_due,
            version=payload.version,
        )  # fmt: skip
    except TransitionError as exc:
        if exc.code == TransitionError.code:  # the extension itself, not a lock or a role
            exc.code = "invalid_extension"
        raise
    return _answer(caller, moved)
