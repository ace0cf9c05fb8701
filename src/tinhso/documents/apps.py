from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "tinhso.documents"
    label = "documents"
    verbose_name = _("Official documents")

    def ready(self) -> None:
        from tinhso.cases.effects import effect_register
        from tinhso.core.demo import demo_step_register
        from tinhso.core.documents import document_handler
        from tinhso.core.files import file_field_register
        from tinhso.core.indicators import figure_set_register
        from tinhso.core.outbox import outbox_handler
        from tinhso.documents import demo, figures
        from tinhso.documents.exchange import DELIVER, deliver
        from tinhso.documents.paper import outgoing_issue
        from tinhso.documents.services import OUTGOING_PDF, issue_effect
        from tinhso.documents.subject import documents_register, workflows_ensure

        documents_register()
        effect_register("documents.issue", issue_effect, module="documents")
        document_handler(OUTGOING_PDF)(outgoing_issue)
        outbox_handler(DELIVER)(deliver)
        figure_set_register(figures.FIGURES)
        file_field_register("documents.Attachment", "storage_name", ("documents",))
        file_field_register("documents.Message", "storage_name", ("edxml",))
        demo_step_register(
            order=44, name="documents.workflows", seed=lambda run: workflows_ensure()
        )
        demo_step_register(order=49, name="documents.officials", seed=demo.demo_officials_step)
        demo_step_register(order=97, name="documents.records", seed=demo.demo_documents_step)
