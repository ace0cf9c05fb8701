"""Every route of the site is in a permission matrix (tests/permissions.py).

The site's routes are read from the site itself: every URL pattern of Django's resolver
(the admin's included), every operation of the API's OpenAPI document
(/api/v1/openapi.json) and every action of the CKAN Action API. The matrices are the
`ROUTES` of tests/test_permissions.py and tests/test_matrix_*.py; each route's address is
resolved, so a matrix names the route the site really answers with. A route added to the
site and to no matrix fails here: add it to its module's matrix (who gets what from it).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from permissions import MEMBERSHIPS, Route, Scene, agency
from tinhso.opendata.ckan import ACTIONS

pytestmark = pytest.mark.django_db

MATRICES = [
    "test_permissions",
    *sorted(p.stem for p in Path(__file__).parent.glob("test_matrix_*.py")),
]
CKAN = "api/3/action/<str:name>"  # one route per action: "ckan:<action>"

# Routes no matrix can request meaningfully, each with the reason. Keep it short: a route
# that can be requested belongs in its module's matrix.
ALLOWED: dict[str, str] = {}


def _join(prefix: str, route: str) -> str:
    # As Django's resolver joins an include's route to its patterns' (ResolverMatch.route).
    return prefix + route.removeprefix("^") if prefix else route


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for pattern in resolver.url_patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            found += _patterns(pattern, route)
        else:
            found.append((route, pattern))
    return found


def site_routes(client: Client) -> set[str]:
    """Every route of the site: Django's patterns (the API's operations and the CKAN
    actions counted one by one instead of by their shared pattern)."""
    routes = {
        route
        for route, pattern in _patterns(get_resolver())
        # The API's operations come from its OpenAPI document below.
        if not pattern.callback.__module__.startswith("ninja.operation") and route != CKAN
    }
    document = client.get("/api/v1/openapi.json").json()
    routes |= {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes |= {f"ckan:{name}" for name in ACTIONS}
    return routes


def matrix_routes() -> list[tuple[str, Route]]:
    found = []
    for name in MATRICES:
        module = importlib.import_module(name)
        assert module.ROUTES, f"{name} declares no ROUTES"
        found += [(name, route) for route in module.ROUTES]
    return found


def covered_by(route: Route, scene: Scene) -> str:
    """The site's route a matrix route is answered by."""
    if route.route.startswith(("/api/", "ckan:")):
        return f"{route.method} {route.route}" if route.route.startswith("/") else route.route
    address = route.address(scene)
    match = resolve(address.split("?")[0])
    if route.path is None:
        # The matrix names the pattern it requests, as the site declares it.
        assert match.route == route.route, f"{route}: {address} is answered by {match.route}"
    return match.route


def test_every_route_of_the_site_is_in_a_matrix(client: Client) -> None:
    scene = Scene(client)
    site = site_routes(client)
    covered: dict[str, list[str]] = {}
    for module, route in matrix_routes():
        covered.setdefault(covered_by(route, scene), []).append(module)
    unknown = set(covered) - site
    assert not unknown, f"matrices name routes the site does not have: {sorted(unknown)}"
    missing = site - set(covered) - set(ALLOWED)
    assert not missing, "routes in no permission matrix:\n" + "\n".join(sorted(missing))
    stale = set(ALLOWED) - (site - set(covered))
    assert not stale, f"allowed without a matrix, but in one or gone: {sorted(stale)}"


def test_the_site_has_the_routes_the_matrices_are_read_against(client: Client) -> None:
    # What the walk finds is the site, not an empty list: pages, the admin, API, CKAN.
    site = site_routes(client)
    for route in ("thanh-toan/<str:reference>/", "quan-tri/accounts/user/",
                  "GET /api/v1/payments/{reference}", "ckan:package_create"):  # fmt: skip
        assert route in site
    assert len(site) > 150


def test_the_cast_holds_the_roles_the_matrices_say(client: Client) -> None:
    """tests/permissions.py's MEMBERSHIPS (what `serving` reads) is what the database
    holds for each official of the cast."""
    scene = Scene(client)
    held = {
        actor: {(m.agency.pk, m.role) for m in person.memberships.filter(is_active=True)}
        for actor, person in scene.matrix.people.items()
        if person is not None and person.kind == "official"
    }
    said = {
        actor: {(agency(where).pk, role) for where, role in roles}
        for actor, roles in MEMBERSHIPS.items()
    }
    assert held == said
