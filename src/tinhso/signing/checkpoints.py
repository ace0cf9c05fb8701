"""Signed checkpoints of the audit chain's head (ADR 0017).

The chain (core.audit, ADR 0003) shows any changed, inserted or removed entry, but someone
who can write the database may cut off its last entries and rewrite its head to match, or
rewrite the whole chain from some entry on. A checkpoint closes that gap: every hour the
worker reads the head (sequence number and hash), checks that the entries since the last
checkpoint extend it intact, and signs a canonical statement of it

    {"at": "2026-11-30T08:00:00Z", "hash": "…", "installation": "https://…",
     "number": 12, "previous": "<SHA-256 of checkpoint 11's statement>", "seq": 48213,
     "type": "tinhso.audit-checkpoint", "version": 1}

with the province People's Committee's seal, as a detached CMS/PKCS#7 signature,
time-stamped by the RFC 3161 TSA when TINHSO_TSA_URL is set. Checkpoints live in their own
table, are public (GET /api/v1/audit/checkpoints) and are exported (`tinhso
audit_checkpoint --export`) so that copies live outside the database; `tinhso verify_audit`
checks every checkpoint's signature and the chain against them, and against an exported
copy (`--checkpoints FILE`), which also shows checkpoints deleted from the database.

Only the head row's seq/hash and the entries are read. Entries are appended unsealed and
chained by the sealer (core.audit.audit_seal, ADR 0025): a checkpoint seals first, so it
attests every entry committed before it, and seals its own `audit.checkpoint` entry in
the transaction that stores it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task

from tinhso.accounts.models import User
from tinhso.core.audit import (
    Anchor,
    AuditProblem,
    AuditReport,
    audit_extends,
    audit_record,
    audit_seal,
)
from tinhso.core.models import GENESIS_HASH, AuditCheckpoint, AuditHead
from tinhso.core.schedule import chain_next

log = logging.getLogger(__name__)

STATEMENT_TYPE = "tinhso.audit-checkpoint"
EXPORT_TYPE = "tinhso.audit-checkpoints"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be made (message for the operator)."""


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement_digest(statement: str) -> str:
    """What the next checkpoint's `previous` holds: SHA-256 of this statement's bytes."""
    return hashlib.sha256(statement.encode("utf-8")).hexdigest()


def checkpoint_statement(
    *, number: int, seq: int, hash_: str, at: datetime, previous: str, installation: str
) -> str:
    """The canonical text a checkpoint signs (sorted keys, no spaces, UTF-8)."""
    return _canonical(
        {
            "type": STATEMENT_TYPE,
            "version": VERSION,
            "installation": installation,
            "number": number,
            "seq": seq,
            "hash": hash_,
            "at": _utc(at),
            "previous": previous,
        }
    ).decode("utf-8")


def checkpoint_authority() -> Any:
    """Whose seal signs checkpoints: the province People's Committee (the body that owns
    the platform), i.e. the top People's Committee of TINHSO_PROVINCE_CODE."""
    from tinhso.agencies.models import Agency, AgencyKind, AgencyLevel

    committees = Agency.objects.filter(
        kind=AgencyKind.PEOPLES_COMMITTEE, level=AgencyLevel.PROVINCE, parent__isnull=True
    )
    authority = (
        committees.filter(admin_unit_code=settings.TINHSO_PROVINCE_CODE).first()
        or committees.order_by("path").first()
    )
    if authority is None:
        raise CheckpointError("There is no province People's Committee to seal checkpoints.")
    return authority


# --- checking a checkpoint's signature ----------------------------------------------------


def validation_context(roots_pem: bytes | None = None) -> Any:
    """The signing module's validation context (the database's roots, TINHSO_TRUST_ROOTS_
    FILE, the newest CRLs), or one that trusts only the roots in `roots_pem`: an auditor
    pins the root they hold outside the database."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    from tinhso.signing import verify
    from tinhso.signing.models import Certificate, CertificateKind
    from tinhso.signing.pki import x509_of

    if roots_pem is None:
        return verify.validation_context()
    roots = [
        asn1_x509.Certificate.load(der)
        for _kind, _headers, der in pem.unarmor(roots_pem, multiple=True)
    ]
    # The issuing CAs only help build paths: trust comes from the pinned roots alone.
    intermediates = [
        asn1_x509.Certificate.load(x509_of(row).public_bytes(serialization.Encoding.DER))
        for row in Certificate.objects.filter(kind=CertificateKind.ISSUING_CA)
    ]
    return ValidationContext(
        trust_roots=roots,
        other_certs=intermediates,
        crls=[asn1_crl.CertificateList.load(bytes(c.der)) for c in verify.current_crls()],
        allow_fetching=bool(settings.TINHSO_SIGNING_FETCH_REVOCATION),
        revocation_mode="soft-fail",
    )


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking one checkpoint: `problem` is None when it is good."""

    problem: str | None
    signer: str = ""
    fingerprint: str = ""
    timestamped_at: datetime | None = None


