from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    name = "tinhso.signing"
    label = "signing"
    verbose_name = _("Digital signatures")

    def ready(self) -> None:
        from tinhso.core.demo import demo_step_register
        from tinhso.core.files import file_field_register
        from tinhso.signing import demo

        # Issued forms and results, receipts: the signed file.
        file_field_register("signing.SignedDocument", "storage_name", ("signed",))

        demo_step_register(order=70, name="signing.pki", seed=lambda run: demo.demo_pki_seed())
        demo_step_register(order=100, name="signing.revocation", seed=demo.demo_revocation_step)
