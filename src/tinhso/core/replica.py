"""Reads that tolerate a few seconds of lag go to a PostgreSQL streaming replica (ADR 0027).

With DATABASE_REPLICA_URL set, settings add the database alias "replica" and
`ReplicaRouter` decides, query by query, where a read goes. A read goes to the replica only
when all of these hold:

* the code asked for it: inside `replica_reads()` (a context manager and decorator), which
  `ReplicaMiddleware` enters for the GET and HEAD requests of the pages and API operations
  listed in settings.TINHSO_REPLICA_VIEWS (the public catalogue, open data, tracking,
  figures), or a caller wraps around its own lag-tolerant reads;
* nothing has been written in this context (the first write pins the rest of it to the
  primary: read-your-writes within a request; writes of the tables below, always read on
  the primary anyway, pin nothing);
* the client has not written in the last TINHSO_REPLICA_PIN_SECONDS (a request that wrote
  sets a short-lived cookie; the next pages of that browser read from the primary, so a
  citizen who has just submitted sees the dossier when tracking it);
* no transaction is open on the primary (what a transaction reads is what it decides on);
* the model is not one of the accounts, sessions, admin, tasks or cache tables, which are
  always read where they are written.

Everything else (writes, the officials' work pages, the task worker, management commands)
uses the primary, as if there were no replica. Without DATABASE_REPLICA_URL the router
sends everything to "default". A replica is never migrated (`allow_migrate`): it is a copy
made by PostgreSQL's streaming replication.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
# Always read where they are written: a session, a user, a token or a sign-in lock read a
# few seconds late is a security bug, not a stale page.
PRIMARY_ONLY_APPS = frozenset(
    {"accounts", "admin", "auth", "sessions", "django_tasks_db", "django_cache"}
)
PIN_COOKIE = "tinhso_primary"

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass
class _ReadState:
    lag_tolerant: bool = False
    wrote: bool = False


_state: contextvars.ContextVar[_ReadState | None] = contextvars.ContextVar(
    "tinhso_replica_state", default=None
)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def _reads(lag_tolerant: bool) -> Iterator[_ReadState]:
    outer = _state.get()
    state = _ReadState(lag_tolerant=lag_tolerant and not (outer and outer.wrote))
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)
        if outer is not None and state.wrote:
            outer.wrote = True


class replica_reads:  # noqa: N801 (used like contextlib's context managers)
    """Reads inside may be served by the replica (see the module's rules); usable as
    `with replica_reads():` and as a decorator."""

    def __enter__(self) -> None:
        self._context = _reads(lag_tolerant=True)
        self._context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _reads(lag_tolerant=True):
                return function(*args, **kwargs)

        return cast(F, wrapper)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside go to the primary even within `replica_reads()` (e.g. a lookup that
    found nothing on the replica, in case it is too recent to be there)."""
    with _reads(lag_tolerant=False):
        yield


def read_fresh(model: type[Model], read: Callable[[str], T | None]) -> T | None:
    """`read(alias)` where reads of `model` go now; when that is the replica and it finds
    nothing, once more on the primary: perhaps written a moment ago and not replayed yet."""
    alias = read_database(model)
    found = read(alias)
    if found is None and alias == REPLICA:
        found = read(DEFAULT_DB_ALIAS)
    return found


def read_database(model: type[Model] | None = None) -> str:
    """Where a read of `model` made now would go: REPLICA or "default"."""
    state = _state.get()
    if state is None or not state.lag_tolerant or state.wrote or not replica_configured():
        return DEFAULT_DB_ALIAS
    if model is not None and model._meta.app_label in PRIMARY_ONLY_APPS:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: reads by `read_database`, writes and migrations on the
    primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        instance = hints.get("instance")
        if instance is not None and instance._state.db == DEFAULT_DB_ALIAS:
            # A relation of a row read from (or written to) the primary: read it there too.
            return DEFAULT_DB_ALIAS
        return read_database(model)

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        state = _state.get()
        # Rows that are always read on the primary (the cache table, sessions, sign-in
        # counts) need no read-your-writes: writing them pins nothing (an anonymous
        # figures answer counted and kept in the database cache is still summed on the
        # replica, and its client is not sent to the primary afterwards).
        if state is not None and model._meta.app_label not in PRIMARY_ONLY_APPS:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: one database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def _view_listed(view_name: str) -> bool:
    for listed in settings.TINHSO_REPLICA_VIEWS:
        if listed == view_name:
            return True
        if listed.endswith(":*") and view_name.startswith(listed[:-1]):
            return True
    return False


def _pinned(request: HttpRequest) -> bool:
    try:
        until = float(request.COOKIES.get(PIN_COOKIE, "0"))
    except ValueError:
        return False
    return until > time.time()


class ReplicaMiddleware:
    """Per request: a read state (so that a write pins the rest of the request to the
    primary), lag-tolerant for the safe requests of the listed views, unless the client
    wrote a moment ago; after a request that wrote, the cookie that pins the client's next
    requests to the primary for TINHSO_REPLICA_PIN_SECONDS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with _reads(lag_tolerant=False) as state:
            response = self.get_response(request)
        if replica_configured() and (
            state.wrote or request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            seconds = int(settings.TINHSO_REPLICA_PIN_SECONDS)
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.0f}",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=bool(settings.SESSION_COOKIE_SECURE),
            )
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        state = _state.get()
        match = request.resolver_match
        if (
            state is None
            or state.wrote
            or match is None
            or request.method not in ("GET", "HEAD")
            or _pinned(request)
            or not _view_listed(match.view_name)
        ):
            return
        state.lag_tolerant = True
