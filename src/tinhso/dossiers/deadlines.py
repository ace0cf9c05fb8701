"""Warnings as due times near: the responsible officials are told (inbox notification,
SMS, e-mail) once per due time, so that BM.04 can be issued before a dossier is late."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tinhso.accounts.models import Membership, User
from tinhso.accounts.roles import RECEIVER
from tinhso.cases.inbox import due_soon_q
from tinhso.core.notifications import notify
from tinhso.core.schedule import chain_next
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.subject import DOSSIER


def responsible_officials(dossier: Dossier) -> list[User]:
    if dossier.assignee_id:
        return [dossier.assignee]  # type: ignore[list-item]
    return [
        m.user for m in Membership.objects.filter(
            agency=dossier.receiving_agency, role=RECEIVER, is_active=True
        ).select_related("user")
    ]  # fmt: skip


def deadline_warnings_send() -> int:
    """Warn about every open, running dossier with at most one working day left."""
    now = timezone.now()
    # At most one working day left (per calendar, in the query: cases.inbox.due_soon_q),
    # not warned about this due time yet.
    candidates = (
        Dossier.objects.filter(due_soon_q(DOSSIER, now), paused_at__isnull=True,
                               due_at__gte=now, due_at__lte=now + timedelta(days=5))
        .exclude(status__in=DOSSIER.closed_statuses)
        .exclude(warned_for_due=F("due_at"))
        .select_related("receiving_agency", "procedure", "assignee")
    )  # fmt: skip
    sent = 0
    for dossier in candidates:
        with transaction.atomic():
            claimed = (
                Dossier.objects.filter(pk=dossier.pk, due_at=dossier.due_at)
                .exclude(warned_for_due=dossier.due_at)
                .update(warned_for_due=dossier.due_at)
            )
            if not claimed:
                continue
            due = timezone.localtime(dossier.due_at).strftime("%d/%m/%Y %H:%M")
            for official in responsible_officials(dossier):
                notify(
                    user=official,
                    subject=_("Dossier %(code)s is due %(due)s")
                    % {"code": dossier.code, "due": due},
                    body=_(
                        "Finish it in time, or issue BM.04 (apology and extension) before %(due)s."
                    )
                    % {"due": due},
                    link=f"/can-bo/ho-so/{dossier.code}/",
                )
        sent += 1
    return sent


@task()
def deadline_warnings() -> int:
    """Run the warnings, then come back in an hour (the worker keeps it going)."""
    sent = deadline_warnings_send()
    chain_next(deadline_warnings)
    return sent
