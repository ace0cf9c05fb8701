"""Writes of the dossiers module (citizen side): drafts and submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.accounts.selectors import identity_profile
from tinhso.agencies.models import Agency
from tinhso.cases.transitions import graph_of
from tinhso.catalog.eform import form_identity_apply, form_shape_errors, form_validate
from tinhso.catalog.models import Procedure, RequiredPaper
from tinhso.catalog.selectors import receives
from tinhso.core import files as dossier_files
from tinhso.core.audit import audit_record
from tinhso.core.errors import DomainError
from tinhso.core.notifications import notify
from tinhso.core.numbering import Period, sequence_holds_row, sequence_next
from tinhso.dossiers.models import (
    Channel,
    Dossier,
    DossierEvent,
    DossierFile,
    DossierStatus,
    Rating,
    StoredPaper,
)
from tinhso.dossiers.rollups import dossier_rated


class DossierInvalid(DomainError):  # noqa: N818 (reads as what happened: "the dossier is invalid")
    """The submission cannot be accepted. `errors` maps a form field (dotted name),
    `paper-<id>`, or `__all__` to messages in the active language (422 `invalid`)."""

    errors: dict[str, list[str]]

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(
            _("The dossier was not submitted: correct the errors listed."), errors=errors
        )


@dataclass
class Attachment:
    """One paper offered with a submission: a checked upload or a stored paper."""

    paper: RequiredPaper
    upload: dossier_files.CheckedFile | None = None
    stored: StoredPaper | None = None


@dataclass
class Submission:
    procedure: Procedure
    applicant: User
    receiving_agency: Agency | None
    result_method: str
    form_data: dict[str, Any]
    delivery_address: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    channel: int = Channel.ONLINE


def dossier_code_next(*, agency: Agency, day: date) -> str:
    """The next code of `agency` for `day`: `{e-ID}-{yymmdd}-{NNNN}` (ADR 0006), numbered by
    core.numbering with gaps allowed (ADR 0025): on PostgreSQL the number is taken in a
    short transaction of its own, so submissions to one agency do not queue on one row for
    the length of theirs; codes are unique and increasing, and one taken by a submission
    that then fails is not used again."""
    number = sequence_next(
        register="dossier", scope=str(agency.pk), period=Period.DAILY, day=day, gaps=True
    )
    return f"{agency.code}-{day:%y%m%d}-{number:04d}"


def _identity_apply(submission: Submission) -> None:
    """The applicant's identity fields come from what the state knows of them, never from
    what the form posted (catalog.eform.form_identity_apply)."""
    schema = submission.procedure.form_schema or {"type": "object"}
    submission.form_data = form_identity_apply(
        schema, submission.form_data, identity_profile(submission.applicant)
    )


def _check(submission: Submission, *, final: bool) -> None:
    errors: dict[str, list[str]] = {}
    procedure = submission.procedure
    schema = procedure.form_schema or {"type": "object"}
    errors.update(form_shape_errors(schema, submission.form_data))
    if not procedure.is_active:
        errors.setdefault("__all__", []).append(_("This procedure is no longer offered."))
    if submission.receiving_agency is None:
        if final:
            errors.setdefault("receiving_agency", []).append(_("Choose where to submit."))
    elif not receives(submission.receiving_agency, procedure):
        errors.setdefault("receiving_agency", []).append(
            _("This agency does not receive dossiers for this procedure.")
        )
    if final and submission.result_method not in procedure.result_methods:
        errors.setdefault("result_method", []).append(
            _("Choose how to receive the result among those offered.")
        )
    if final and submission.result_method == "post" and not submission.delivery_address.strip():
        errors.setdefault("delivery_address", []).append(
            _("Give the address the result is to be posted to.")
        )
    for attachment in submission.attachments:
        if attachment.paper.procedure_id != procedure.pk:
            errors.setdefault("__all__", []).append(_("A paper does not belong to this procedure."))
        stored = attachment.stored
        if stored is not None and (
            stored.owner_id != submission.applicant.pk
            or stored.paper_type != attachment.paper.paper_type
        ):
            errors.setdefault(f"paper-{attachment.paper.pk}", []).append(
                _("This stored paper cannot be used for %(paper)s.")
                % {"paper": attachment.paper.name}
            )
    if final and not errors:
        errors.update(form_validate(schema, submission.form_data))
        attached = {a.paper.pk for a in submission.attachments}
        for paper in procedure.papers.all():
            if paper.required and not paper.eform and paper.pk not in attached:
                errors.setdefault(f"paper-{paper.pk}", []).append(
                    _("Attach %(paper)s.") % {"paper": paper.name}
                )
    if errors:
        raise DossierInvalid(errors)


def _attach(dossier: Dossier, attachments: list[Attachment]) -> None:
    for attachment in attachments:
        if attachment.stored is not None:
            stored = attachment.stored
            DossierFile.objects.create(
                dossier=dossier,
                paper=attachment.paper,
                paper_name=attachment.paper.name,
                original_name=stored.name,
                storage_name=stored.storage_name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                stored_paper=stored,
            )
            continue
        upload = attachment.upload
        assert upload is not None  # noqa: S101 (an attachment is an upload or a stored paper)
        name = dossier_files.store(upload, folder="dossiers")
        DossierFile.objects.create(
            dossier=dossier,
            paper=attachment.paper,
            paper_name=attachment.paper.name,
            original_name=upload.original_name,
            storage_name=name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )


def _replace_files(dossier: Dossier, attachments: list[Attachment]) -> None:
    """Attach the offered papers, replacing earlier files of the same papers (an earlier
    upload's file goes once the transaction commits)."""
    replaced_papers = {a.paper.pk for a in attachments}
    old = list(dossier.files.filter(paper_id__in=replaced_papers))
    for f in old:
        if f.stored_paper_id is None:
            dossier_files.discard(f.storage_name)
        f.delete()
    _attach(dossier, attachments)


def dossier_save_draft(*, submission: Submission, draft: Dossier | None = None) -> Dossier:
    """Save what the citizen has filled so far (the form need not be complete yet)."""
    _identity_apply(submission)
    _check(submission, final=False)
    with transaction.atomic():
        if draft is None:
            draft = Dossier(procedure=submission.procedure, applicant=submission.applicant)
        elif draft.status != DossierStatus.DRAFT or draft.applicant_id != submission.applicant.pk:
            raise ValidationError(_("Only your own drafts can be changed."))
        draft.receiving_agency = submission.receiving_agency
        draft.form_data = submission.form_data
        draft.result_method = submission.result_method
        draft.delivery_address = submission.delivery_address
        draft.save()
        _replace_files(draft, submission.attachments)
    return draft


def dossier_submit(
    *, submission: Submission, draft: Dossier | None = None, now: datetime | None = None
) -> Dossier:
    """Submit a dossier: check the form against the procedure's schema, the papers and the
    choices; then, in one transaction, number it, store its files, and write its event,
    audit entry and notifications. On any failure nothing is kept, files included. The
    applicant's identity fields are taken from their identity, not from the form."""
    _identity_apply(submission)
    if draft is not None:
        if draft.status != DossierStatus.DRAFT or draft.applicant_id != submission.applicant.pk:
            raise DossierInvalid({"__all__": [_("This draft has already been submitted.")]})
        kept = [
            Attachment(paper=f.paper, stored=f.stored_paper)
            for f in draft.files.select_related("paper", "stored_paper")
            if f.paper is not None
            and f.paper.pk not in {a.paper.pk for a in submission.attachments}
        ]
        check = Submission(**{**submission.__dict__, "attachments": submission.attachments + kept})
        _check(check, final=True)
    else:
        _check(submission, final=True)
    agency = submission.receiving_agency
    assert agency is not None  # noqa: S101 (checked above)
    with transaction.atomic():
        # `now` is given only when importing historical records (the demo's past months);
        # the audit entry always carries the real time it was written.
        now = now or timezone.now()
        if draft is not None:
            dossier = Dossier.objects.select_for_update().get(pk=draft.pk)
            if dossier.status != DossierStatus.DRAFT:
                raise DossierInvalid({"__all__": [_("This draft has already been submitted.")]})
        else:
            dossier = Dossier(procedure=submission.procedure, applicant=submission.applicant)
        dossier.receiving_agency = agency
        dossier.form_data = submission.form_data
        dossier.result_method = submission.result_method
        dossier.delivery_address = submission.delivery_address.strip()
        dossier.channel = submission.channel
        # Where its procedure's workflow starts (cases.workflow).
        start = graph_of(dossier)
        dossier.state = start.start
        dossier.status = start.states[start.start].status
        dossier.submitted_at = now
        # Numbered before the row is written (no UPDATE after), unless taking the number
        # keeps the agency's daily row locked to the end of this transaction (ADR 0025: on
        # PostgreSQL it is taken in a short transaction of its own unless that is switched
        # off); then last, after the files are stored, so the row is held briefly.
        late = sequence_holds_row(gaps=True)
        if not late:
            dossier.code = dossier_code_next(agency=agency, day=timezone.localdate(now))
        dossier.save()
        if draft is None:
            _attach(dossier, submission.attachments)
            files = len(submission.attachments)
        else:
            _replace_files(dossier, submission.attachments)
            files = dossier.files.count()
        DossierEvent.objects.create(
            dossier=dossier,
            actor=submission.applicant,
            action="submit",
            from_status=DossierStatus.DRAFT,
            to_status=dossier.status,
            at=now,
        )
        if late:
            dossier.code = dossier_code_next(agency=agency, day=timezone.localdate(now))
            dossier.save(update_fields=["code"])
        notify(
            user=submission.applicant,
            subject=_("Dossier %(code)s received") % {"code": dossier.code},
            body=_(
                "Your dossier %(code)s for “%(procedure)s” was submitted to %(agency)s. "
                "Follow it with its code on the tracking page."
            )
            % {
                "code": dossier.code,
                "procedure": dossier.procedure.name,
                "agency": agency.name,
            },
            link=reverse("dossiers:track") + f"?ma={dossier.code}",
        )
        audit_record(
            actor=submission.applicant,
            action="dossier.submitted",
            obj=dossier,
            data={
                "code": dossier.code,
                "procedure": dossier.procedure.code,
                "agency": agency.code,
                "files": files,
            },
        )
    return dossier


def stored_paper_add(
    *,
    owner: User,
    paper_type: str,
    name: str,
    checked: dossier_files.CheckedFile,
    issued_by: Agency | None = None,
    issued_on: date | None = None,
    number: str = "",
) -> StoredPaper:
    """Put an issued paper in a citizen's store (results land here; the demo seeds some)."""
    with transaction.atomic():
        relative = dossier_files.store(checked, folder="papers")
        paper = StoredPaper.objects.create(
            owner=owner,
            paper_type=paper_type,
            name=name,
            number=number,
            issued_by=issued_by,
            issued_on=issued_on,
            storage_name=relative,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        audit_record(
            actor=None,
            action="stored_paper.added",
            obj=paper,
            data={"type": paper_type, "owner": owner.pk},
        )
    return paper


class RatingError(DomainError):
    """A rating refused: not the applicant (403), not returned yet or rated already (409),
    not one of the three scores (422)."""

    code = "rating"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, status=status)


def dossier_rate(*, dossier: Dossier, citizen: User, score: int, comment: str = "") -> Rating:
    """The applicant rates a returned dossier, once."""
    from tinhso.dossiers.models import Satisfaction

    if getattr(citizen, "pk", None) != dossier.applicant_id:
        raise RatingError(_("Only the applicant rates a dossier."), 403)
    if dossier.status != DossierStatus.RETURNED:
        raise RatingError(_("A dossier is rated once its result has been returned."), 409)
    if score not in Satisfaction.values:
        raise RatingError(_("Choose one of the three ratings."), 422)
    with transaction.atomic():
        rating, created = Rating.objects.get_or_create(
            dossier=dossier, defaults={"score": score, "comment": comment.strip()[:1000]}
        )
        if not created:
            raise RatingError(_("This dossier has already been rated."), 409)
        dossier_rated(rating)
        audit_record(actor=citizen, action="dossier.rated", obj=dossier, data={"score": score})
    return rating


class DataRead:
    """What an official opened of a dossier, as the citizen reads it in their access log."""

    DOSSIER = "dossier"
    ATTACHMENT = "attachment"
    DOCUMENT = "document"
    CONTROL_SHEET = "bm05"


def dossier_read_record(
    *, official: User, dossier: Dossier, record: str, detail: str = "", channel: str = "web"
) -> None:
    """Log that `official` read the applicant's personal data in `dossier` (its page, an
    attached paper, an issued form, BM.05), where the citizen can see it. Called by every
    page and endpoint that shows such data to an official, after dossiers.policy allowed it;
    the applicant's own reads are not logged."""
    from tinhso.accounts.access import personal_data_access_record
    from tinhso.dossiers.policy import reading_agency

    if official.pk == dossier.applicant_id:
        return
    code = dossier.code or ""
    purposes = {
        DataRead.DOSSIER: _("Handling dossier %(code)s"),
        DataRead.ATTACHMENT: _("Opened the paper “%(detail)s” of dossier %(code)s"),
        DataRead.DOCUMENT: _("Opened “%(detail)s” of dossier %(code)s"),
        DataRead.CONTROL_SHEET: _("Opened the process control sheet (BM.05) of dossier %(code)s"),
    }
    personal_data_access_record(
        official=official,
        citizen=dossier.applicant,
        purpose=purposes[record] % {"code": code, "detail": detail},
        agency=reading_agency(dossier, official),
        record=record,
        channel=channel,
    )
