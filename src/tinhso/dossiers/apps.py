from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "tinhso.dossiers"
    label = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self) -> None:
        from tinhso.cases.transitions import CaseTransitioned
        from tinhso.core.demo import demo_step_register
        from tinhso.core.documents import document_handler
        from tinhso.core.events import event_consume
        from tinhso.core.files import file_field_register
        from tinhso.core.indicators import figure_set_register
        from tinhso.core.locks import lock_rank_register
        from tinhso.dossiers import demo, legal_forms
        from tinhso.dossiers.figures import FIGURES
        from tinhso.dossiers.models import Dossier
        from tinhso.dossiers.policy import dossier_policies_register
        from tinhso.dossiers.rollups import rollups_on_extension, rollups_on_transition
        from tinhso.dossiers.subject import dossier_subject_register
        from tinhso.dossiers.transitions import (
            DossierExtended,
            extension_record,
            workflow_standard_ensure,
        )

        dossier_subject_register()
        dossier_policies_register()
        # Forms and results rendered and signed after the action's commit (ADR 0023).
        document_handler(legal_forms.FORM)(legal_forms.form_issue)
        document_handler(legal_forms.SEAL)(legal_forms.seal_issue)
        event_consume(DossierExtended, extension_record, module="dossiers", order=10)
        # The figures' rollups change in the transaction of the move (ADR 0026), after the
        # history row (cases: order 10).
        event_consume(CaseTransitioned, rollups_on_transition, module="dossiers", order=20)
        event_consume(DossierExtended, rollups_on_extension, module="dossiers", order=20)
        # A dossier's row is locked before the rows hanging from it (payments: 20).
        lock_rank_register(Dossier, 10)
        # An uploaded attachment, or a citizen's stored paper attached again (same file);
        # an issued form or result mirrors its signed file (signing.SignedDocument).
        file_field_register("dossiers.DossierFile", "storage_name", ("dossiers", "papers"))
        file_field_register("dossiers.StoredPaper", "storage_name", ("papers",))
        file_field_register("dossiers.DossierDocument", "storage_name", ("signed",))

        figure_set_register(FIGURES)
        demo_step_register(
            order=40, name="dossiers.workflow", seed=lambda run: workflow_standard_ensure()
        )
        demo_step_register(
            order=60, name="dossiers.stored_papers", seed=lambda run: demo.demo_stored_papers_seed()
        )
        demo_step_register(order=90, name="dossiers.dossiers", seed=demo.demo_dossiers_step)
