"""Schemathesis inside the suite: the API's own OpenAPI document against the API, in
process, with no token, a citizen's and an official's: no server error, every status
returned is one the document lists, and every answer has the documented type and shape.

A bounded, repeatable run with a fixed seed: the coverage phase (the boundary and invalid
values of every parameter, numbers past the database's range among them) and 5 random
cases per operation, about a thousand cases per caller. `make fuzz` runs thousands more
against a live server.

Half of the cases that name a dossier, an agency or a procedure name a real one (chosen by
the generated value, so the run stays repeatable), and half of the bank notifications are
signed, so the cases reach the code behind the 404s and the signature check."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from flows import user
from fuzz_api import protect_tokens, sign_notification
from test_deadlines import accepted
from tinhso.accounts.models import ApiToken
from tinhso.payments.services import webhook_secret
from tinhso.wsgi import application

CONFIG = SchemathesisConfig.from_str(
    """
seed = 20261201
[phases.stateful]
enabled = false
"""
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)
# No server error, every status documented, and every answer as documented.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _one_connection(db: None) -> Iterator[None]:
    """Requests go through the real WSGI handler, which closes the database connection after
    each one; inside a test's transaction it must stay open (as Django's test client does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def caller(request: pytest.FixtureRequest, token_for: Any) -> dict[str, Any]:
    """The Authorization header of this run's caller, and the tokens it must not revoke."""
    who = request.param
    if who == "anonymous":
        return {"headers": {}, "tokens": set()}
    headers = token_for(user({"citizen": "038090000001", "official": "chuyenvien.hacthanh"}[who]))
    tokens = {str(pk) for pk in ApiToken.objects.values_list("pk", flat=True)}
    return {"headers": headers, "tokens": tokens}


class Real:
    """Things that exist, made the first time a case needs them: a dossier being processed
    at Hạc Thành (the official's ward), its agency and procedure."""

    def __init__(self, citizen: Any) -> None:
        self.citizen = citizen
        self.values: dict[str, Any] = {
            "agency": "000.02.60.H56",
            "procedure": "1.001193",
            "assignee": "chuyenvien.hacthanh",
        }

    def __getitem__(self, kind: str) -> Any:
        if kind in ("dossier", "version") and "dossier" not in self.values:
            dossier = accepted(self.citizen)
            self.values.update(dossier=dossier.code, version=dossier.version)
        return self.values[kind]


@pytest.fixture
def real(citizen: Any) -> Real:
    return Real(citizen)


def _half(value: Any) -> bool:
    return hashlib.sha256(repr(value).encode()).digest()[0] % 2 == 0


def _aim(case: Any, real: Real) -> None:
    """Point half of the cases at things that exist."""
    path = case.operation.path
    params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    if "code" in params and _half(params["code"]):
        if path.startswith(("/api/v1/dossiers/", "/api/v1/track/")):
            params["code"] = real["dossier"]
        elif path.startswith("/api/v1/agencies/"):
            params["code"] = real["agency"]
        elif path.startswith("/api/v1/procedures/"):
            params["code"] = real["procedure"]
    body = case.body if isinstance(case.body, dict) else {}
    for field, kind in (("dossier", "dossier"), ("procedure", "procedure"),
                        ("receiving_agency", "agency"), ("assignee", "assignee"),
                        ("version", "version")):  # fmt: skip
        if field in body and _half(body[field]):
            body[field] = real[kind]


@pytest.mark.parametrize("caller", ["anonymous", "citizen", "official"], indirect=True)
@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_case_with_a_documented_status_and_no_server_error(
    case: Any, caller: dict[str, Any], real: Real
) -> None:
    _aim(case, real)
    protect_tokens(case, caller["tokens"])
    sign_notification(case, webhook_secret())
    # The WSGI transport hands the body over as sent: ask for it uncompressed (responses are
    # gzipped for clients that accept it; `make fuzz` goes through real HTTP, gzip included).
    headers = {**caller["headers"], "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_every_schema_of_the_api_has_a_name_of_its_own() -> None:
    """Two modules' schemas with one name would share one OpenAPI component: the API
    would document one of them wrongly (a dossier's documents as signed documents)."""
    from ninja import Schema

    from tinhso.api import api

    api.get_openapi_schema()  # every module's schemas imported and registered
    seen: dict[str, str] = {}
    clashes = []
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__module__.startswith("tinhso."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append((seen[cls.__name__], where))
        seen[cls.__name__] = where
    assert clashes == []
