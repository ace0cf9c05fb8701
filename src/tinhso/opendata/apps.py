from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpendataConfig(AppConfig):
    name = "tinhso.opendata"
    label = "opendata"
    verbose_name = _("Open data")

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete

        from tinhso.accounts.policies import purpose_register
        from tinhso.core.demo import demo_step_register
        from tinhso.core.files import file_field_register
        from tinhso.core.input import refusal_shape_register
        from tinhso.core.roles import role_register
        from tinhso.opendata.ckan import bad_request
        from tinhso.opendata.demo import demo_opendata_seed
        from tinhso.opendata.models import DatastoreTable
        from tinhso.opendata.roles import ROLES
        from tinhso.opendata.services import PUBLISH

        role_register(*ROLES)
        purpose_register(PUBLISH)

        file_field_register("opendata.Resource", "stored_file", ("opendata",))

        def drop_table(sender: object, instance: DatastoreTable, **kwargs: object) -> None:
            from tinhso.opendata.datastore import table_drop

            # The rows' table goes with its record, once the deletion is committed.
            transaction.on_commit(lambda: table_drop(instance.table))

        post_delete.connect(drop_table, sender=DatastoreTable, dispatch_uid="opendata-drop")
        refusal_shape_register(
            ["opendata:ckan_action", "opendata:ckan_action_unversioned"], bad_request
        )
        demo_step_register(order=120, name="opendata.portal", seed=lambda run: demo_opendata_seed())
