"""The catalogue's part of the demo province (core.demo): the 44 procedures, and the
catalogue editors (the demo's `bientap`) made staff in the editors' group."""

from __future__ import annotations

from django.contrib.auth.models import Group

from tinhso.accounts.models import User
from tinhso.catalog.editors import CATALOG_EDITORS, ensure_catalog_editors
from tinhso.catalog.models import Procedure
from tinhso.catalog.roles import CATALOG_EDITOR
from tinhso.catalog.services import catalog_demo_seed
from tinhso.core.demo import DemoRun


def demo_catalog_editors_seed() -> int:
    """Officials holding the catalogue editor role and not yet in the editors' group become
    staff in it (they edit procedures in the admin, nothing else); returns how many."""
    ensure_catalog_editors()
    group = Group.objects.get(name=CATALOG_EDITORS)
    editors = list(
        User.objects.filter(memberships__role=CATALOG_EDITOR).exclude(groups=group).distinct()
    )
    for user in editors:
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.groups.add(group)
    return len(editors)


def demo_catalog_step(run: DemoRun) -> None:
    if not Procedure.objects.exists():
        catalog_demo_seed()
    demo_catalog_editors_seed()
