from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

CATALOG_EDITORS = "Biên tập danh mục thủ tục"


def ensure_catalog_editors(**_kwargs: Any) -> None:
    """The group of catalogue editors: staff in it may edit procedures in the admin and
    nothing else. Made after every migrate, once the permissions exist."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=CATALOG_EDITORS)
    group.permissions.set(Permission.objects.filter(content_type__app_label="catalog"))


class CatalogConfig(AppConfig):
    name = "tinhso.catalog"
    label = "catalog"
    verbose_name = _("Procedure catalogue")

    def ready(self) -> None:
        from tinhso.catalog.policy import catalog_policies_register
        from tinhso.catalog.roles import ROLES
        from tinhso.core.roles import role_register

        role_register(*ROLES)
        catalog_policies_register()
        post_migrate.connect(ensure_catalog_editors, sender=self)
