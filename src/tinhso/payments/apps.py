from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "tinhso.payments"
    label = "payments"
    verbose_name = _("Fees and payments")

    def ready(self) -> None:
        from tinhso.accounts.policies import Purpose, permission_register, purpose_register
        from tinhso.cases.effects import effect_register
        from tinhso.core.demo import demo_step_register
        from tinhso.core.documents import document_handler
        from tinhso.core.indicators import figure_set_register
        from tinhso.core.locks import lock_rank_register
        from tinhso.core.roles import role_register
        from tinhso.dossiers.rollups import rollups_contributor_register
        from tinhso.payments import demo
        from tinhso.payments.effects import payment_request_effect, payments_cancel_effect
        from tinhso.payments.figures import FIGURES, payments_rebuild
        from tinhso.payments.models import Payment
        from tinhso.payments.receipts import RECEIPT, receipt_issue
        from tinhso.payments.roles import ACCOUNTANT, ROLES
        from tinhso.payments.selectors import payment_visible

        role_register(*ROLES)
        purpose_register(
            Purpose("payments.keep", frozenset({ACCOUNTANT}), "payments",
                    label="keep the agency's payments")
        )  # fmt: skip
        effect_register("payment.request", payment_request_effect, module="payments")
        effect_register("payments.cancel", payments_cancel_effect, module="payments")
        # Locked after the case it belongs to (dossiers rank 10).
        lock_rank_register(Payment, 20)
        # The receipt, rendered and sealed after the crediting commit (ADR 0023).
        document_handler(RECEIPT)(receipt_issue)
        permission_register("payment.read", payment_visible, module="payments", record=Payment)

        figure_set_register(FIGURES)
        rollups_contributor_register(payments_rebuild)
        demo_step_register(
            order=80, name="payments.accounts", seed=lambda run: demo.demo_accounts_seed()
        )
        demo_step_register(order=110, name="payments.payments", seed=demo.demo_payments_step)
