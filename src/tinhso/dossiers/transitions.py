"""Moving a dossier (the back office's one write path), on the platform's workflow engine.

`dossier_act` is cases.transitions.case_transition for a dossier: the engine checks the
action and the actor's role in a handling agency (dossiers.policy), locks optimistically,
keeps the deadlines, runs the effects the workflow declares (the forms, the result signed
and sealed, the payment asked or cancelled) and emits the event whose consumers write the
history row, tell the applicant and append the audit entry. `dossier_extend` issues BM.04.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.accounts.policies import Viewer
from tinhso.cases.graph import Action
from tinhso.cases.models import Workflow
from tinhso.cases.transitions import (
    TransitionConflictError,
    TransitionError,
    TransitionForbiddenError,
    case_actions,
    case_transition,
    working_time_left,
)
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.notifications import notify
from tinhso.dossiers.models import DocumentKind, Dossier, DossierEvent
from tinhso.dossiers.policy import extendable, may_extend
from tinhso.dossiers.subject import acting_agency
from tinhso.dossiers.workflow import CRIMINAL_RECORD, STANDARD

__all__ = [
    "TransitionConflictError",
    "TransitionError",
    "TransitionForbiddenError",
    "acting_agency",
    "allowed_actions",
    "dossier_act",
    "dossier_extend",
    "dossier_trigger",
    "workflow_standard_ensure",
    "working_time_left",
]


def workflow_standard_ensure() -> Workflow:
    """The built-in workflows (made by migrations; made again if a flush removed them)."""
    Workflow.objects.get_or_create(
        code="lltp-lien-thong",
        defaults={"name": "Cấp Phiếu lý lịch tư pháp, liên thông Công an tỉnh",
                  "definition": CRIMINAL_RECORD, "subject": "dossier"},
    )  # fmt: skip
    workflow, _created = Workflow.objects.get_or_create(
        code="standard",
        defaults={"name": "Quy trình một cửa chuẩn", "definition": STANDARD, "subject": "dossier"},
    )
    return workflow


def allowed_actions(dossier: Dossier, user: Viewer) -> list[Action]:
    """The actions `user` may take on the dossier now."""
    return case_actions(dossier, user)


def dossier_act(
    *,
    dossier: Dossier,
    actor: User | None,
    action: str,
    version: int,
    note: str = "",
    assignee: User | None = None,
    now: datetime | None = None,
) -> Dossier:
    """Take `action` on the dossier as `actor`, who saw it at `version`. `now` is given only
    when importing historical records; normally it is the current time."""
    moved = case_transition(
        case=dossier, actor=actor, action=action, version=version, note=note,
        assignee=assignee, now=now,
    )  # fmt: skip
    assert isinstance(moved, Dossier)  # noqa: S101 (the engine returns the case it moved)
    return moved


def dossier_trigger(*, dossier: Dossier, trigger: str, note: str = "") -> Dossier:
    """The platform takes the action of the dossier's workflow that answers `trigger`
    (`payment.paid`: the bank said the fee was paid), if the dossier is where one does;
    TransitionConflictError otherwise. The event has no actor."""
    moved = case_transition(
        case=dossier, actor=None, action="", version=dossier.version, note=note, trigger=trigger
    )
    assert isinstance(moved, Dossier)  # noqa: S101
    return moved


@dataclass(frozen=True)
class DossierExtended(Event):
    """BM.04 was issued: the dossier's due time moved later, with an apology."""

    kind = "dossier.extended"
    dossier: Dossier
    official: User
    reason: str
    old_due: datetime
    new_due: datetime
    at: datetime

    def audit(self) -> AuditItem:
        return AuditItem(
            actor=self.official, action="dossier.extended", obj=self.dossier,
            data={"code": self.dossier.code, "from": self.old_due.isoformat(),
                  "to": self.new_due.isoformat()},
        )  # fmt: skip


def extension_record(event: DossierExtended) -> None:
    """The history row and the apology to the applicant (a DossierExtended consumer)."""
    dossier = event.dossier
    DossierEvent.objects.create(
        dossier=dossier, actor=event.official, action="extend", from_status=dossier.status,
        to_status=dossier.status, note=event.reason[:2000], at=event.at,
    )  # fmt: skip
    notify(
        user=dossier.applicant,
        subject=_("Dossier %(code)s: new due time") % {"code": dossier.code},
        body=_("We apologise: your dossier %(code)s will be ready by %(due)s. Reason: %(reason)s")
        % {
            "code": dossier.code,
            "due": timezone.localtime(event.new_due).strftime("%d/%m/%Y %H:%M"),
            "reason": event.reason,
        },
    )


def dossier_extend(
    *, dossier: Dossier, official: User, reason: str, new_due: datetime, version: int
) -> Dossier:
    """Issue BM.04: apologise and set a later due time. Allowed only before the dossier is
    late, while it is processed with its clock running, to its specialist or leader
    (dossiers.policy), with a reason."""
    from tinhso.dossiers import legal_forms
    from tinhso.signing.services import SigningError

    now = timezone.now()
    if not may_extend(dossier, official):
        raise TransitionForbiddenError(
            _("Only the specialist or the leader handling the dossier may extend it.")
        )
    if not reason.strip():
        raise TransitionError(_("Give the reason for the delay."))
    if not extendable(dossier) or dossier.due_at is None:
        raise TransitionError(
            _("Only a dossier being processed, with its clock running, can be extended.")
        )
    if now > dossier.due_at:
        raise TransitionError(
            _(
                "The dossier is already late: the apology and extension must come "
                "before its due time."
            )
        )
    if new_due <= dossier.due_at:
        raise TransitionError(_("The new due time must be later than the current one."))
    old_due = dossier.due_at
    with transaction.atomic():
        updated = Dossier.objects.filter(pk=dossier.pk, version=version).update(
            version=version + 1, due_at=new_due, warned_for_due=None, updated_at=now
        )
        if updated != 1:
            raise TransitionConflictError(
                _("Someone else changed this dossier a moment ago. Reload it and try again.")
            )
        name = official.full_name or official.get_username()
        agency = dossier.receiving_agency
        assert agency is not None  # noqa: S101 (a dossier with a due time was received)
        try:
            legal_forms.form_queue(
                dossier=dossier, kind=DocumentKind.BM04, agency=agency, actor=official,
                now=now,
                inputs={"name": name, "note": reason.strip(), "new_due": new_due.isoformat(),
                        "old_due": old_due.isoformat()},
            )  # fmt: skip
        except SigningError as exc:
            raise TransitionError(exc.message) from exc
        event_emit(
            DossierExtended(
                dossier=dossier, official=official, reason=reason.strip(), old_due=old_due,
                new_due=new_due, at=now,
            )
        )  # fmt: skip
    dossier.refresh_from_db()
    return dossier
