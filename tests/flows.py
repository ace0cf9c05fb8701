"""Helpers the back-office tests share: officials by user name, and taking a workflow
action the way an official does (on the dossier as it stands now)."""

from __future__ import annotations

from typing import Any

from tinhso.accounts.models import User
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.transitions import dossier_act


def user(name: str) -> User:
    return User.objects.get(username=name)


def act(dossier: Dossier, who: str | User, action: str, **kw: Any) -> Dossier:
    dossier.refresh_from_db()
    actor = user(who) if isinstance(who, str) else who
    return dossier_act(dossier=dossier, actor=actor, action=action, version=dossier.version, **kw)
