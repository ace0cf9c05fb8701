"""The payments module's role: the accountant of an agency (payments, bank notifications,
refunds, reconciliation of that agency's collection account)."""

from django.utils.translation import gettext_lazy as _

from tinhso.core.roles import RoleDef

ACCOUNTANT = "accountant"

ROLES = (RoleDef(ACCOUNTANT, _("Accountant"), "payments"),)