def _signed_fields(checkpoint: AuditCheckpoint) -> dict[str, Any] | None:
    try:
        fields = json.loads(checkpoint.statement)
    except ValueError:
        return None
    if not isinstance(fields, dict) or _canonical(fields).decode() != checkpoint.statement:
        return None
    return fields


def checkpoint_signature_check(checkpoint: AuditCheckpoint, context: Any) -> SignatureCheck:
    """Whether the checkpoint's signature is a good seal signature over its statement, and
    its recorded fields are those it signed. A certificate revoked since is accepted only
    for checkpoints a trusted TSA time-stamped before the revocation."""
    from asn1crypto import cms
    from pyhanko.sign.validation import async_validate_detached_cms

    from tinhso.signing.models import Certificate, CertificateKind

    fields = _signed_fields(checkpoint)
    if fields is None or fields.get("type") != STATEMENT_TYPE:
        return SignatureCheck("its statement is not a canonical checkpoint statement")
    signed = (fields.get("number"), fields.get("seq"), fields.get("hash"), fields.get("previous"))
    recorded = (checkpoint.number, checkpoint.seq, checkpoint.head_hash, checkpoint.previous)
    if signed != recorded:
        return SignatureCheck("its recorded number, sequence or hash differ from what it signed")
    try:
        content = cms.ContentInfo.load(bytes(checkpoint.signature))
        signed_data = content["content"]
        status = asyncio.run(
            async_validate_detached_cms(
                checkpoint.statement.encode("utf-8"),
                signed_data,
                signer_validation_context=context,
            )
        )
        cert = status.signing_cert
    except Exception as exc:  # a forged blob may break any parser
        log.info("checkpoint %s: unreadable signature: %s", checkpoint.number, exc)
        return SignatureCheck("its signature cannot be read")
    fingerprint = cert.sha256.hex()
    signer = str(cert.subject.native.get("common_name", ""))
    stamp = status.timestamp_validity
    stamped_at = None
    if stamp is not None:
        if not (stamp.intact and stamp.valid and stamp.trusted):
            return SignatureCheck("its time-stamp is not valid", signer, fingerprint)
        stamped_at = stamp.timestamp
    if not (status.intact and status.valid):
        return SignatureCheck("its signature does not match its statement", signer, fingerprint)
    known = Certificate.objects.filter(fingerprint=fingerprint).first()
    revoked_at = known.revoked_at if known is not None else None
    if status.revoked or revoked_at is not None:
        if revoked_at is None or stamped_at is None or stamped_at >= revoked_at:
            return SignatureCheck(
                "its seal certificate is revoked and no trusted time-stamp shows it signed "
                "before the revocation",
                signer,
                fingerprint,
            )
    elif not status.trusted:
        return SignatureCheck(
            "its signature is not from a certificate the trusted roots vouch for",
            signer,
            fingerprint,
        )
    if known is None or known.kind != CertificateKind.SEAL:
        return SignatureCheck(
            "it is not signed with a seal certificate of the platform", signer, fingerprint
        )
    return SignatureCheck(None, signer, fingerprint, stamped_at)


# --- making a checkpoint --------------------------------------------------------------------


def _sign(statement: str, certificate: Any) -> bytes:
    from tinhso.signing.pades import timestamper
    from tinhso.signing.signers import SignerError, signer_for

    try:
        signer = signer_for(certificate)
        with signer.open() as cms_signer:
            content = asyncio.run(
                cms_signer.async_sign_general_data(
                    statement.encode("utf-8"),
                    "sha256",
                    detached=True,
                    timestamper=timestamper(),
                )
            )
    except SignerError as exc:
        raise CheckpointError(f"The seal could not sign: {exc}") from exc
    return bytes(content.dump())


