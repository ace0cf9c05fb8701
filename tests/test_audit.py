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
from tinhso.core.audit import audit_verify
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
    entry = AuditEntry.objects.get(seq=before + 1)
    assert entry.action == "api_token.created"
    assert entry.actor_id == specialist.pk  # type: ignore[attr-defined]
    assert entry.prev_hash == AuditEntry.objects.get(seq=before).hash
    assert audit_verify().ok


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
