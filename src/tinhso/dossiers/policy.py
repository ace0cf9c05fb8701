"""Who may see and do what with a dossier: least privilege (ADR 0015), on the platform's
policies (accounts.policies) and workflow engine (cases).

* Which dossiers an official handles (their inboxes and lists, the actions the workflow
  offers them): those of an agency in which they hold a *workflow role in that very
  agency* (purpose `dossiers.handle`). A role held in a parent agency gives nothing in the
  agencies below it: the province People's Committee's specialist does not handle a
  commune's dossiers.
* Who reads the applicant's personal data (the declaration, ID number, phone, address,
  the attached papers, the issued forms, BM.05): the applicant, and the officials holding
  a personal-data role (receiver, specialist, leader) in a handling agency
  (`dossier.read_personal_data`). A clerk opens only the result they seal; accountants see
  payments, not dossiers; data publishers, catalogue editors and administrators see none
  of it. Each official's read is logged where the citizen can see it
  (dossiers.services.dossier_read_record).
* Who may take an action: the workflow names its roles; they count only in a handling
  agency (cases.transitions.case_roles).

Figures (counts, rates) are not personal data: a supervisor of a parent agency may see
those of the agencies below it, and that is the only downward inheritance there is.
"""

from __future__ import annotations

from tinhso.accounts.models import Membership
from tinhso.accounts.policies import (
    Purpose,
    Viewer,
    agencies_for,
    memberships_for,
    permission_register,
    purpose_register,
)
from tinhso.accounts.roles import CLERK, LEADER, RECEIVER, SPECIALIST
from tinhso.agencies.models import Agency
from tinhso.cases.transitions import case_roles, is_applicant
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, DossierStatus
from tinhso.dossiers.workflow import WORKFLOW_ROLES

# Roles whose work on a dossier needs the applicant's personal data.
PERSONAL_DATA_ROLES = frozenset({RECEIVER, SPECIALIST, LEADER})
# Roles that may apologise and set a later due time (BM.04): those deciding the dossier.
EXTENSION_ROLES = frozenset({SPECIALIST, LEADER})
# Roles that keep and supervise the register of dossiers (BM.06, with applicants' phones
# and addresses): the one-stop counter and the agency's leader.
REGISTER_ROLES = frozenset({RECEIVER, LEADER})
# Statuses in which a dossier may be extended: received or being processed, clock running.
EXTENDABLE_STATUSES = frozenset({DossierStatus.ACCEPTED, DossierStatus.PROCESSING})

PURPOSES = (
    Purpose("dossiers.handle", WORKFLOW_ROLES, "dossiers", label="handle dossiers"),
    Purpose("dossiers.personal_data", PERSONAL_DATA_ROLES, "dossiers",
            label="read applicants' personal data"),
    Purpose("dossiers.extend", EXTENSION_ROLES, "dossiers", label="extend (BM.04)"),
    Purpose("dossiers.register", REGISTER_ROLES, "dossiers", label="keep the register (BM.06)"),
    Purpose("dossiers.counter", frozenset({RECEIVER}), "dossiers",
            label="register dossiers at the counter"),
)  # fmt: skip


def workflow_memberships(user: Viewer) -> list[Membership]:
    """The official's memberships that take part in dossier workflows."""
    return memberships_for(user, "dossiers.handle")


def may_read_personal_data(dossier: Dossier, user: Viewer) -> bool:
    """The applicant, and the personal-data roles of a handling agency. Once a dossier has
    left an inter-agency step, its receiving and implementing agencies handle it again."""
    if is_applicant(dossier, user):
        return True
    return bool(case_roles(dossier, user) & PERSONAL_DATA_ROLES)


def may_open_document(dossier: Dossier, user: Viewer, document: DossierDocument) -> bool:
    """Issued forms carry the applicant's data: the readers of personal data open them;
    a clerk of a handling agency opens the result, which they seal and issue."""
    if may_read_personal_data(dossier, user):
        return True
    return document.kind == DocumentKind.RESULT and CLERK in case_roles(dossier, user)


def may_extend(dossier: Dossier, user: Viewer) -> bool:
    """Whether `user` decides on the dossier and so may apologise and extend it (BM.04)."""
    return bool(case_roles(dossier, user) & EXTENSION_ROLES)


def extendable(dossier: Dossier) -> bool:
    """Whether the dossier is where an extension applies: received or being processed,
    with its clock running (a paused clock needs no extension). The page offers the form
    and the service accepts it by this one rule."""
    return (
        dossier.due_at is not None
        and dossier.status in EXTENDABLE_STATUSES
        and dossier.paused_at is None
    )


def agencies_with_role(user: Viewer, roles: set[str]) -> list[Agency]:
    """The agencies in which `user` holds one of `roles` (no agency below them)."""
    seen: dict[int, Agency] = {}
    for m in memberships_for(user, "dossiers.handle"):
        if m.role in roles:
            seen.setdefault(m.agency_id, m.agency)
    return list(seen.values())


def register_agencies(user: Viewer) -> list[Agency]:
    """The agencies whose BM.06 register `user` may download."""
    return agencies_for(user, "dossiers.register")


def reading_agency(dossier: Dossier, user: Viewer) -> Agency | None:
    """The handling agency through which `user` reads the dossier (named in the citizen's
    access log): where they hold a personal-data role, else any role."""
    from tinhso.dossiers.subject import handling_agency_ids

    ids = handling_agency_ids(dossier)
    held = [m for m in memberships_for(user, "dossiers.handle") if m.agency_id in ids]
    for m in held:
        if m.role in PERSONAL_DATA_ROLES:
            return m.agency
    return held[0].agency if held else dossier.receiving_agency


def dossier_policies_register() -> None:
    """The dossiers' purposes and permissions (DossiersConfig.ready)."""
    purpose_register(*PURPOSES)
    permission_register(
        "dossier.handle", lambda user, d: bool(case_roles(d, user) & WORKFLOW_ROLES),
        module="dossiers", record=Dossier,
    )  # fmt: skip
    permission_register(
        "dossier.read_personal_data", lambda user, d: may_read_personal_data(d, user),
        module="dossiers", record=Dossier,
    )  # fmt: skip
    permission_register(
        "dossier.open_document",
        lambda user, doc: may_open_document(doc.dossier, user, doc),
        module="dossiers", record=DossierDocument,
    )  # fmt: skip
    permission_register(
        "dossier.extend", lambda user, d: may_extend(d, user) and extendable(d),
        module="dossiers", record=Dossier,
    )  # fmt: skip
