from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "tinhso.payments"
    label = "payments"
    verbose_name = _("Fees and payments")

    def ready(self) -> None:
        from tinhso.core.demo import demo_step_register
        from tinhso.core.indicators import figure_set_register
        from tinhso.payments import demo
        from tinhso.payments.figures import FIGURES

        figure_set_register(FIGURES)
        demo_step_register(
            order=80, name="payments.accounts", seed=lambda run: demo.demo_accounts_seed()
        )
        demo_step_register(order=110, name="payments.payments", seed=demo.demo_payments_step)
