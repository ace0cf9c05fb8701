"""The roles of an agency's staff that every module's work builds on: the one-stop
counter's receiver, the specialist who examines a case, the leader who decides and signs,
the clerk (văn thư) who seals and issues, and the administrators of accounts. Modules add
their own (payments: accountant; opendata: data publisher; catalog: catalogue editor)."""

from django.utils.translation import gettext_lazy as _

from tinhso.core.roles import RoleDef

RECEIVER = "receiver"
SPECIALIST = "specialist"
LEADER = "leader"
CLERK = "clerk"
AGENCY_ADMIN = "agency_admin"
PROVINCE_ADMIN = "province_admin"

ROLES = (
    RoleDef(RECEIVER, _("Receiver"), "accounts"),
    RoleDef(SPECIALIST, _("Specialist"), "accounts"),
    RoleDef(LEADER, _("Leader"), "accounts"),
    RoleDef(CLERK, _("Clerk"), "accounts"),
    RoleDef(AGENCY_ADMIN, _("Agency administrator"), "accounts"),
    RoleDef(PROVINCE_ADMIN, _("Province administrator"), "accounts"),
)
