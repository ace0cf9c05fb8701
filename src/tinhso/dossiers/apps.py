from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "tinhso.dossiers"
    label = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self) -> None:
        from tinhso.core.demo import demo_step_register
        from tinhso.core.indicators import figure_set_register
        from tinhso.dossiers import demo
        from tinhso.dossiers.figures import FIGURES
        from tinhso.dossiers.transitions import workflow_standard_ensure

        figure_set_register(FIGURES)
        demo_step_register(
            order=40, name="dossiers.workflow", seed=lambda run: workflow_standard_ensure()
        )
        demo_step_register(
            order=60, name="dossiers.stored_papers", seed=lambda run: demo.demo_stored_papers_seed()
        )
        demo_step_register(order=90, name="dossiers.dossiers", seed=demo.demo_dossiers_step)