def audit_checkpoint_create(*, actor: User | None = None) -> AuditCheckpoint | None:
    """Sign a checkpoint of the chain's head now; None when nothing was appended since the
    last one (apart from the entry that recorded it). Refuses (CheckpointError) when the
    entries since the last checkpoint do not extend it intact: a checkpoint never attests
    a chain that was tampered with."""
    from tinhso.signing.services import SigningError, seal_for

    sealing = audit_seal()
    if sealing.refused is not None:
        raise CheckpointError(f"The audit chain cannot be sealed: {sealing.refused}.")
    head = AuditHead.objects.filter(pk=1).first()
    seq, hash_ = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    last = AuditCheckpoint.objects.order_by("-number").first()
    if seq == 0 or (
        last is not None and last.recorded_seq is not None and seq <= last.recorded_seq
    ):
        return None
    problem = (
        audit_extends(seq=last.seq, hash_=last.head_hash, upto=seq)
        if last is not None
        else audit_extends(seq=0, hash_=GENESIS_HASH, upto=seq)
    )
    if problem is not None:
        raise CheckpointError(
            f"The audit chain does not extend the last checkpoint at #{problem.seq}: "
            f"{problem.reason}. Run `tinhso verify_audit`."
        )
    try:
        certificate = seal_for(checkpoint_authority())
    except SigningError as exc:
        raise CheckpointError(exc.message) from exc
    number = last.number + 1 if last is not None else 1
    at = timezone.now().replace(microsecond=0)
    statement = checkpoint_statement(
        number=number,
        seq=seq,
        hash_=hash_,
        at=at,
        previous=statement_digest(last.statement) if last is not None else GENESIS_HASH,
        installation=settings.TINHSO_PUBLIC_URL,
    )
    checkpoint = AuditCheckpoint(
        number=number,
        seq=seq,
        head_hash=hash_,
        at=at,
        previous=statement_digest(last.statement) if last is not None else GENESIS_HASH,
        statement=statement,
        signature=_sign(statement, certificate),
        signer=certificate.common_name[:255],
        certificate_fingerprint=certificate.fingerprint,
    )
    # Checked as any verifier will check it, before it is kept.
    check = checkpoint_signature_check(checkpoint, validation_context())
    if check.problem is not None:
        raise CheckpointError(f"The new checkpoint does not verify: {check.problem}.")
    checkpoint.timestamped_at = check.timestamped_at
    try:
        with transaction.atomic():
            checkpoint.save(force_insert=True)
            entry = audit_record(
                actor=actor,
                action="audit.checkpoint",
                obj=checkpoint,
                data={
                    "number": number, "seq": seq, "hash": hash_,
                    "serial": certificate.serial, "subject": certificate.common_name,
                    "timestamped": check.timestamped_at is not None,
                },
            )  # fmt: skip
            # Sealed here, so the checkpoint knows where its own entry stands in the chain.
            sealing = audit_seal()
            if sealing.refused is not None:
                raise CheckpointError(f"The audit chain cannot be sealed: {sealing.refused}.")
            entry.refresh_from_db(fields=["seq"])
            checkpoint.recorded_seq = entry.seq
            checkpoint.save(update_fields=["recorded_seq"])
    except IntegrityError:
        return None  # another process made checkpoint `number` at the same moment
    return checkpoint


@task()
def audit_checkpoint_hourly() -> int | None:
    """Make a checkpoint, then come back in an hour (a failure is logged; the chain of
    runs goes on)."""
    try:
        checkpoint = audit_checkpoint_create()
    except CheckpointError as exc:
        log.error("audit checkpoint not made: %s", exc)
        checkpoint = None
    finally:
        chain_next(audit_checkpoint_hourly)
    return checkpoint.number if checkpoint is not None else None


# --- publishing and exporting ---------------------------------------------------------------


