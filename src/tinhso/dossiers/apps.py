from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "tinhso.dossiers"
    label = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self) -> None:
        from tinhso.core.files import file_field_register

        # An uploaded attachment, or a citizen's stored paper attached again (same file);
        # an issued form or result mirrors its signed file (signing.SignedDocument).
        file_field_register("dossiers.DossierFile", "storage_name", ("dossiers", "papers"))
        file_field_register("dossiers.StoredPaper", "storage_name", ("papers",))
        file_field_register("dossiers.DossierDocument", "storage_name", ("signed",))
