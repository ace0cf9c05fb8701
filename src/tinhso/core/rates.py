"""Rates of requests per client, counted in the shared cache (ADR 0027: Redis, or the
database's cache table; never per process, so every app server counts the same).

A fixed window: the first request of a key starts a counter that lives `seconds`; each
request adds one; past `most` the key is refused until the counter expires. One key per
client and purpose: no row or counter that every client's requests share.
"""

from __future__ import annotations

from django.core.cache import cache


def rate_exceeded(key: str, *, most: int, seconds: int) -> bool:
    """Count one request on `key`; whether it is past `most` within the window."""
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    return count > most
