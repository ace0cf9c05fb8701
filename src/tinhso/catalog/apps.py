from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from tinhso.catalog.editors import ensure_catalog_editors


class CatalogConfig(AppConfig):
    name = "tinhso.catalog"
    label = "catalog"
    verbose_name = _("Procedure catalogue")

    def ready(self) -> None:
        from tinhso.catalog.demo import demo_catalog_step
        from tinhso.catalog.policy import catalog_policies_register
        from tinhso.catalog.roles import ROLES
        from tinhso.core.demo import demo_step_register
        from tinhso.core.roles import role_register

        role_register(*ROLES)
        catalog_policies_register()
        post_migrate.connect(ensure_catalog_editors, sender=self)
        demo_step_register(order=50, name="catalog.procedures", seed=demo_catalog_step)
