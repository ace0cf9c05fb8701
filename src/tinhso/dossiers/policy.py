"""Who may see and do what with a dossier: least privilege (ADR 0015).

Every permission question about a dossier is answered here, and the API, the pages, the
services and the payments module ask it the same way:

* Which dossiers an official handles (their inboxes and lists, the actions the workflow
  offers them): those of an agency in which they hold a *workflow role in that very
  agency*. A role held in a parent agency gives nothing in the agencies below it: the
  province People's Committee's specialist does not handle a commune's dossiers.
* Who reads the applicant's personal data (the declaration, ID number, phone, address,
  the attached papers, the issued forms, BM.05): the applicant, and the officials holding
  a *personal-data role* (receiver, specialist, leader) in a handling agency. A clerk opens
  only the result they seal; accountants see payments, not dossiers; data publishers,
  catalogue editors and administrators see none of it. Each official's read is logged
  where the citizen can see it (`dossier_data_read`).
* Who may take an action: the workflow names its roles; they count only in a handling
  agency (`dossier_roles`).

Figures (counts, rates) are not personal data: a supervisor of a parent agency may see
those of the agencies below it (dossiers.figures), and that is the only downward
inheritance there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinhso.accounts.models import Membership, Role, User, UserKind
from tinhso.accounts.selectors import memberships_of
from tinhso.agencies.models import Agency
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, DossierStatus
from tinhso.dossiers.workflow import WORKFLOW_ROLES, inter_agency_agency

# Roles whose work on a dossier needs the applicant's personal data.
PERSONAL_DATA_ROLES = frozenset({Role.RECEIVER, Role.SPECIALIST, Role.LEADER})
# Roles that may apologise and set a later due time (BM.04): those deciding the dossier.
EXTENSION_ROLES = frozenset({Role.SPECIALIST, Role.LEADER})
# Roles that keep and supervise the register of dossiers (BM.06, with applicants' phones
# and addresses): the one-stop counter and the agency's leader.
REGISTER_ROLES = frozenset({Role.RECEIVER, Role.LEADER})
# Statuses in which a dossier may be extended: received or being processed, clock running.
EXTENDABLE_STATUSES = frozenset({DossierStatus.ACCEPTED, DossierStatus.PROCESSING})


def _is_official(user: Any) -> bool:
    return isinstance(user, User) and user.kind == UserKind.OFFICIAL


def workflow_memberships(user: Any) -> list[Membership]:
    """The official's memberships that take part in dossier workflows."""
    if not _is_official(user):
        return []
    return [m for m in memberships_of(user) if m.role in WORKFLOW_ROLES]


def handling_agency_ids(dossier: Dossier) -> list[int]:
    """The agencies that handle the dossier now: the receiving agency and the department
    implementing the procedure; during an inter-agency step, only the other agency."""
    other = inter_agency_agency(dossier)
    if other is not None:
        return [other.pk]
    ids = [dossier.receiving_agency_id, dossier.procedure.implementing_agency_id]
    return [i for i in ids if i is not None]


def dossier_roles(dossier: Dossier, user: Any) -> set[str]:
    """The roles `user` holds in an agency that handles this dossier (that very agency,
    never a parent of it)."""
    if not _is_official(user):
        return set()
    ids = handling_agency_ids(dossier)
    return {m.role for m in memberships_of(user) if m.agency_id in ids}


def is_applicant(dossier: Dossier, user: Any) -> bool:
    return getattr(user, "pk", None) is not None and user.pk == dossier.applicant_id


def may_read_personal_data(dossier: Dossier, user: Any) -> bool:
    """The applicant, and the personal-data roles of a handling agency. Once a dossier has
    left an inter-agency step, its receiving and implementing agencies handle it again."""
    if is_applicant(dossier, user):
        return True
    return bool(dossier_roles(dossier, user) & PERSONAL_DATA_ROLES)


def may_open_document(dossier: Dossier, user: Any, document: DossierDocument) -> bool:
    """Issued forms carry the applicant's data: the readers of personal data open them;
    a clerk of a handling agency opens the result, which they seal and issue."""
    if may_read_personal_data(dossier, user):
        return True
    return document.kind == DocumentKind.RESULT and Role.CLERK in dossier_roles(dossier, user)


def may_extend(dossier: Dossier, user: Any) -> bool:
    """Whether `user` decides on the dossier and so may apologise and extend it (BM.04)."""
    return bool(dossier_roles(dossier, user) & EXTENSION_ROLES)


def extendable(dossier: Dossier) -> bool:
    """Whether the dossier is where an extension applies: received or being processed,
    with its clock running (a paused clock needs no extension). The page offers the form
    and the service accepts it by this one rule."""
    return (
        dossier.due_at is not None
        and dossier.status in EXTENDABLE_STATUSES
        and dossier.paused_at is None
    )


def agencies_with_role(user: Any, roles: Iterable[str]) -> list[Agency]:
    """The agencies in which `user` holds one of `roles` (no agency below them)."""
    wanted = set(roles)
    if not _is_official(user):
        return []
    seen: dict[int, Agency] = {}
    for m in memberships_of(user):
        if m.role in wanted:
            seen.setdefault(m.agency_id, m.agency)
    return list(seen.values())


def register_agencies(user: Any) -> list[Agency]:
    """The agencies whose BM.06 register `user` may download."""
    return agencies_with_role(user, REGISTER_ROLES)


def reading_agency(dossier: Dossier, user: Any) -> Agency | None:
    """The handling agency through which `user` reads the dossier (named in the citizen's
    access log): where they hold a personal-data role, else any role."""
    ids = handling_agency_ids(dossier)
    memberships = [m for m in memberships_of(user) if m.agency_id in ids]
    for m in memberships:
        if m.role in PERSONAL_DATA_ROLES:
            return m.agency
    return memberships[0].agency if memberships else dossier.receiving_agency
