from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "tinhso.feedback"
    label = "feedback"
    verbose_name = _("Citizens' reports")

    def ready(self) -> None:
        from tinhso.core.demo import demo_step_register
        from tinhso.core.files import file_field_register
        from tinhso.feedback import demo
        from tinhso.feedback.subject import feedback_register, workflow_ensure

        feedback_register()
        # Photos of reports and of their fixes, cleaned before they are stored.
        file_field_register("feedback.ReportPhoto", "storage_name", ("feedback",))
        demo_step_register(order=45, name="feedback.workflow", seed=lambda run: workflow_ensure())
        demo_step_register(order=46, name="feedback.categories", seed=demo.demo_categories_step)
        demo_step_register(order=95, name="feedback.reports", seed=demo.demo_reports_step)
