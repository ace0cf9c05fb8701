"""Who keeps the procedure catalogue (ADR 0015): the catalogue editors of the province
People's Committee, whose catalogue it is, in the admin; they see no dossier and no
person's data. A catalogue editor's role held in an agency below the province counts for
nothing here (roles count in their own agency)."""

from __future__ import annotations

from tinhso.accounts.policies import (
    Purpose,
    Viewer,
    memberships_for,
    permission_register,
    purpose_register,
)
from tinhso.catalog.roles import CATALOG_EDITOR

EDIT = Purpose(
    "catalog.edit", frozenset({CATALOG_EDITOR}), "catalog", label="keep the procedure catalogue"
)


def may_edit_catalogue(user: Viewer, record: object = None) -> bool:
    """Whether `user` edits the province's procedures: a catalogue editor of the province
    People's Committee (the root of the agency tree)."""
    return any(m.agency.parent_id is None for m in memberships_for(user, EDIT.code))


def catalog_policies_register() -> None:
    """The catalogue's purpose and permission (CatalogConfig.ready)."""
    purpose_register(EDIT)
    permission_register("catalog.edit", may_edit_catalogue, module="catalog")
