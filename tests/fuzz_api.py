"""`make fuzz`: Schemathesis against the live API's OpenAPI document.

It starts its own server on a throw-away SQLite database (or the PostgreSQL of
DATABASE_URL, which must be empty: the run writes thousands of rows), loads the demo
province with its dossiers, mints a citizen's and an official's API token through the real
services, and runs Schemathesis three times (the citizen's token, the official's, no
token) with the checks `not_a_server_error` and
`status_code_conformance` (no answer may be a server error, and every status must be one
the OpenAPI document lists) and the conformance of each answer's type, headers and body to
the document. Then it stops the server.

Half of the values of the parameters that name something (a dossier, a payment, an
agency, a procedure, a paper, a user, a workflow action) come from the demo's real records,
so the cases reach the code behind the 404s. Bank notifications are signed with the
server's webhook secret half of the time, so their parsing is fuzzed too, not only the
signature check.

The module is also Schemathesis' hooks module (SCHEMATHESIS_HOOKS=fuzz_api) and the
helpers of tests/test_fuzz.py, the smaller run inside the test suite.

    FUZZ_EXAMPLES (150 per operation), FUZZ_SEED (1), DATABASE_URL (a throw-away SQLite)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis

from processes import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CITIZEN = "038090000001"
OFFICIAL = "tiepnhan.hacthanh"
# No server error and every status documented (what the issue asks), and every answer of
# the documented type, headers and shape.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
CALLBACK_PATH = "/api/v1/payments/callback"

# --- Schemathesis hooks (the CLI imports this module through SCHEMATHESIS_HOOKS) ----------

# The run's own tokens: revoking them through DELETE /auth/tokens/{id} would leave the rest
# of the run with nothing but 401s.
PROTECTED_TOKENS = {
    x.strip() for x in os.environ.get("TINHSO_FUZZ_PROTECTED_TOKENS", "").split(",") if x.strip()
}
WEBHOOK_SECRET = os.environ.get("TINHSO_FUZZ_WEBHOOK_SECRET", "").encode()


def protect_tokens(case: Any, protected: set[str]) -> None:
    """A DELETE of one of the run's own tokens goes to an id no token has instead."""
    parameters = case.path_parameters
    if (
        case.method.upper() == "DELETE"
        and isinstance(parameters, dict)
        and str(parameters.get("token_id")) in protected
    ):
        parameters["token_id"] = 2**63 - 1


def sign_notification(case: Any, secret: bytes) -> None:
    """Half of the bank notifications (chosen by their content, so a run is repeatable)
    are sent as raw JSON signed like the bank signs, so their parsing is reached."""
    if not secret or case.method.upper() != "POST" or not case.path.endswith("/callback"):
        return
    if isinstance(case.body, bytes | bytearray):
        body = bytes(case.body)
    else:
        try:
            body = json.dumps(case.body).encode()
        except (TypeError, ValueError):
            return
    if hashlib.sha256(body).digest()[0] % 2:
        return
    case.body = body
    headers = dict(case.headers or {})
    headers["X-Signature"] = "sha256=" + hmac.new(secret, body, "sha256").hexdigest()
    case.headers = headers


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    protect_tokens(case, PROTECTED_TOKENS)
    sign_notification(case, WEBHOOK_SECRET)


# --- Real values for the parameters ---------------------------------------------------------


ACTIONS = [
    "accept",
    "refuse",
    "ask_supplement",
    "supplement",
    "ask_more",
    "supplemented",
    "assign",
    "forward",
    "send_back",
    "request_payment",
    "paid",
    "approve",
    "issue",
    "return_result",
    "withdraw",
    "stop",
    "send_to_police",
    "police_reply",
]


