"""The audit hash chain: every change leaves an entry; any tampering is found."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tinhso.accounts.services import api_token_create
from tinhso.core.audit import audit_record, audit_seal, audit_verify
from tinhso.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def test_the_seeded_chain_is_intact(capsys: pytest.CaptureFixture[str]) -> None:
    report = audit_verify()
    assert report.ok
    assert report.checked == AuditEntry.objects.count() > 180
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


def test_state_changes_write_chained_entries(specialist: object) -> None:
    before = AuditHead.objects.get().seq
    api_token_create(user=specialist, name="ci")  # type: ignore[arg-type]
    # Appended unsealed (no lock on the request path); the sealer chains it.
    appended = AuditEntry.objects.order_by("-id").first()
    assert appended is not None
    assert (appended.action, appended.seq, appended.hash) == ("api_token.created", None, None)
    assert audit_verify().unsealed == 1
    assert audit_seal().sealed == 1
    entry = AuditEntry.objects.get(seq=before + 1)
    assert entry.pk == appended.pk
    assert entry.action == "api_token.created"
    assert entry.actor_id == specialist.pk  # type: ignore[attr-defined]
    assert entry.prev_hash == AuditEntry.objects.get(seq=before).hash
    assert AuditHead.objects.get().seq == before + 1
    report = audit_verify()
    assert report.ok
    assert report.unsealed == 0


def test_entries_are_sealed_in_the_order_appended_and_a_rolled_back_one_leaves_no_gap() -> None:
    from django.db import transaction

    before = AuditHead.objects.get().seq
    audit_record(actor=None, action="test.first")
    with transaction.atomic():
        audit_record(actor=None, action="test.rolled_back")
        transaction.set_rollback(True)
    audit_record(actor=None, action="test.second")
    assert audit_seal().sealed == 2
    sealed = AuditEntry.objects.filter(seq__gt=before).order_by("seq")
    assert [(e.seq, e.action) for e in sealed] == [
        (before + 1, "test.first"),
        (before + 2, "test.second"),
    ]
    assert audit_seal().sealed == 0
    assert audit_verify().ok


def test_an_inserted_entry_is_named() -> None:
    """An entry slipped into the sealed chain (the later ones moved up by one to make room)
    does not link to the one before it."""
    entry = _middle()
    later = list(AuditEntry.objects.filter(seq__gte=entry.seq).order_by("-seq"))
    for moved in later:  # from the end, so that no two share a number on the way
        AuditEntry.objects.filter(pk=moved.pk).update(seq=moved.seq + 1)
    forged = AuditEntry(
        seq=entry.seq, at=entry.at, actor_label="system", action="agency.created",
        object_type="agencies.agency", object_id="999", data={}, prev_hash=entry.prev_hash,
    )  # fmt: skip
    from tinhso.core.audit import _stored_entry_hash, change_digest

    forged.digest = change_digest(forged.data)
    forged.hash = _stored_entry_hash(forged)
    forged.save(force_insert=True)
    head = AuditHead.objects.get()
    AuditHead.objects.filter(pk=1).update(seq=head.seq + 1)
    report = audit_verify()
    assert report.problem is not None
    assert report.problem.seq == entry.seq + 1
    assert "previous-hash link" in report.problem.reason


def test_an_unsealed_entry_marked_sealed_by_hand_is_named() -> None:
    """Giving a waiting entry a place in the chain without the sealer's hash is found."""
    audit_record(actor=None, action="test.waiting")
    head = AuditHead.objects.get()
    AuditEntry.objects.filter(seq__isnull=True).update(
        seq=head.seq + 1, prev_hash=head.hash, hash="f" * 64
    )
    AuditHead.objects.filter(pk=1).update(seq=head.seq + 1, hash="f" * 64)
    report = audit_verify()
    assert report.problem is not None
    assert report.problem.seq == head.seq + 1
    assert "hash" in report.problem.reason


def test_the_sealer_does_not_extend_a_cut_tail() -> None:
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    last.delete()
    audit_record(actor=None, action="test.after_the_cut")
    result = audit_seal()
    assert result.sealed == 0
    assert result.refused is not None
    assert f"head records #{last.seq}" in result.refused
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 1
    report = audit_verify()
    assert report.problem is not None
    assert "removed from the end" in report.problem.reason


def _middle() -> AuditEntry:
    return AuditEntry.objects.order_by("seq")[50]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("data", {"changed": {"name": ["x", "y"]}}, "digest"),
        ("action", "agency.deleted", "hash"),
        ("actor_label", "someone-else", "hash"),
    ],
)
def test_an_altered_entry_is_named(field: str, value: object, reason: str) -> None:
    entry = _middle()
    AuditEntry.objects.filter(pk=entry.pk).update(**{field: value})
    report = audit_verify()
    assert report.problem is not None
    assert report.problem.seq == entry.seq
    assert reason in report.problem.reason
    with pytest.raises(CommandError, match=f"#{entry.seq}"):
        call_command("verify_audit")


def test_an_altered_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    from tinhso.core.audit import _stored_entry_hash, change_digest

    entry = _middle()
    entry.data = {"forged": True}
    entry.digest = change_digest(entry.data)
    entry.hash = _stored_entry_hash(entry)
    entry.save()
    report = audit_verify()
    assert report.problem is not None
    assert report.problem.seq == entry.seq + 1


def test_a_removed_entry_is_named() -> None:
    entry = _middle()
    AuditEntry.objects.filter(pk=entry.pk).delete()
    report = audit_verify()
    assert report.problem is not None
    assert report.problem.seq == entry.seq
    assert "missing" in report.problem.reason


def test_a_removed_tail_is_found() -> None:
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    last.delete()
    report = audit_verify()
    assert report.problem is not None
    assert "removed from the end" in report.problem.reason


def test_the_console_script_exits_non_zero_on_a_tampered_database(tmp_path: Path) -> None:
    """The real `tinhso` command on its own SQLite database, as an operator runs it."""
    env = {
        **os.environ,
        "TINHSO_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "test-only",
        "DJANGO_SETTINGS_MODULE": "tinhso.settings",
    }
    env.pop("DATABASE_URL", None)
    tinhso = [sys.executable, "-m", "tinhso"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*tinhso, *args], env=env, capture_output=True, text=True, check=False
        )

    assert run("migrate", "--noinput", "-v0").returncode == 0
    assert run("seed_province", "--code", "38").returncode == 0
    ok = run("verify_audit")
    assert ok.returncode == 0, ok.stderr
    with sqlite3.connect(tmp_path / "tinhso.sqlite3") as db:
        db.execute("UPDATE core_auditentry SET object_id = 'x' WHERE seq = 77")
    bad = run("verify_audit")
    assert bad.returncode != 0
    assert "#77" in bad.stderr


def test_a_dumpdata_loaddata_backup_still_verifies() -> None:
    from django.core import serializers

    dumped = serializers.serialize("json", AuditEntry.objects.order_by("seq")[:40])
    AuditEntry.objects.filter(seq__lte=40).delete()
    for restored in serializers.deserialize("json", dumped):
        restored.save()
    assert audit_verify().ok


def test_verify_audit_seals_what_was_appended_first(specialist: object) -> None:
    import io

    api_token_create(user=specialist, name="ci")  # type: ignore[arg-type]
    out = io.StringIO()
    call_command("verify_audit", "--no-seal", stdout=out)
    assert "1 entries appended since are not sealed yet" in out.getvalue()
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 1
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "not sealed" not in out.getvalue()
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
