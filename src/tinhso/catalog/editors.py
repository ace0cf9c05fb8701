"""The catalogue editors' group: staff in it edit procedures in the admin, nothing else."""

from typing import Any

CATALOG_EDITORS = "Biên tập danh mục thủ tục"


def ensure_catalog_editors(**_kwargs: Any) -> None:
    """The group of catalogue editors: staff in it may edit procedures in the admin and
    nothing else. Made after every migrate, once the permissions exist."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=CATALOG_EDITORS)
    group.permissions.set(Permission.objects.filter(content_type__app_label="catalog"))
