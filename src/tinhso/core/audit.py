"""The tamper-evident audit log: append (`audit_record`) and check (`audit_verify`).

Each entry's hash covers its own fields, the digest of its change data and the previous
entry's hash. Changing, inserting or removing any entry breaks the chain from that point,
and `tinhso verify_audit` names the first entry that no longer fits. Signed checkpoints of
the head (signing.checkpoints, ADR 0017) anchor the chain: `audit_verify(anchors=…)` also
checks it against them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from tinhso.core.models import GENESIS_HASH, AuditEntry, AuditHead
from tinhso.core.privacy import mask_text


def _canonical(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


def change_digest(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(data)).hexdigest()


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    digest: str,
    prev_hash: str,
) -> str:
    fields = [
        seq,
        at.astimezone(UTC).isoformat(timespec="milliseconds"),
        actor_id,
        actor_label,
        action,
        object_type,
        object_id,
        digest,
        prev_hash,
    ]
    return hashlib.sha256(_canonical(fields)).hexdigest()


def _stored_entry_hash(entry: AuditEntry) -> str:
    """The hash an entry should carry, from its stored fields."""
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        digest=entry.digest,
        prev_hash=entry.prev_hash,
    )


def _locked_head() -> AuditHead:
    """The chain head, row-locked until the transaction ends. Its row is made by a migration;
    if a `flush` removed it, it is made again (get_or_create copes with a racing writer)."""
    try:
        return AuditHead.objects.select_for_update().get(pk=1)
    except AuditHead.DoesNotExist:
        AuditHead.objects.get_or_create(pk=1)
        return AuditHead.objects.select_for_update().get(pk=1)


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the transaction that makes the change, so the change
    and its audit row commit together or not at all. Personal data in `data` must already be
    masked (core.privacy)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    payload = dict(data or {})
    with transaction.atomic():
        head = _locked_head()
        seq = head.seq + 1
        # Milliseconds: what Django's serializers keep, so a dumpdata/loaddata backup of the
        # chain still verifies.
        now = timezone.now()
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        actor_id: int | None = None
        actor_label = "system"
        if actor is not None and actor.pk:
            # A citizen's account name is their personal ID: masked, as all personal data
            # in the chain is (the actor's id still names the account).
            actor_id, actor_label = actor.pk, mask_text(actor.get_username())
        entry = AuditEntry(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=payload,
            digest=change_digest(payload),
            prev_hash=head.hash,
        )
        entry.hash = hash_ = _stored_entry_hash(entry)
        entry.save(force_insert=True)
        head.seq, head.hash = seq, hash_
        head.save(update_fields=["seq", "hash"])
    return entry


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    entry_id: int | None
    reason: str
    checkpoint: int | None = None  # the checkpoint that is itself wrong (ADR 0017)


@dataclass(frozen=True)
class AuditReport:
    checked: int
    head_seq: int
    head_hash: str
    problem: AuditProblem | None
    checkpoints: int = 0
    anchored_seq: int | None = None  # the furthest entry a signed checkpoint attests

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Anchor:
    """What a verified checkpoint attests: the chain's entry `seq` has hash `hash`."""

    seq: int
    hash: str
    label: str  # names the checkpoint in messages ("checkpoint 12 of 2026-11-30 08:00 UTC")


def _entry_problem(
    entry: AuditEntry, expected_seq: int, expected_prev: str, anchors: Mapping[int, Anchor]
) -> AuditProblem | None:
    """Whether `entry` fits where the chain expects entry `expected_seq` after a hash of
    `expected_prev`, and matches what any checkpoint attests of it."""
    if entry.seq != expected_seq:
        return AuditProblem(
            expected_seq,
            None,
            f"entry #{expected_seq} is missing (next stored entry is #{entry.seq}, id {entry.pk})",
        )
    if entry.prev_hash != expected_prev:
        return AuditProblem(
            entry.seq, entry.pk, f"previous-hash link does not match entry #{entry.seq - 1}"
        )
    if change_digest(entry.data) != entry.digest:
        return AuditProblem(entry.seq, entry.pk, "change data does not match its digest")
    if _stored_entry_hash(entry) != entry.hash:
        return AuditProblem(entry.seq, entry.pk, "entry fields do not match its hash")
    anchor = anchors.get(entry.seq)
    if anchor is not None and anchor.hash != entry.hash:
        return AuditProblem(
            entry.seq,
            entry.pk,
            f"entry #{entry.seq} is not the one {anchor.label} attests: the chain was "
            f"rewritten at or before #{entry.seq}",
        )
    return None


def audit_verify(*, anchors: Sequence[Anchor] = (), checkpoints: int = 0) -> AuditReport:
    """Walk the whole chain in order and report the first entry that does not fit. With
    `anchors` (the verified checkpoints, signing.checkpoints), every attested entry must carry
    the attested hash and the chain must reach the furthest one: a rewritten chain, or a
    tail cut off together with a rewritten head, no longer passes."""
    expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
    head = AuditHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS_HASH
    by_seq = {anchor.seq: anchor for anchor in anchors}
    furthest = max(anchors, key=lambda anchor: anchor.seq, default=None)

    def report(problem: AuditProblem | None) -> AuditReport:
        return AuditReport(
            checked,
            head_seq,
            head_hash,
            problem,
            checkpoints=checkpoints,
            anchored_seq=furthest.seq if furthest else None,
        )

    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        problem = _entry_problem(entry, expected_seq, expected_prev, by_seq)
        if problem is not None:
            return report(problem)
        expected_prev, expected_seq = entry.hash, entry.seq + 1
        checked += 1

    if furthest is not None and furthest.seq > expected_seq - 1:
        return report(
            AuditProblem(
                expected_seq,
                None,
                f"chain ends at #{expected_seq - 1} but {furthest.label} attests "
                f"#{furthest.seq}: entries were removed from the end",
            )
        )
    if head_seq != expected_seq - 1 or head_hash != expected_prev:
        return report(
            AuditProblem(
                expected_seq,
                None,
                f"chain ends at #{expected_seq - 1} but its head records #{head_seq}: "
                "entries were removed from the end",
            )
        )
    return report(None)


def audit_extends(*, seq: int, hash_: str, upto: int) -> AuditProblem | None:
    """Whether the entries after #`seq` (whose hash must be `hash_`) up to #`upto` extend it
    intact: what a new checkpoint checks before it attests #`upto`, reading only the entries
    since the last checkpoint."""
    expected_prev = GENESIS_HASH
    if seq > 0:
        attested = AuditEntry.objects.filter(seq=seq).first()
        if attested is None or attested.hash != hash_:
            return AuditProblem(
                seq,
                attested.pk if attested else None,
                f"entry #{seq} changed since it was attested",
            )
        expected_prev = hash_
    expected_seq = seq + 1
    entries = AuditEntry.objects.filter(seq__gt=seq, seq__lte=upto).order_by("seq")
    for entry in entries.iterator(chunk_size=2000):
        problem = _entry_problem(entry, expected_seq, expected_prev, {})
        if problem is not None:
            return problem
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    if expected_seq - 1 != upto:
        return AuditProblem(expected_seq, None, f"entry #{expected_seq} is missing")
    return None
