from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "tinhso.payments"
    label = "payments"
    verbose_name = _("Fees and payments")

    def ready(self) -> None:
        from tinhso.core.indicators import figure_set_register
        from tinhso.payments.figures import FIGURES

        figure_set_register(FIGURES)
