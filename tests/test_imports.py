"""The module layers (ADR 0022), read from the imports by import-linter with the contracts
in pyproject.toml: each module imports only the modules below it, `core` none, and no two
parts of a module import each other. `make lint` runs the same check."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_the_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (
        "An import breaks the module layers (see ADR 0022 for how a module plugs in "
        "instead):\n" + result.stdout[result.stdout.find("Broken contracts") :] + result.stderr
    )


def test_every_module_has_its_layer_and_core_may_import_none() -> None:
    modules = {
        config.name.removeprefix("tinhso.")
        for config in apps.get_app_configs()
        if config.name.startswith("tinhso.")
    }
    contracts = _contracts()
    layers = {str(layer).strip("()") for layer in contracts["layers"]["layers"]}
    assert modules <= layers, f"modules without a layer in pyproject.toml: {modules - layers}"
    forbidden = set(contracts["core"]["forbidden_modules"])
    assert {f"tinhso.{m}" for m in modules - {"core"}} <= forbidden
