"""The officials' inboxes: what each official should look at now, per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from tinhso.accounts.models import Role, User
from tinhso.accounts.selectors import memberships_of
from tinhso.core.calendar import hours_for
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.selectors import dossiers_for_official, inter_agency_condition
from tinhso.dossiers.transitions import working_time_left

TERMINAL = [
    DossierStatus.REFUSED, DossierStatus.WITHDRAWN, DossierStatus.STOPPED, DossierStatus.RETURNED,
]  # fmt: skip


@dataclass(frozen=True)
class Box:
    slug: str
    label: StrOrPromise


BOXES = [
    Box("tiep-nhan", _("To receive")),
    Box("xu-ly", _("To process")),
    Box("phe-duyet", _("To approve")),
    Box("tra-ket-qua", _("To return")),
    Box("sap-den-han", _("Due soon")),
    Box("qua-han", _("Overdue")),
    Box("tam-dung", _("Paused")),
]


def _roles(user: User) -> set[str]:
    return {m.role for m in memberships_of(user)}


def inbox(user: User, slug: str) -> list[Dossier]:
    """The dossiers of one box for `user`, most urgent first."""
    roles = _roles(user)
    # Lists never show the form, the e-form schema or the legal texts: leave them in the db.
    base: QuerySet[Dossier] = (
        dossiers_for_official(user)
        .select_related("applicant")
        .defer(
            "form_data", "procedure__form_schema", "procedure__legal_basis",
            "procedure__search_text", "procedure__fees", "receiving_agency__search_text",
        )
    )  # fmt: skip
    now = timezone.now()
    if slug == "tiep-nhan":
        qs = base.filter(state="new") if Role.RECEIVER in roles else base.none()
    elif slug == "xu-ly":
        qs = base.filter(state="received") if roles & {Role.RECEIVER, Role.LEADER} else base.none()
        if Role.SPECIALIST in roles:
            qs = qs | base.filter(Q(state="processing") & (Q(assignee=user) | Q(assignee=None)))
            qs = qs | base.filter(inter_agency_condition([m.agency for m in memberships_of(user)]))
    elif slug == "phe-duyet":
        qs = base.filter(state="approving") if Role.LEADER in roles else base.none()
    elif slug == "tra-ket-qua":
        qs = base.filter(state="finished") if Role.RECEIVER in roles else base.none()
    elif slug == "tam-dung":
        qs = base.filter(paused_at__isnull=False)
    elif slug == "qua-han":
        qs = base.filter(due_at__lt=now, paused_at__isnull=True).exclude(
            status__in=[*TERMINAL, DossierStatus.FINISHED]
        )
    elif slug == "sap-den-han":
        candidates = base.filter(
            due_at__gte=now, due_at__lte=now + timedelta(days=4), paused_at__isnull=True
        ).exclude(status__in=[*TERMINAL, DossierStatus.FINISHED])
        soon = []
        for d in candidates.order_by("due_at"):
            calendar = d.receiving_agency.calendar if d.receiving_agency else None
            left = working_time_left(d)
            if left is not None and left <= hours_for(calendar).day_length:
                soon.append(d)
        return soon  # fmt: skip
    else:
        return []
    return list(qs.order_by("due_at", "submitted_at")[:200])


def inbox_counts(user: User) -> dict[str, int]:
    return {box.slug: len(inbox(user, box.slug)) for box in BOXES}
