from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tinhso.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from tinhso.accounts import demo
        from tinhso.core.demo import demo_step_register

        demo_step_register(
            order=20, name="accounts.registry", seed=lambda run: demo.demo_registry_seed()
        )
        demo_step_register(order=30, name="accounts.accounts", seed=demo.demo_accounts_step)