def real_values() -> dict[str, list[Any]]:
    """Names of things that exist in the demo, by kind (call with Django set up)."""
    from tinhso.accounts.models import User
    from tinhso.agencies.models import Agency
    from tinhso.catalog.models import Procedure, ProcedureField, RequiredPaper
    from tinhso.dossiers.inbox import BOXES
    from tinhso.dossiers.models import Dossier, StoredPaper
    from tinhso.dossiers.selectors import dossiers_visible_to
    from tinhso.payments.models import Payment
    from tinhso.signing.models import SignedDocument

    citizen = User.objects.get(username=CITIZEN)
    official = User.objects.get(username=OFFICIAL)
    codes = [
        *dossiers_visible_to(citizen).exclude(code=None).values_list("code", flat=True)[:10],
        *dossiers_visible_to(official).exclude(code=None).values_list("code", flat=True)[:20],
        *Dossier.objects.exclude(code=None).order_by("?").values_list("code", flat=True)[:10],
    ]
    values: dict[str, list[Any]] = {
        "dossiers": codes,
        "payments": list(Payment.objects.values_list("reference", flat=True)[:20]),
        "documents": list(SignedDocument.objects.values_list("public_id", flat=True)[:20]),
        "agencies": list(
            Agency.objects.filter(memberships__isnull=False)
            .distinct()
            .values_list("code", flat=True)[:30]
        ),
        "procedures": list(Procedure.objects.values_list("code", flat=True)[:30]),
        "fields": list(ProcedureField.objects.values_list("code", flat=True)[:20]),
        "papers": list(RequiredPaper.objects.values_list("pk", flat=True)[:60]),
        "stored_papers": list(
            StoredPaper.objects.filter(owner=citizen).values_list("pk", flat=True)[:10]
        ),
        "usernames": list(User.objects.values_list("username", flat=True)[:40]),
        "personal_ids": list(
            User.objects.exclude(personal_id=None).values_list("personal_id", flat=True)[:20]
        ),
        "actions": ACTIONS,
        "boxes": [b.slug for b in BOXES],
        "versions": list(range(1, 12)),
    }
    numbers = {"papers", "stored_papers", "versions"}
    return {k: [x if k in numbers else str(x) for x in v] for k, v in values.items() if v}


# Where each kind of real value goes: (operation path regex or None for all, parameter key).
BINDINGS: list[tuple[str | None, str, str]] = [
    (r"^/api/v1/(dossiers|track)/\{code\}", "path.code", "dossiers"),
    (r"^/api/v1/agencies/\{code\}", "path.code", "agencies"),
    (r"^/api/v1/procedures/\{code\}", "path.code", "procedures"),
    (r"^/api/v1/payments/\{reference\}", "path.reference", "payments"),
    (r"^/api/v1/verify/\{public_id\}", "path.public_id", "documents"),
    (None, "query.agency", "agencies"),
    (None, "query.parent", "agencies"),
    (None, "query.field", "fields"),
    (None, "query.box", "boxes"),
    (None, "body.procedure", "procedures"),
    (None, "body.receiving_agency", "agencies"),
    (None, "body.applicant", "personal_ids"),
    (None, "body.personal_id", "personal_ids"),
    (None, "body.attachments[*].paper", "papers"),
    (None, "body.attachments[*].stored_paper", "stored_papers"),
    (None, "body.action", "actions"),
    (None, "body.assignee", "usernames"),
    (None, "body.username", "usernames"),
    (None, "body.version", "versions"),
    (None, "body.dossier", "dossiers"),
    (None, "body.reference", "payments"),
]


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # TOML's basic strings and arrays read so


def config_toml(values: Mapping[str, list[Any]], probability: float = 0.5) -> str:
    """A schemathesis.toml binding the real values to the parameters that name them."""
    lines = []
    for name, items in values.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(items)}", ""]
    general = [(key, kind) for where, key, kind in BINDINGS if where is None and kind in values]
    lines.append("[parameters]")
    lines += [
        f"{_toml(key)} = {{ dictionary = {_toml(kind)}, probability = {probability} }}"
        for key, kind in general
    ]
    lines.append("")
    for where, key, kind in BINDINGS:
        if where is None or kind not in values:
            continue
        lines += [
            "[[operations]]",
            f"include-path-regex = {_toml(where)}",
            f"parameters = {{ {_toml(key)} = {{ dictionary = {_toml(kind)}, "
            f"probability = {probability} }} }}",
            "",
        ]
    return "\n".join(lines)


