"""The table of the database cache (settings.CACHES without TINHSO_CACHE_URL, ADR 0027),
made by `migrate` so that no installation runs without it. `createcachetable` does
nothing for a table that exists or for a Redis cache."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def cache_table_create(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0011_pending_documents")]

    operations = [migrations.RunPython(cache_table_create, migrations.RunPython.noop)]
