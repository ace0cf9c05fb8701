from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tinhso.cases"
    label = "cases"
    verbose_name = _("Cases and workflows")

    def ready(self) -> None:
        from tinhso.cases.transitions import CaseTransitioned, case_record
        from tinhso.core.events import event_consume

        # Every move: the subject's history row first, then the people it tells.
        event_consume(CaseTransitioned, case_record, module="cases", order=10)
