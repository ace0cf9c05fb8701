from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tinhso.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from tinhso.accounts.policies import purpose_register
        from tinhso.accounts.roles import ROLES
        from tinhso.accounts.selectors import CITIZEN_LOOKUP
        from tinhso.core.roles import role_register

        role_register(*ROLES)
        purpose_register(CITIZEN_LOOKUP)
