"""Signed checkpoints of the audit chain (ADR 0017): cutting the chain's tail and rewriting
its head, rewriting entries, forging or deleting a checkpoint are all found."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from test_signing import tsa_url  # noqa: F401 (the RFC 3161 TSA fixture)
from tinhso.accounts.services import api_token_create
from tinhso.core.audit import _stored_entry_hash, audit_seal, audit_verify, change_digest
from tinhso.core.models import AuditCheckpoint, AuditEntry, AuditHead
from tinhso.signing.checkpoints import (
    audit_checkpoint_create,
    audit_checkpoint_hourly,
    audit_verify_anchored,
    checkpoint_authority,
)

pytestmark = pytest.mark.django_db


def append(user: Any, n: int = 3) -> None:
    """n more audited changes (API tokens made through the real service), sealed as the
    worker's sealer does within a second (ADR 0025)."""
    for i in range(n):
        api_token_create(user=user, name=f"t{i}")
    audit_seal()


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        verify(*args)
    return str(caught.value)


def truncate_to(seq: int) -> None:
    """What an intruder with database access does: delete the entries after #seq and make
    the head point at #seq, so the chain on its own looks whole."""
    AuditEntry.objects.filter(seq__gt=seq).delete()
    last = AuditEntry.objects.get(seq=seq)
    AuditHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)


def rewrite_from(seq: int) -> None:
    """Change entry #seq and recompute every hash from it to the head."""
    prev = AuditEntry.objects.get(seq=seq - 1).hash
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        if entry.seq == seq:
            entry.data = {"forged": True}
            entry.digest = change_digest(entry.data)
        entry.prev_hash = prev
        entry.hash = prev = _stored_entry_hash(entry)
        entry.save()
    AuditHead.objects.filter(pk=1).update(hash=prev)


def test_a_checkpoint_seals_the_head_and_is_recorded_in_the_chain(specialist: Any) -> None:
    head = AuditHead.objects.get()
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    checkpoint = AuditCheckpoint.objects.get()
    assert f"Checkpoint 1: entry #{head.seq} {head.hash}" in out.getvalue()
    statement = json.loads(checkpoint.statement)
    assert statement["seq"] == head.seq
    assert statement["hash"] == head.hash
    assert statement["number"] == 1
    assert statement["previous"] == "0" * 64
    assert checkpoint.signer == checkpoint_authority().name
    recorded = AuditEntry.objects.get(seq=checkpoint.recorded_seq)
    assert recorded.action == "audit.checkpoint"
    assert recorded.data["seq"] == head.seq
    assert "1 signed checkpoints verified" in verify()

    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "Nothing appended since the last checkpoint" in out.getvalue()
    append(specialist)
    second = audit_checkpoint_create()
    assert second is not None
    assert second.number == 2
    assert json.loads(second.statement)["previous"] != "0" * 64
    assert "2 signed checkpoints verified" in verify()


def test_truncating_the_tail_and_rewriting_the_head_is_detected(specialist: Any) -> None:
    append(specialist)
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    append(specialist)
    truncate_to(checkpoint.seq - 2)
    # The chain alone cannot tell: that was the gap.
    assert audit_verify().ok
    message = refused()
    assert f"chain ends at #{checkpoint.seq - 2}" in message
    assert f"checkpoint 1 of {checkpoint.at:%Y-%m-%d}" in message
    assert f"attests #{checkpoint.seq}" in message
    assert "removed from the end" in message


def test_an_entry_rewritten_before_a_checkpoint_is_detected(specialist: Any) -> None:
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    append(specialist)
    target = checkpoint.seq - 10
    rewrite_from(target)
    assert audit_verify().ok  # consistent on its own
    message = refused()
    assert f"#{checkpoint.seq}" in message
    assert "rewritten at or before" in message


def test_a_changed_entry_is_detected_with_checkpoints_too(specialist: Any) -> None:
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    entry = AuditEntry.objects.get(seq=checkpoint.seq - 5)
    AuditEntry.objects.filter(pk=entry.pk).update(action="agency.deleted")
    assert f"#{entry.seq}" in refused()


def test_a_checkpoint_is_not_made_over_a_tampered_chain(specialist: Any) -> None:
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    append(specialist)
    AuditEntry.objects.filter(seq=checkpoint.seq + 1).update(object_id="x")
    with pytest.raises(CommandError, match=f"#{checkpoint.seq + 1}"):
        call_command("audit_checkpoint")
    assert AuditCheckpoint.objects.count() == 1


# --- forged checkpoints ----------------------------------------------------------------------


