"""Reads of the dossiers module, with who may see which dossier."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tinhso.accounts.models import User, UserKind
from tinhso.accounts.selectors import memberships_of
from tinhso.dossiers.models import Dossier, DossierStatus, StoredPaper


def dossiers_of_citizen(user: User, *, include_drafts: bool = True) -> QuerySet[Dossier]:
    qs = Dossier.objects.filter(applicant=user).select_related("procedure", "receiving_agency")
    if not include_drafts:
        qs = qs.exclude(status=DossierStatus.DRAFT)
    return qs.order_by("-created_at")


def dossiers_for_official(user: User) -> QuerySet[Dossier]:
    """Dossiers an official's agencies handle: received there, or of procedures their
    agency implements. Drafts are the citizen's own business and never shown."""
    agencies = [m.agency for m in memberships_of(user)]
    if not agencies:
        return Dossier.objects.none()
    condition = Q()
    for agency in agencies:
        condition |= Q(receiving_agency__path__startswith=agency.path)
        condition |= Q(procedure__implementing_agency__path__startswith=agency.path)
    return (
        Dossier.objects.filter(condition)
        .exclude(status=DossierStatus.DRAFT)
        .select_related("procedure", "receiving_agency")
        .order_by("-submitted_at")
    )


def dossiers_visible_to(user: Any) -> QuerySet[Dossier]:
    if not getattr(user, "is_authenticated", False):
        return Dossier.objects.none()
    if user.kind == UserKind.OFFICIAL:
        return dossiers_for_official(user)
    return dossiers_of_citizen(user)


def dossier_by_code(code: str) -> Dossier | None:
    return (
        Dossier.objects.select_related("procedure", "receiving_agency")
        .filter(code=code.strip())
        .exclude(status=DossierStatus.DRAFT)
        .first()
    )


def stored_papers_of(user: User, paper_type: str | None = None) -> QuerySet[StoredPaper]:
    qs = StoredPaper.objects.filter(owner=user)
    if paper_type:
        qs = qs.filter(paper_type=paper_type)
    return qs
