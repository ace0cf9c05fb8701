"""The tamper-evident audit log: append (`audit_record`), chain (`audit_seal`) and check
(`audit_verify`).

Each entry's hash covers its own fields, the digest of its change data and the previous
entry's hash. Changing, inserting or removing any entry breaks the chain from that point,
and `tinhso verify_audit` names the first entry that no longer fits. Signed checkpoints of
the head (signing.checkpoints, ADR 0017) anchor the chain: `audit_verify(anchors=…)` also
checks it against them.

Appending takes no lock (ADR 0025): a writer inserts its entry unsealed, with its change
digest, in its own transaction, so audited writes on any number of servers do not wait
for one another. The sealer (`audit_seal`: the worker every TINHSO_AUDIT_SEAL_SECONDS,
and on demand before a checkpoint and before `verify_audit`) alone locks the head row; it
reads the entries committed since, oldest first, and gives each the next sequence number,
the previous entry's hash and its own hash. An entry whose transaction is still in flight
is invisible to it and is simply sealed by a later run, after the ones that committed
first: positions are given at sealing, so a rolled-back entry leaves no gap in `seq` (only
in `id`, which nothing checks) and the sealer never has to wait for, or guess about, a
transaction that has not ended.
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
    """The hash an entry should carry, from its stored fields (once sealed: `seq` set)."""
    return entry_hash(
        seq=entry.seq or 0,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        digest=entry.digest,
        prev_hash=entry.prev_hash,
    )


def _locked_head(*, skip_locked: bool = False) -> AuditHead | None:
    """The chain head, row-locked until the transaction ends (None when `skip_locked` and
    another sealer holds it). Its row is made by a migration; if a `flush` removed it, it is
    made again (get_or_create copes with a racing sealer)."""
    heads = AuditHead.objects.select_for_update(skip_locked=skip_locked)
    head = heads.filter(pk=1).first()
    if head is None:
        AuditHead.objects.get_or_create(pk=1)
        head = heads.filter(pk=1).first()
    return head


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry, unsealed: one INSERT, no lock. Call it inside the transaction that
    makes the change, so the change and its audit row commit together or not at all; the
    sealer chains it after that commit (its `seq` and `hash` are None until then). Personal
    data in `data` must already be masked (core.privacy)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    payload = dict(data or {})
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
        at=at,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=payload,
        digest=change_digest(payload),
    )
    entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class SealResult:
    """What one `audit_seal` did: how many entries it chained, the head it left, and why it
    refused to extend the chain (None when it did not refuse)."""

    sealed: int
    head_seq: int
    head_hash: str
    refused: str | None = None
    busy: bool = False  # another sealer held the head (wait=False): it seals them


SEAL_BATCH = 1000


def _tail_problem(head: AuditHead) -> str | None:
    """Whether the head row still names the last sealed entry: a sealer never extends a
    chain whose tail was cut or whose head was rewritten (verify_audit reports it)."""
    last = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").first()
    last_seq, last_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    if (last_seq, last_hash) != (head.seq, head.hash):
        return (
            f"the last sealed entry is #{last_seq} but the head records #{head.seq}: "
            "run `tinhso verify_audit`"
        )
    return None


def _store_seals(entries: Sequence[AuditEntry]) -> None:
    """One UPDATE for the batch, joined on the primary key: linear in its size, where a
    bulk_update's CASE WHEN grows with the square of it. PostgreSQL gets four arrays
    (`unnest`), SQLite (≥ 3.33) a VALUES list."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table = quote(AuditEntry._meta.db_table)
    columns = [[e.pk for e in entries], [e.seq for e in entries]]
    columns += [[e.prev_hash for e in entries], [e.hash for e in entries]]
    if connection.vendor == "postgresql":
        source = "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])"
        params: list[Any] = columns
    else:
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(entries))
        params = [value for row in zip(*columns, strict=True) for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH sealed (id, seq, prev_hash, hash) AS ({source}) "  # noqa: S608
            f"UPDATE {table} SET {quote('seq')} = sealed.seq, "
            f"{quote('prev_hash')} = sealed.prev_hash, {quote('hash')} = sealed.hash "
            f"FROM sealed WHERE {table}.{quote('id')} = sealed.id "
            # The batch's range of ids, so that the join reads the primary key's index and
            # never the whole table, whatever the planner's estimates.
            f"AND {table}.{quote('id')} BETWEEN %s AND %s",
            [*params, entries[0].pk, entries[-1].pk],
        )