def _self_made_signer() -> tuple[Any, x509.Certificate, x509.Certificate]:
    """What an intruder makes: his own root and, under it, a "seal" with the province
    People's Committee's name; returns a signer for that seal, the root and the seal."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    def der(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    now = timezone.now()

    def issue(name: str, key: Any, issuer: x509.Name | None, signing_key: Any, ca: bool) -> Any:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        usage = [True, True, False, False, False, ca, ca, False, False]
        return (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(*usage), critical=True)
            .sign(signing_key, hashes.SHA256())
        )  # fmt: skip

    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = issue("Intruder Root", root_key, None, root_key, ca=True)
    seal = issue(checkpoint_authority().name, seal_key, root.subject, root_key, ca=False)
    signer = SimpleSigner(
        signing_cert=der(seal),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            seal_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([der(root)]),
    )
    return signer, root, seal


def _forge(checkpoint: AuditCheckpoint, signer: Any, **changes: Any) -> None:
    """Rewrite the checkpoint's statement (e.g. to attest a shorter chain) and sign it."""
    statement = json.loads(checkpoint.statement)
    statement.update(changes)
    text = json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    signature = asyncio.run(signer.async_sign_general_data(text.encode(), "sha256"))
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(
        statement=text,
        signature=signature.dump(),
        seq=statement["seq"],
        head_hash=statement["hash"],
    )


def test_a_forged_checkpoint_signature_is_detected(specialist: Any) -> None:
    append(specialist)
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    # The intruder cuts the tail and re-signs the checkpoint to attest the shorter chain.
    keep = checkpoint.seq - 3
    truncate_to(keep)
    signer, _root, _seal = _self_made_signer()
    _forge(checkpoint, signer, seq=keep, hash=AuditEntry.objects.get(seq=keep).hash)
    message = refused()
    assert "Audit checkpoint BAD: checkpoint 1" in message
    assert "not from a certificate the trusted roots vouch for" in message


def test_a_checkpoint_statement_changed_under_its_signature_is_detected(
    specialist: Any,
) -> None:
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    keep = checkpoint.seq - 3
    truncate_to(keep)
    statement = json.loads(checkpoint.statement)
    statement.update(seq=keep, hash=AuditEntry.objects.get(seq=keep).hash)
    text = json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(
        statement=text, seq=keep, head_hash=statement["hash"]
    )
    assert "its signature does not match its statement" in refused()


def test_a_forger_who_plants_his_own_root_is_caught_by_a_pinned_root(
    specialist: Any, tmp_path: Path
) -> None:
    from tinhso.signing.models import CertificateKind
    from tinhso.signing.pki import certificate_store

    roots = io.StringIO()
    call_command("pki_export_root", stdout=roots)
    (tmp_path / "root.pem").write_text(roots.getvalue())  # kept outside, beforehand
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    keep = checkpoint.seq - 3
    truncate_to(keep)
    signer, root, seal = _self_made_signer()
    _forge(checkpoint, signer, seq=keep, hash=AuditEntry.objects.get(seq=keep).hash)
    # With write access to the database, the intruder also records his root as trusted and
    # his certificate as a seal: the database's own trust no longer helps …
    certificate_store(root, kind=CertificateKind.ROOT_CA)
    certificate_store(seal, kind=CertificateKind.SEAL)
    assert "1 signed checkpoints verified" in verify()
    # … the root kept outside does.
    message = refused("--trust-roots", str(tmp_path / "root.pem"))
    assert "not from a certificate the trusted roots vouch for" in message


def test_a_checkpoint_signed_with_another_trusted_key_than_a_seal_is_refused(
    specialist: Any,
) -> None:
    from tinhso.signing import checkpoints
    from tinhso.signing.models import Certificate, CertificateKind

    personal = Certificate.objects.filter(kind=CertificateKind.PERSONAL).exclude(key_uri="")
    leader_key = personal.filter(revoked_at__isnull=True).first()
    assert leader_key is not None
    statement = checkpoints.checkpoint_statement(
        number=1, seq=1, hash_=AuditEntry.objects.get(seq=1).hash, at=timezone.now(),
        previous="0" * 64, installation="x",
    )  # fmt: skip
    forged = AuditCheckpoint(
        number=1, seq=1, head_hash=AuditEntry.objects.get(seq=1).hash, at=timezone.now(),
        previous="0" * 64, statement=statement,
        signature=checkpoints._sign(statement, leader_key),
    )  # fmt: skip
    check = checkpoints.checkpoint_signature_check(forged, checkpoints.validation_context())
    assert check.problem == "it is not signed with a seal certificate of the platform"


# --- the copy outside the database ------------------------------------------------------------


