"""The open-data module's role: the data publisher, who creates, uploads and publishes the
agency's datasets."""

from django.utils.translation import gettext_lazy as _

from tinhso.core.roles import RoleDef

PUBLISHER = "publisher"

ROLES = (RoleDef(PUBLISHER, _("Data publisher"), "opendata"),)
