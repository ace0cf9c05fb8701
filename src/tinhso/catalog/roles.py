"""The catalogue's role: the editor who keeps the province's procedures (in the admin),
with no access to dossiers or to people's data."""

from django.utils.translation import gettext_lazy as _

from tinhso.core.roles import RoleDef

CATALOG_EDITOR = "catalog_editor"

ROLES = (RoleDef(CATALOG_EDITOR, _("Catalogue editor"), "catalog"),)
