from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpendataConfig(AppConfig):
    name = "tinhso.opendata"
    label = "opendata"
    verbose_name = _("Open data")

    def ready(self) -> None:
        from tinhso.core.roles import role_register
        from tinhso.opendata.roles import ROLES

        role_register(*ROLES)
        from django.db import transaction
        from django.db.models.signals import post_delete

        from tinhso.opendata.models import DatastoreTable

        def drop_table(sender: object, instance: DatastoreTable, **kwargs: object) -> None:
            from tinhso.opendata.datastore import table_drop

            # The rows' table goes with its record, once the deletion is committed.
            transaction.on_commit(lambda: table_drop(instance.table))

        post_delete.connect(drop_table, sender=DatastoreTable, dispatch_uid="opendata-drop")
