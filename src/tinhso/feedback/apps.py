from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "tinhso.feedback"
    label = "feedback"
    verbose_name = _("Citizens' reports")

    def ready(self) -> None:
        from tinhso.cases.transitions import CaseTransitioned
        from tinhso.core.demo import demo_step_register
        from tinhso.core.events import event_consume
        from tinhso.core.files import file_field_register
        from tinhso.core.indicators import figure_set_register
        from tinhso.feedback import demo, figures
        from tinhso.feedback.services import ReportRated, ReportSubmitted
        from tinhso.feedback.subject import feedback_register, workflow_ensure

        feedback_register()
        # The figures' rollups change in the transaction of each event (cases: order 10).
        event_consume(CaseTransitioned, figures.rollups_on_transition, module="feedback", order=20)
        event_consume(ReportSubmitted, figures.rollups_on_submitted, module="feedback", order=20)
        event_consume(ReportRated, figures.rollups_on_rating, module="feedback", order=20)
        figure_set_register(figures.FIGURES)
        # Photos of reports and of their fixes, cleaned before they are stored.
        file_field_register("feedback.ReportPhoto", "storage_name", ("feedback",))
        file_field_register("feedback.ReportPhoto", "raw_name", ("feedback-raw",))
        demo_step_register(order=45, name="feedback.workflow", seed=lambda run: workflow_ensure())
        demo_step_register(order=46, name="feedback.categories", seed=demo.demo_categories_step)
        demo_step_register(order=95, name="feedback.reports", seed=demo.demo_reports_step)
