from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "tinhso.dossiers"
    label = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self) -> None:
        from tinhso.core.indicators import figure_set_register
        from tinhso.dossiers.figures import FIGURES

        figure_set_register(FIGURES)
