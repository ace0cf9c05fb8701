from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tinhso.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from tinhso.accounts import demo
        from tinhso.accounts.policies import purpose_register
        from tinhso.accounts.roles import ROLES
        from tinhso.accounts.selectors import CITIZEN_LOOKUP
        from tinhso.core.demo import demo_step_register
        from tinhso.core.roles import role_register

        role_register(*ROLES)
        purpose_register(CITIZEN_LOOKUP)

        demo_step_register(
            order=20, name="accounts.registry", seed=lambda run: demo.demo_registry_seed()
        )
        demo_step_register(order=30, name="accounts.accounts", seed=demo.demo_accounts_step)
