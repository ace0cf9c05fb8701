"""Reads of the dossiers module, with who may see which dossier."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, QuerySet

from tinhso.accounts.models import User, UserKind
from tinhso.accounts.policies import Viewer, signed_in
from tinhso.core.replica import REPLICA, primary_reads, read_database
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


def dossier_by_code(code: str) -> Dossier | None:
    """The submitted dossier with this code, however it was typed: spaces anywhere and
    lower case are forgiven ("000.02.60.h56 - 261122 - 0001")."""
    found = (
        Dossier.objects.select_related("procedure", "receiving_agency")
        .filter(code="".join(code.split()).upper())
        .exclude(status=DossierStatus.DRAFT)
    )
    dossier = found.first()
    if dossier is None and read_database(Dossier) == REPLICA:
        # Perhaps submitted a moment ago and not on the replica yet (ADR 0027).
        with primary_reads():
            dossier = found.all().first()
    return dossier


def dossier_tracking(code: str) -> Dossier | None:
    """What public tracking shows of the submitted dossier with this code (typed as
    `dossier_by_code` forgives), in two queries reading only the columns shown: the dossier
    with its procedure's code and name and its agency's name (the code's unique index),
    and its history's times and statuses (`events`)."""
    query = (
        Dossier.objects.filter(code="".join(code.split()).upper())
        .exclude(status=DossierStatus.DRAFT)
        .select_related("procedure", "receiving_agency")
        .only(
            "code", "status", "submitted_at", "procedure__code", "procedure__name",
            "receiving_agency__name",
        )
        .order_by()
        .prefetch_related(
            Prefetch(
                "events",
                queryset=DossierEvent.objects.only("dossier_id", "at", "to_status"),
            )
        )
    )  # fmt: skip
    found = list(query[:1])
    if not found and read_database(Dossier) == REPLICA:
        # Perhaps submitted a moment ago and not on the replica yet (ADR 0027).
        with primary_reads():
            found = list(query.all()[:1])
    return found[0] if found else None


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