def test_checkpoints_deleted_with_the_tail_are_found_against_an_exported_copy(
    specialist: Any, tmp_path: Path
) -> None:
    first = audit_checkpoint_create()
    append(specialist)
    second = audit_checkpoint_create()
    assert first is not None
    assert second is not None
    export = tmp_path / "checkpoints.json"
    call_command("audit_checkpoint", "--export", str(export), stdout=io.StringIO())
    # The intruder removes the last checkpoint too, then cuts back to just after the first.
    AuditCheckpoint.objects.filter(pk=second.pk).delete()
    truncate_to(first.recorded_seq or 0)
    assert "1 signed checkpoints verified" in verify()  # the database alone cannot tell
    message = refused("--checkpoints", str(export))
    assert "checkpoint 2 of" in message
    assert "no longer in the database" in message


def test_the_exported_signature_verifies_with_openssl(
    specialist: Any, tmp_path: Path, in_ci: bool
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        if in_ci:
            pytest.fail("openssl is not installed")
        pytest.skip("openssl is not installed")
    roots = io.StringIO()
    call_command("pki_export_root", stdout=roots)
    (tmp_path / "root.pem").write_text(roots.getvalue())
    audit_checkpoint_create()
    out = io.StringIO()
    call_command("audit_checkpoint", "--export", "-", stdout=out)
    [item] = json.loads(out.getvalue())["checkpoints"]
    (tmp_path / "statement.json").write_text(item["statement"], encoding="utf-8")
    (tmp_path / "sig.der").write_bytes(base64.b64decode(item["signature"]))

    def openssl_verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [openssl, "cms", "-verify", "-binary", "-inform", "DER",
             "-in", str(tmp_path / "sig.der"), "-content", str(tmp_path / "statement.json"),
             "-CAfile", str(tmp_path / "root.pem"), "-purpose", "any",
             "-out", str(tmp_path / "out")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    done = openssl_verify()
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    (tmp_path / "statement.json").write_text(
        item["statement"].replace(f'"seq":{item["seq"]}', f'"seq":{item["seq"] - 1}'),
        encoding="utf-8",
    )
    assert openssl_verify().returncode != 0


def test_checkpoints_are_public(client: Client, specialist: Any) -> None:
    audit_checkpoint_create()
    append(specialist)
    audit_checkpoint_create()
    response = client.get("/api/v1/audit/checkpoints?page_size=1")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    [item] = body["items"]
    assert item["number"] == 2
    assert json.loads(item["statement"])["hash"] == item["hash"]
    assert base64.b64decode(item["signature"])[:1] == b"\x30"  # DER SEQUENCE


# --- the TSA and the hourly task ---------------------------------------------------------------


def test_with_a_tsa_checkpoints_are_time_stamped(
    specialist: Any,
    settings: Any,
    tsa_url: str,  # noqa: F811
) -> None:
    settings.TINHSO_TSA_URL = tsa_url
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    assert checkpoint.timestamped_at is not None
    assert abs(checkpoint.timestamped_at - timezone.now()) < timedelta(minutes=5)
    assert audit_verify_anchored().ok


def test_the_hourly_task_makes_a_checkpoint_and_comes_back(settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("audit_checkpoint", "--schedule", stdout=io.StringIO())
    call_command("audit_checkpoint", "--schedule", stdout=io.StringIO())
    [scheduled] = DBTaskResult.objects.filter(task_path=audit_checkpoint_hourly.module_path)
    assert scheduled.status == "READY"
    assert audit_checkpoint_hourly.call() == 1
    next_hour = DBTaskResult.objects.filter(
        task_path=audit_checkpoint_hourly.module_path,
        run_after__gt=timezone.now() + timedelta(minutes=59),
        run_after__lt=timezone.now() + timedelta(minutes=61),
    )
    assert next_hour.count() == 1


def test_a_checkpoint_seals_first_and_attests_every_entry_committed_before_it(
    specialist: Any,
) -> None:
    """Entries wait unsealed for the worker's sealer (ADR 0025): a checkpoint seals them
    itself, and its own entry, so it attests everything committed before it."""
    api_token_create(user=specialist, name="late")
    waiting = AuditEntry.objects.order_by("-id").first()
    assert waiting is not None
    assert waiting.seq is None
    checkpoint = audit_checkpoint_create()
    assert checkpoint is not None
    waiting.refresh_from_db()
    assert waiting.seq == checkpoint.seq
    assert checkpoint.head_hash == waiting.hash
    assert checkpoint.recorded_seq == checkpoint.seq + 1
    assert AuditEntry.objects.get(seq=checkpoint.recorded_seq).action == "audit.checkpoint"
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
    assert AuditHead.objects.get().seq == checkpoint.recorded_seq
    assert "1 signed checkpoints verified" in verify()
