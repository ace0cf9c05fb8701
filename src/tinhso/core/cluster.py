"""Several app servers, one installation (ADR 0027): every server must sign sessions, CSRF
tokens and derived secrets with the same SECRET_KEY. A server started with a key of its
own would refuse the others' sessions at random, depending on the server a request lands
on; /healthz says so instead.

Each server puts a fingerprint of its key in the shared cache (an HMAC of a fixed text
under the key: it reveals nothing of the key) unless one is there, for a few minutes, and
compares: a server whose key differs from the one recorded reports `secret_key_differs`.
After the key is rotated on every server, the old fingerprint expires within
FINGERPRINT_SECONDS.

Times that several servers compare to decide who may do what (the outbox's leases) are
read on one clock, the database's (`database_now`), not on each server's.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

FINGERPRINT_KEY = "tinhso:secret-key-fingerprint"
FINGERPRINT_SECONDS = 300


def secret_key_fingerprint() -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"tinhso.secret-key-fingerprint", hashlib.sha256
    ).hexdigest()[:32]


def secret_key_agrees() -> bool:
    """False when another server recorded a different secret key lately."""
    mine = secret_key_fingerprint()
    recorded = cache.get(FINGERPRINT_KEY)  # one read while a fingerprint is recorded
    if recorded is None:
        cache.add(FINGERPRINT_KEY, mine, timeout=FINGERPRINT_SECONDS)
        recorded = cache.get(FINGERPRINT_KEY)
    return recorded is None or recorded == mine


def database_now() -> datetime:
    """The time on the database server (PostgreSQL's `clock_timestamp()`): one clock for
    every app server and worker, so a server whose clock runs ahead does not see another's
    lease as over. SQLite is embedded: the processes using it run on its machine and read
    its clock."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        moment: datetime = cursor.fetchone()[0]
    return moment
