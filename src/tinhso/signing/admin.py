from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tinhso.accounts.policies import signed_in
from tinhso.core.admin import ReadOnlyAdmin
from tinhso.signing.models import Certificate, RevocationReason, SignedDocument
from tinhso.signing.pki import PkiError, certificate_revoke


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    """Certificates come from `tinhso pki_init` / `pki_import`; here they are read, and
    revoked (which publishes a new CRL)."""

    list_display = ["common_name", "kind", "agency", "user", "serial", "not_after", "revoked_at"]
    list_filter = ["kind", "revocation_reason"]
    search_fields = ["common_name", "serial", "organisation"]
    exclude = ["pem"]
    actions = ["revoke_key_compromise", "revoke_affiliation_changed"]

    def _revoke(self, request: HttpRequest, rows: QuerySet[Certificate], reason: str) -> None:
        for row in rows:
            try:
                certificate_revoke(certificate=row, reason=reason, actor=signed_in(request.user))
            except PkiError as exc:
                self.message_user(request, f"{row}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("Revoked: %(c)s") % {"c": row}, messages.SUCCESS)

    @admin.action(description=_("Revoke: key compromised"))
    def revoke_key_compromise(self, request: HttpRequest, rows: QuerySet[Certificate]) -> None:
        self._revoke(request, rows, RevocationReason.KEY_COMPROMISE)

    @admin.action(description=_("Revoke: affiliation changed"))
    def revoke_affiliation_changed(self, request: HttpRequest, rows: QuerySet[Certificate]) -> None:
        self._revoke(request, rows, RevocationReason.AFFILIATION_CHANGED)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Actions need the change permission; the form itself stays read-only (no fields
        # are editable: every field is listed in readonly_fields).
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Certificate._meta.fields if f.name != "pem"]


@admin.register(SignedDocument)
class SignedDocumentAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "title", "reference", "agency", "created_at"]
    search_fields = ["public_id", "reference"]