def checkpoint_as_dict(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """One checkpoint as published and exported: the statement and its signature are all
    a verifier needs (`openssl cms -verify -binary -inform DER -content statement …`)."""
    return {
        "number": checkpoint.number,
        "seq": checkpoint.seq,
        "hash": checkpoint.head_hash,
        "at": _utc(checkpoint.at),
        "previous": checkpoint.previous,
        "statement": checkpoint.statement,
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "signer": checkpoint.signer,
        "certificate_sha256": checkpoint.certificate_fingerprint,
        "timestamped_at": _utc(checkpoint.timestamped_at) if checkpoint.timestamped_at else None,
    }


def checkpoints_export() -> dict[str, Any]:
    """Every checkpoint, oldest first, for a copy kept outside the database."""
    return {
        "type": EXPORT_TYPE,
        "installation": settings.TINHSO_PUBLIC_URL,
        "exported_at": _utc(timezone.now()),
        "checkpoints": [
            checkpoint_as_dict(c) for c in AuditCheckpoint.objects.order_by("number").iterator()
        ],
    }


def checkpoints_load(path: Path) -> list[AuditCheckpoint]:
    """The checkpoints of an exported copy (unsaved rows), or CheckpointError."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("type") != EXPORT_TYPE:
            raise ValueError(f"not a {EXPORT_TYPE} document")
        rows = []
        for item in document["checkpoints"]:
            at = parse_datetime(item["at"])
            stamped = (
                parse_datetime(item["timestamped_at"] or "") if item["timestamped_at"] else None
            )
            if at is None:
                raise ValueError(f"bad time {item['at']!r}")
            rows.append(
                AuditCheckpoint(
                    number=int(item["number"]),
                    seq=int(item["seq"]),
                    head_hash=item["hash"],
                    at=at,
                    previous=item["previous"],
                    statement=item["statement"],
                    signature=base64.b64decode(item["signature"], validate=True),
                    signer=item.get("signer", ""),
                    certificate_fingerprint=item.get("certificate_sha256", ""),
                    timestamped_at=stamped,
                )
            )
        return rows
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} is not an export of audit checkpoints: {exc}") from exc


# --- verifying the chain against its checkpoints --------------------------------------------


def _label(checkpoint: AuditCheckpoint) -> str:
    return f"checkpoint {checkpoint.number} of {_utc(checkpoint.at)}"


def _merge(
    stored: Iterable[AuditCheckpoint], exported: Iterable[AuditCheckpoint]
) -> tuple[list[AuditCheckpoint], AuditProblem | None]:
    """The database's checkpoints and an exported copy's, as one list; a checkpoint the
    copy has and the database lost, or one that differs, is itself a problem."""
    merged = {c.number: c for c in stored}
    for outside in exported:
        inside = merged.get(outside.number)
        if inside is None:
            return [], AuditProblem(
                outside.seq,
                None,
                f"{_label(outside)} is in the exported copy but no longer in the database",
                checkpoint=outside.number,
            )
        if inside.statement != outside.statement or bytes(inside.signature) != bytes(
            outside.signature
        ):
            return [], AuditProblem(
                outside.seq,
                None,
                f"{_label(outside)} in the database differs from the exported copy",
                checkpoint=outside.number,
            )
    return sorted(merged.values(), key=lambda c: c.number), None


def audit_verify_anchored(
    *, exported: Iterable[AuditCheckpoint] = (), roots_pem: bytes | None = None
) -> AuditReport:
    """`tinhso verify_audit`: every checkpoint's signature (and the link to the one before),
    then the whole chain against them (core.audit.audit_verify)."""
    from tinhso.core.audit import audit_verify

    rows, problem = _merge(AuditCheckpoint.objects.order_by("number"), exported)
    if problem is not None:
        return AuditReport(0, 0, "", problem, checkpoints=0)
    context = validation_context(roots_pem) if rows else None
    anchors: list[Anchor] = []
    previous: AuditCheckpoint | None = None
    for checkpoint in rows:
        expected_number = previous.number + 1 if previous is not None else 1
        expected_link = statement_digest(previous.statement) if previous else GENESIS_HASH
        reason = None
        if checkpoint.number != expected_number:
            reason = f"checkpoint {expected_number} is missing"
        elif checkpoint.previous != expected_link:
            reason = "it does not name the checkpoint before it"
        elif previous is not None and checkpoint.seq < previous.seq:
            reason = "it attests an earlier entry than the checkpoint before it"
        else:
            reason = checkpoint_signature_check(checkpoint, context).problem
        if reason is not None:
            return AuditReport(
                0,
                0,
                "",
                AuditProblem(
                    checkpoint.seq,
                    None,
                    f"{_label(checkpoint)}: {reason}",
                    checkpoint=checkpoint.number,
                ),
                checkpoints=len(anchors),
            )
        anchors.append(Anchor(checkpoint.seq, checkpoint.head_hash, _label(checkpoint)))
        previous = checkpoint
    return audit_verify(anchors=anchors, checkpoints=len(anchors))
