from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    name = "tinhso.signing"
    label = "signing"
    verbose_name = _("Digital signatures")

    def ready(self) -> None:
        from tinhso.core.files import file_field_register

        # Issued forms and results, receipts: the signed file.
        file_field_register("signing.SignedDocument", "storage_name", ("signed",))
