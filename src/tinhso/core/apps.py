from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tinhso.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django_tasks.signals import task_finished

        # Imported for its outbox handler ("notification.send"): every process that
        # delivers the outbox has it, without the outbox importing its senders.
        import tinhso.core.notifications  # noqa: F401
        from tinhso.core.files import settle_after

        # The end of a request or of a task: the transactions it ran are over, so the files
        # they stored and did not commit can go (core.files, ADR 0016).
        request_finished.connect(settle_after, dispatch_uid="tinhso.files.settle.request")
        task_finished.connect(settle_after, dispatch_uid="tinhso.files.settle.task")
