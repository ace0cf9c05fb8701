""" "Adding a module" (docs/ARCHITECTURE.md), enforced where a test can: the roles modules
register and the roles anything names agree, every model and service says what it is, and
every permission answers for anyone. (That every route of a module is in a permission
matrix is tests/test_route_coverage.py.)"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.test import Client

from permissions import Scene
from tinhso.accounts.models import Membership
from tinhso.accounts.policies import (
    may,
    permission_record,
    permissions,
    purposes,
)
from tinhso.cases.models import Workflow
from tinhso.cases.subjects import subjects
from tinhso.cases.workflow import workflow_parse
from tinhso.core.roles import roles

pytestmark = pytest.mark.django_db


def registered() -> set[str]:
    return {role.code for role in roles()}


def named_by_purposes() -> dict[str, set[str]]:
    return {p.code: set(p.roles | p.roles_anywhere) for p in purposes()}


def named_by_workflows() -> dict[str, set[str]]:
    """The roles each stored workflow's actions name (and assign to), and those each
    subject type lets its workflows name."""
    named: dict[str, set[str]] = {}
    for row in Workflow.objects.all():
        graph = workflow_parse(row.definition, subject=row.subject)
        named[f"workflow {row.code}"] = {
            role
            for action in graph.actions.values()
            for role in (*action.roles, *([action.assigns] if action.assigns else []))
        }
    for subject in subjects():
        named[f"subject type {subject.code}"] = set(subject.roles)
    return named


def test_every_role_named_anywhere_is_registered_by_a_module() -> None:
    named = {
        **{f"purpose {k}": v for k, v in named_by_purposes().items()},
        **named_by_workflows(),
        "memberships": set(Membership.objects.values_list("role", flat=True)),
    }
    assert Workflow.objects.exists()
    assert named["memberships"]
    unknown = {where: roles - registered() for where, roles in named.items()}
    assert {where: roles for where, roles in unknown.items() if roles} == {}


def test_every_registered_role_is_used_by_a_purpose_or_a_workflow() -> None:
    used = set().union(*named_by_purposes().values(), *named_by_workflows().values())
    assert registered() - used == set()


def _tinhso_apps() -> list[tuple[str, list[type[Model]]]]:
    return [
        (config.name, list(config.get_models()))
        for config in apps.get_app_configs()
        if config.name.startswith("tinhso.")
    ]


def _documented(model: type[Model]) -> bool:
    doc = (model.__dict__.get("__doc__") or "").strip()
    # Django writes "Name(field, field, …)" for a model without a docstring.
    return bool(doc) and not doc.startswith(f"{model.__name__}(")


def test_every_model_says_what_it_is() -> None:
    undocumented = [
        f"{module}.{model.__name__}"
        for module, models in _tinhso_apps()
        for model in models
        if not _documented(model)
    ]
    assert undocumented == []


def _services(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"{module}.services")
    except ModuleNotFoundError:
        return None


def test_every_service_says_what_it_does() -> None:
    checked, undocumented = 0, []
    for module, models in _tinhso_apps():
        services = _services(module)
        if not models or services is None:
            continue
        for name, function in inspect.getmembers(services, inspect.isfunction):
            if function.__module__ != services.__name__ or name.startswith("_"):
                continue
            checked += 1
            if not inspect.getdoc(function):
                undocumented.append(f"{services.__name__}.{name}")
    assert checked > 50
    assert undocumented == []


def test_every_permission_answers_for_anonymous(client: Client) -> None:
    """Each registered permission, asked for an anonymous visitor (and for no one: a task)
    about a record of the type it declares, answers instead of raising."""
    scene = Scene(client)
    records = {
        type(row): row
        for row in (scene.dossier, scene.bm01, scene.payment, scene.applicant, scene.report,
                    scene.application, scene.signal, scene.outgoing,
                    scene.incoming)
    }  # fmt: skip
    assert permissions()
    for code in permissions():
        kind = permission_record(code)
        record = None if kind is None else records.get(kind)
        assert kind is None or record is not None, f"no {kind} on the scene for {code}"
        for nobody in (AnonymousUser(), None):
            assert may(nobody, code, record) in (True, False), code
