"""Reads of the dossiers module, with who may see which dossier."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tinhso.accounts.models import User, UserKind
from tinhso.dossiers.models import Dossier, DossierStatus, StoredPaper


def dossiers_of_citizen(user: User, *, include_drafts: bool = True) -> QuerySet[Dossier]:
    qs = Dossier.objects.filter(applicant=user).select_related("procedure", "receiving_agency")
    if not include_drafts:
        qs = qs.exclude(status=DossierStatus.DRAFT)
    return qs.order_by("-created_at")


def dossiers_for_official(user: User) -> QuerySet[Dossier]:
    """Dossiers an official handles (dossiers.policy): received by an agency in which they
    hold a workflow role, or of a procedure that agency implements, or in an inter-agency
    step of theirs. That very agency only: a role in a parent agency gives nothing below
    it. Drafts are the citizen's own business and never shown. Built from id lists so each
    part uses an index."""
    from tinhso.catalog.models import Procedure
    from tinhso.dossiers.policy import workflow_memberships

    agencies = list({m.agency_id: m.agency for m in workflow_memberships(user)}.values())
    if not agencies:
        return Dossier.objects.none()
    agency_ids = [a.pk for a in agencies]
    procedure_ids = list(
        Procedure.objects.filter(implementing_agency_id__in=agency_ids).values_list("id", flat=True)
    )
    condition = Q(receiving_agency_id__in=agency_ids) | inter_agency_condition(agencies)
    if procedure_ids:
        condition |= Q(procedure_id__in=procedure_ids)
    return (
        Dossier.objects.filter(condition)
        .exclude(status=DossierStatus.DRAFT)
        .select_related("procedure", "receiving_agency")
        .order_by("-submitted_at")
    )


def _province_agency_ids(province_key: str) -> list[int]:
    from tinhso.agencies.models import Agency

    return list(
        Agency.objects.filter(path__startswith=f"/{province_key}/").values_list("id", flat=True)
    )


def inter_agency_condition(agencies: list[Any]) -> Q:
    """Dossiers in an inter-agency step that belongs to one of `agencies` (by short name,
    within the same province)."""
    from tinhso.dossiers.models import Workflow

    condition = Q(pk__in=[])
    short_names = {a.short_name for a in agencies if a.short_name and a.level != "commune"}
    if not short_names:
        return condition
    for code, definition in Workflow.objects.values_list("code", "definition"):
        for state in definition.get("states", []):
            if state.get("inter_agency") in short_names:
                for agency in agencies:
                    if agency.short_name == state["inter_agency"]:
                        province = agency.path.split("/")[1]
                        condition |= Q(
                            procedure__workflow=code,
                            state=state["name"],
                            receiving_agency_id__in=_province_agency_ids(province),
                        )
    return condition


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
