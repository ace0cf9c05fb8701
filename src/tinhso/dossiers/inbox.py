"""The officials' dossier inboxes: the platform's inboxes (cases.inbox, derived from the
workflows: a dossier waiting in a state shows in that state's box for the roles that can
act there) for the dossier subject."""

from __future__ import annotations

from tinhso.accounts.policies import Viewer
from tinhso.cases import inbox as cases_inbox
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.subject import BOXES, DOSSIER

__all__ = ["BOXES", "inbox", "inbox_counts", "inbox_look"]


def inbox(user: Viewer, slug: str) -> list[Dossier]:
    """The dossiers of one box for `user`, most urgent first (at most 200)."""
    return cases_inbox.inbox(user, DOSSIER, slug)


def inbox_counts(user: Viewer) -> dict[str, cases_inbox.BoxCount]:
    """How many dossiers each box holds (exact up to cases.inbox.COUNT_LIMIT)."""
    return cases_inbox.inbox_counts(user, DOSSIER)


def inbox_look(user: Viewer) -> cases_inbox.InboxLook:
    """The counts and a box's rows for one page, the official's roles and agencies read
    once (cases.inbox.inbox_look)."""
    return cases_inbox.inbox_look(user, DOSSIER)
