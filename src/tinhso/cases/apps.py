from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tinhso.cases"
    label = "cases"
    verbose_name = _("Cases and workflows")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from tinhso.cases.memo import workflow_memo_end, workflow_memo_start
        from tinhso.cases.transitions import CaseTransitioned, case_record
        from tinhso.core.events import event_consume

        # A request reads each workflow row once (cases.selectors).
        request_started.connect(workflow_memo_start, dispatch_uid="tinhso.cases.memo.start")
        request_finished.connect(workflow_memo_end, dispatch_uid="tinhso.cases.memo.end")

        # Every move: the subject's history row first, then the people it tells.
        event_consume(CaseTransitioned, case_record, module="cases", order=10)
