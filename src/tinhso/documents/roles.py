"""The roles the documents module registers (core.roles), and the platform's leader."""

from __future__ import annotations

from tinhso.accounts.roles import LEADER

CLERK = "doc_clerk"
SPECIALIST = "doc_specialist"
UNIT_HEAD = "doc_unit_head"
DOCUMENT_ROLES = frozenset({CLERK, SPECIALIST, UNIT_HEAD, LEADER})

__all__ = ["CLERK", "DOCUMENT_ROLES", "LEADER", "SPECIALIST", "UNIT_HEAD"]
