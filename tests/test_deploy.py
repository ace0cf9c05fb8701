"""Settings from the environment: the `tinhso` command finds the key `make run` keeps."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINHSO = Path(sys.executable).parent / "tinhso"


def _clean_environment(data_dir: Path) -> dict[str, str]:
    """This process's environment without any of the project's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TINHSO_", "SECRET_KEY", "DATABASE_URL", "SECURE_"))
        and k not in {"DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}
    }
    env["TINHSO_DATA_DIR"] = str(data_dir)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, capture_output=True, text=True, check=False, cwd=ROOT, timeout=300
    )


def test_the_tinhso_command_finds_the_key_make_run_keeps(tmp_path: Path) -> None:
    """After `make run`, `tinhso <command>` works in a new shell with no SECRET_KEY set:
    it reads <TINHSO_DATA_DIR>/secret_key."""
    env = _clean_environment(tmp_path)
    without = _run([str(TINHSO), "check"], env)
    assert without.returncode != 0
    assert "SECRET_KEY must be set" in without.stderr
    key = secrets.token_urlsafe(50)
    (tmp_path / "secret_key").write_text(key + "\n", encoding="utf-8")
    result = _run([str(TINHSO), "check"], env)
    assert result.returncode == 0, result.stderr
    show_key = [str(TINHSO), "shell", "--no-imports", "-c",
                "from django.conf import settings; print(settings.SECRET_KEY)"]  # fmt: skip
    assert _run(show_key, env).stdout.strip() == key
    # An explicit SECRET_KEY still wins over the file.
    env["SECRET_KEY"] = "from-the-environment-" + key
    assert _run(show_key, env).stdout.strip() == env["SECRET_KEY"]
