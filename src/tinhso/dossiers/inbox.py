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
from tinhso.core.calendar import hours_memo, working_time_between
from tinhso.dossiers.models import Dossier, DossierStatus
from tinhso.dossiers.selectors import dossiers_for_official, inter_agency_condition

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
    Box("phat-hanh", _("To issue")),
    Box("tra-ket-qua", _("To return")),
    Box("sap-den-han", _("Due soon")),
    Box("qua-han", _("Overdue")),
    Box("tam-dung", _("Paused")),
]


def _roles(user: User) -> set[str]:
    return {m.role for m in memberships_of(user)}


def _box(user: User, slug: str, roles: set[str], base: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """The query behind one box (for "due soon": the candidates, filtered in `_due_soon`)."""
    now = timezone.now()
    open_only = [*TERMINAL, DossierStatus.FINISHED]
    if slug == "tiep-nhan":
        return base.filter(state="new") if Role.RECEIVER in roles else base.none()
    if slug == "xu-ly":
        qs = base.filter(state="received") if roles & {Role.RECEIVER, Role.LEADER} else base.none()
        if Role.SPECIALIST in roles:
            qs = qs | base.filter(Q(state="processing") & (Q(assignee=user) | Q(assignee=None)))
            qs = qs | base.filter(inter_agency_condition([m.agency for m in memberships_of(user)]))
        return qs
    if slug == "phe-duyet":
        return base.filter(state="approving") if Role.LEADER in roles else base.none()
    if slug == "phat-hanh":
        return base.filter(state="issuing") if Role.CLERK in roles else base.none()
    if slug == "tra-ket-qua":
        return base.filter(state="finished") if Role.RECEIVER in roles else base.none()
    if slug == "tam-dung":
        return base.filter(paused_at__isnull=False)
    if slug == "qua-han":
        return base.filter(due_at__lt=now, paused_at__isnull=True).exclude(status__in=open_only)
    if slug == "sap-den-han":
        return base.filter(
            due_at__gte=now, due_at__lte=now + timedelta(days=4), paused_at__isnull=True
        ).exclude(status__in=open_only)
    return base.none()


def _due_soon(candidates: QuerySet[Dossier]) -> list[Dossier]:
    """Those with at most one working day left (working time needs the calendar)."""
    calendar_hours = hours_memo()  # one load per calendar, not per dossier
    now = timezone.now()
    soon = []
    for dossier in candidates.order_by("due_at"):
        hours = calendar_hours(
            dossier.receiving_agency.calendar if dossier.receiving_agency else None
        )
        assert dossier.due_at is not None  # noqa: S101 (the candidates have a due time)
        if working_time_between(now, dossier.due_at, hours) <= hours.day_length:
            soon.append(dossier)
    return soon


def _base(user: User) -> QuerySet[Dossier]:
    # Lists never show the form, the e-form schema or the legal texts: leave them in the db.
    return (
        dossiers_for_official(user)
        .select_related("applicant")
        .defer(
            "form_data", "procedure__form_schema", "procedure__legal_basis",
            "procedure__search_text", "procedure__fees", "receiving_agency__search_text",
        )
    )  # fmt: skip


def inbox(user: User, slug: str) -> list[Dossier]:
    """The dossiers of one box for `user`, most urgent first (at most 200)."""
    qs = _box(user, slug, _roles(user), _base(user))
    if slug == "sap-den-han":
        return _due_soon(qs)
    return list(qs.order_by("due_at", "submitted_at")[:200])


def inbox_counts(user: User) -> dict[str, int]:
    """How many dossiers each box holds: COUNT queries, not the lists themselves."""
    roles, base = _roles(user), _base(user)
    return {
        box.slug: len(_due_soon(_box(user, box.slug, roles, base)))
        if box.slug == "sap-den-han"
        else _box(user, box.slug, roles, base).count()
        for box in BOXES
    }
