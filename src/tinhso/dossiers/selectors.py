"""Reads of the dossiers module, with who may see which dossier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tinhso.accounts.models import User, UserKind
from tinhso.accounts.policies import Viewer, memberships, signed_in
from tinhso.agencies.models import Agency
from tinhso.catalog.models import Procedure
from tinhso.core.replica import read_fresh
from tinhso.dossiers.models import Dossier, DossierEvent, DossierStatus, StoredPaper


def dossiers_of_citizen(user: User, *, include_drafts: bool = True) -> QuerySet[Dossier]:
    qs = Dossier.objects.filter(applicant=user).select_related("procedure", "receiving_agency")
    if not include_drafts:
        qs = qs.exclude(status=DossierStatus.DRAFT)
    return qs.order_by("-created_at")


def dossiers_for_official(user: User) -> QuerySet[Dossier]:
    """Dossiers an official handles (dossiers.policy, cases.inbox): received by an agency
    in which they hold a workflow role, or of a procedure that agency implements, or in an
    inter-agency step of theirs. That very agency only: a role in a parent agency gives
    nothing below it. Drafts are the citizen's own business and never shown."""
    from tinhso.cases.inbox import cases_handled
    from tinhso.dossiers.subject import DOSSIER

    return (
        cases_handled(user, DOSSIER)
        .select_related("procedure", "receiving_agency")
        .order_by("-submitted_at")
    )


def dossiers_visible_to(user: Viewer) -> QuerySet[Dossier]:
    person = signed_in(user)
    if person is None:
        return Dossier.objects.none()
    if person.kind == UserKind.OFFICIAL:
        return dossiers_for_official(person)
    return dossiers_of_citizen(person)


def dossier_visible(dossier: Dossier, user: Viewer) -> bool:
    """Whether `dossier` is one of `dossiers_visible_to(user)`, decided from the loaded row
    and the user's memberships (read once per request) instead of a query: its applicant;
    an official holding a workflow role in an agency that handles it
    (`dossiers.subject.handled_by`, the filter's rule; a test holds the two equal)."""
    from tinhso.dossiers.subject import DOSSIER, handled_by

    person = signed_in(user)
    if person is None:
        return False
    if person.kind != UserKind.OFFICIAL:
        return dossier.applicant_id == person.pk
    if dossier.status == DossierStatus.DRAFT:
        return False
    agencies = [m.agency for m in memberships(person) if m.role in DOSSIER.roles]
    return bool(agencies) and handled_by(dossier, agencies)


def dossier_code(typed: str) -> str:
    """A dossier code however it was typed: spaces anywhere and lower case are forgiven
    ("000.02.60.h56 - 261122 - 0001")."""
    return "".join(typed.split()).upper()


def dossier_by_code(code: str) -> Dossier | None:
    """The submitted dossier with this code (`dossier_code`), from the primary if the
    replica does not have it yet (ADR 0027)."""
    found = (
        Dossier.objects.select_related("procedure", "receiving_agency", "applicant")
        .filter(code=dossier_code(code))
        .exclude(status=DossierStatus.DRAFT)
    )
    return read_fresh(Dossier, lambda alias: found.using(alias).first())


@dataclass(frozen=True)
class TrackedEvent:
    at: datetime
    to_status: int

    def get_to_status_display(self) -> str:
        return str(DossierStatus(self.to_status).label)


@dataclass(frozen=True)
class TrackedName:
    code: str
    name: str


@dataclass(frozen=True)
class Tracked:
    """What public tracking shows of a dossier: never the applicant or the declaration."""

    code: str
    status: int
    submitted_at: datetime | None
    procedure: TrackedName
    receiving_agency: TrackedName
    events: list[TrackedEvent]

    def get_status_display(self) -> str:
        return str(DossierStatus(self.status).label)


def _aware(value: Any) -> datetime | None:
    """A time read by plain SQL as the ORM would give it (SQLite keeps naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value  # type: ignore[no-any-return]


def _tracking_read(alias: str, code: str) -> Tracked | None:
    connection = connections[alias]
    quote = connection.ops.quote_name
    dossiers, events = quote(Dossier._meta.db_table), quote(DossierEvent._meta.db_table)
    procedures = quote(Procedure._meta.db_table)
    agencies = quote(Agency._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.code, d.status, d.submitted_at, p.code, p.name, a.code, a.name "  # noqa: S608
            f"FROM {dossiers} d JOIN {procedures} p ON p.id = d.procedure_id "
            f"LEFT JOIN {agencies} a ON a.id = d.receiving_agency_id "
            f"WHERE d.code = %s AND d.status <> %s",
            [code, DossierStatus.DRAFT.value],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(
            f"SELECT at, to_status FROM {events} WHERE dossier_id = %s "  # noqa: S608
            f"ORDER BY at, id",
            [row[0]],
        )
        history = [TrackedEvent(at=_aware(at), to_status=to) for at, to in cursor.fetchall()]  # type: ignore[arg-type]
    return Tracked(
        code=row[1], status=row[2], submitted_at=_aware(row[3]),
        procedure=TrackedName(row[4], row[5]),
        receiving_agency=TrackedName(row[6] or "", row[7] or ""), events=history,
    )  # fmt: skip


def dossier_tracking(code: str) -> Tracked | None:
    """What public tracking shows of the submitted dossier with this code (typed as
    `dossier_by_code` forgives): two plain, parametrised statements reading only the
    columns shown, the dossier with its procedure and agency by the code's unique index,
    and its history's times and statuses. Public and the most frequent read, so it skips
    the ORM's query building (issue 15: 3.9× → 2.5× the same SQL run bare)."""
    code = dossier_code(code)
    return read_fresh(Dossier, lambda alias: _tracking_read(alias, code))


def stored_papers_of(user: User, paper_type: str | None = None) -> QuerySet[StoredPaper]:
    qs = StoredPaper.objects.filter(owner=user)
    if paper_type:
        qs = qs.filter(paper_type=paper_type)
    return qs


def most_used_procedure_ids(*, days: int = 30, limit: int = 6) -> list[int]:
    """The procedures most submitted in the last `days` (the home page's "most used"): an
    index range over those days' dossiers, kept in the cache for an hour, not a scan per
    page."""
    from django.core.cache import cache
    from django.db.models import Count
    from django.utils import timezone

    key = f"dossiers:most-used:{days}:{limit}"
    found: list[int] | None = cache.get(key)
    if found is None:
        since = timezone.now() - timedelta(days=days)
        found = list(
            Dossier.objects.filter(submitted_at__gte=since)
            .values("procedure_id")
            .annotate(n=Count("id"))
            .order_by("-n", "procedure_id")
            .values_list("procedure_id", flat=True)[:limit]
        )
        cache.set(key, found, 3600)
    return found