def audit_seal(*, wait: bool = True, limit: int | None = None) -> SealResult:
    """Chain every committed unsealed entry after the head, oldest appended first, in
    batches of SEAL_BATCH (each its own transaction unless the caller's). With `wait=False`
    (the worker's periodic run) it returns at once when another sealer holds the head.
    Runs also inside a caller's transaction: its own unsealed entries are sealed too."""
    sealed = 0
    while True:
        with transaction.atomic():
            head = _locked_head(skip_locked=not wait)
            if head is None:
                return SealResult(sealed, 0, "", busy=True)
            batch = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
            # The hash covers the change's digest, not the change itself: no need to read it.
            waiting = AuditEntry.objects.filter(seq__isnull=True).defer("data").order_by("id")
            entries = list(waiting[:batch])
            if not entries or batch <= 0:
                return SealResult(sealed, head.seq, head.hash)
            problem = _tail_problem(head)
            if problem is not None:
                return SealResult(sealed, head.seq, head.hash, refused=problem)
            seq, prev = head.seq, head.hash
            for entry in entries:
                seq += 1
                entry.seq, entry.prev_hash = seq, prev
                entry.hash = prev = _stored_entry_hash(entry)
            _store_seals(entries)
            head.seq, head.hash = seq, prev
            head.save(update_fields=["seq", "hash"])
            sealed += len(entries)
        if len(entries) < batch:
            return SealResult(sealed, seq, prev)


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
    unsealed: int = 0  # entries appended but not chained yet (ADR 0025)

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
            expected_seq,
            entry.pk,
            f"previous-hash link does not match entry #{expected_seq - 1}",
        )
    if change_digest(entry.data) != entry.digest:
        return AuditProblem(expected_seq, entry.pk, "change data does not match its digest")
    if _stored_entry_hash(entry) != entry.hash:
        return AuditProblem(expected_seq, entry.pk, "entry fields do not match its hash")
    anchor = anchors.get(expected_seq)
    if anchor is not None and anchor.hash != entry.hash:
        return AuditProblem(
            expected_seq,
            entry.pk,
            f"entry #{expected_seq} is not the one {anchor.label} attests: the chain was "
            f"rewritten at or before #{expected_seq}",
        )
    return None


def audit_verify(*, anchors: Sequence[Anchor] = (), checkpoints: int = 0) -> AuditReport:
    """Walk the whole sealed chain in order and report the first entry that does not fit
    (entries not sealed yet are only counted: seal first, `audit_seal`, to check them). With
    `anchors` (the verified checkpoints, signing.checkpoints), every attested entry must carry
    the attested hash and the chain must reach the furthest one: a rewritten chain, or a
    tail cut off together with a rewritten head, no longer passes."""
    expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0
    head = AuditHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS_HASH
    by_seq = {anchor.seq: anchor for anchor in anchors}
    furthest = max(anchors, key=lambda anchor: anchor.seq, default=None)

    unsealed = AuditEntry.objects.filter(seq__isnull=True).count()

    def report(problem: AuditProblem | None) -> AuditReport:
        return AuditReport(
            checked,
            head_seq,
            head_hash,
            problem,
            checkpoints=checkpoints,
            anchored_seq=furthest.seq if furthest else None,
            unsealed=unsealed,
        )

    sealed = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    for entry in sealed.iterator(chunk_size=2000):
        problem = _entry_problem(entry, expected_seq, expected_prev, by_seq)
        if problem is not None:
            return report(problem)
        expected_prev, expected_seq = entry.hash or "", expected_seq + 1
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
        expected_prev, expected_seq = entry.hash or "", expected_seq + 1
    if expected_seq - 1 != upto:
        return AuditProblem(expected_seq, None, f"entry #{expected_seq} is missing")
    return None
