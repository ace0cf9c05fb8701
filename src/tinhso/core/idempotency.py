"""The `Idempotency-Key` header of the API's creating requests (ADR 0021).

A client that sends a key may retry a request whose answer it never got: the same key with
the same request gets what the first one created (200) and creates nothing; the same key
with another request is refused (409 `idempotency_conflict`). Keys are scoped per user and
per operation, so two users, or one user's dossier and payment, never collide.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tinhso.core.errors import DomainError
from tinhso.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_MAX = 255

M = TypeVar("M", bound=models.Model)


class IdempotencyConflictError(DomainError):
    """The key was used before with a different request."""

    status = 409
    code = "idempotency_conflict"

    def __init__(self) -> None:
        super().__init__(_("This Idempotency-Key was used with a different request."))


@dataclass(frozen=True)
class Outcome(Generic[M]):
    """What a creating request is answered with: the object, and whether this request
    created it (201) or an earlier one with the same key did (200)."""

    result: M
    created: bool


def idempotency_key(request: HttpRequest) -> str:
    """The request's Idempotency-Key ("" when it sent none)."""
    return request.headers.get(HEADER, "").strip()[:KEY_MAX]


def request_digest(data: Mapping[str, object]) -> str:
    """SHA-256 of the request's canonical JSON (keys sorted), which a retry must match."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _earlier(user: AbstractBaseUser, operation: str, key: str, digest: str) -> models.Model | None:
    """What the key's earlier request created; None when the key is unused (or what it
    created has since been deleted, which frees the key as the old foreign keys did)."""
    record = IdempotencyKey.objects.filter(user_id=user.pk, operation=operation, key=key).first()
    if record is None:
        return None
    found: models.Model | None = record.result
    if found is None:
        record.delete()
        return None
    if record.request_digest != digest:
        raise IdempotencyConflictError
    return found


def idempotency_run(
    *,
    user: AbstractBaseUser,
    operation: str,
    key: str,
    request: Mapping[str, object],
    create: Callable[[], M],
) -> Outcome[M]:
    """Run `create` once for `user`'s `key` of `operation` (e.g. "dossiers.create"):
    without a key it simply runs; with a key already used for the same `request` (the
    parsed body and path parameters) it returns what that request created, untouched; with
    a key used for another request it raises IdempotencyConflictError. `create` and the
    key's record commit in one transaction, so a request that fails leaves its key unused.

    Two requests racing on one key may both run `create`: the one that records the key
    second fails on the key's unique constraint, which rolls its work back, and answers
    with the first one's object."""
    if not key:
        # Nothing to record: `create` (a service) opens the transaction it needs, and the
        # request's reads and checks before it (an upload parsed whole) hold none open.
        return Outcome(create(), created=True)
    digest = request_digest(request)
    earlier = _earlier(user, operation, key, digest)
    if earlier is not None:
        return Outcome(cast(M, earlier), created=False)
    recording = False
    try:
        with transaction.atomic():
            result = create()
            recording = True
            IdempotencyKey.objects.create(
                user_id=user.pk, operation=operation, key=key, request_digest=digest,
                result=result,
            )  # fmt: skip
    except IntegrityError:
        if not recording:
            raise  # from `create` itself: not about the key
        # The same key raced in from another request, which committed first.
        earlier = _earlier(user, operation, key, digest)
        if earlier is None:
            raise IdempotencyConflictError from None
        return Outcome(cast(M, earlier), created=False)
    return Outcome(result, created=True)