def _setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    django.setup()


def database_is_empty() -> bool:
    _setup_django()
    from tinhso.agencies.models import Agency

    return not Agency.objects.exists()


def prepare() -> dict[str, Any]:
    """Mint the run's tokens through the real services and gather the real values (run as
    `python fuzz_api.py prepare` in the server's environment)."""
    _setup_django()
    from tinhso.accounts.models import User
    from tinhso.accounts.services import api_token_create

    tokens = {}
    for who, username in (("citizen", CITIZEN), ("official", OFFICIAL)):
        row, plain = api_token_create(user=User.objects.get(username=username), name="fuzz")
        tokens[who] = {"id": row.pk, "token": plain}
    return {"tokens": tokens, "values": real_values()}


# --- The run ----------------------------------------------------------------------------------


@contextmanager
def _server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    output = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "tinhso.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
        env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        output.close()


def main() -> int:
    examples = os.environ.get("FUZZ_EXAMPLES", "150")
    seed = os.environ.get("FUZZ_SEED", "1")
    work = Path(tempfile.mkdtemp(prefix="tinhso-fuzz-"))
    secret = hashlib.sha256(os.urandom(32)).hexdigest()
    env = {
        **os.environ,
        "SECRET_KEY": hashlib.sha256(os.urandom(32)).hexdigest(),
        "DEBUG": "0",
        "TINHSO_DATA_DIR": str(work),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TINHSO_BANK_WEBHOOK_SECRET": secret,
        "PYTHONPATH": str(ROOT / "tests"),
    }
    where = "PostgreSQL (DATABASE_URL)" if env.get("DATABASE_URL") else f"SQLite in {work}"
    print(f"fuzz: {where}; seeding the demo province …", flush=True)
    tinhso = str(BIN / "tinhso")
    try:
        subprocess.run([tinhso, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        empty = subprocess.run([sys.executable, __file__, "empty"], env=env, check=False)
        if empty.returncode != 0:
            # The run writes thousands of rows, and the files of a database seeded elsewhere
            # are not in this run's folder.
            print("fuzz: DATABASE_URL must name an empty database (e.g. createdb tinhso_fuzz)")
            return 2
        subprocess.run([tinhso, "seed_demo"], env=env, check=True)
        prepared = json.loads(
            subprocess.run(
                [sys.executable, __file__, "prepare"], env=env, check=True, capture_output=True
            ).stdout
        )
        config = work / "schemathesis.toml"
        config.write_text(config_toml(prepared["values"]), encoding="utf-8")
        tokens = prepared["tokens"]
        hooks_env = {
            **env,
            "SCHEMATHESIS_HOOKS": "fuzz_api",
            "TINHSO_FUZZ_PROTECTED_TOKENS": ",".join(str(t["id"]) for t in tokens.values()),
            "TINHSO_FUZZ_WEBHOOK_SECRET": secret,
        }
        worst = 0
        log = ROOT / "var" / "fuzz-server.log"
        print(f"fuzz: the server's log is {log}", flush=True)
        with _server(env, free_port(), log) as url:
            for who in ("citizen", "official", "anonymous"):
                print(f"\nfuzz: {who} ({examples} cases per operation, seed {seed})", flush=True)
                headers = []
                if who in tokens:
                    headers = ["-H", f"Authorization: Bearer {tokens[who]['token']}"]
                run = subprocess.run(
                    [str(BIN / "schemathesis"), "--config-file", str(config), "run",
                     f"{url}/api/v1/openapi.json", "--checks", CHECKS, "--max-examples",
                     examples, "--seed", seed, "--workers", "2", "--generation-database",
                     "none", "--no-color", *headers],
                    env=hooks_env, cwd=work, check=False,
                )  # fmt: skip
                worst = max(worst, run.returncode)
        return worst
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        print(json.dumps(prepare()))
    elif sys.argv[1:] == ["empty"]:
        sys.exit(0 if database_is_empty() else 1)
    else:
        sys.exit(main())
