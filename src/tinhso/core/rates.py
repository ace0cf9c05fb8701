"""Rates of requests per client, counted in the shared cache (ADR 0027: Redis, or the
database's cache table; never per process, so every app server counts the same).

Fixed windows of `seconds` aligned on the clock: each window of a key is a counter of its
own (the window's number is in the cache key), so whatever a cache backend does to a
counter's expiry when it is incremented (the database cache sets it anew), a window ends
on time. One key per client and purpose: no row or counter that every client shares. On
Redis the count is atomic (INCR); on the database cache an increment is a read and a write,
so requests at the same instant may be counted once: a limit, not an exact tally.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def rate_exceeded(key: str, *, most: int, seconds: int) -> int:
    """Count one request on `key`: 0 while the window holds at most `most`, otherwise
    the seconds until the window ends (for Retry-After)."""
    now = time.time()
    window = int(now // seconds)
    slot = f"{key}:{window}"
    cache.add(slot, 0, seconds)
    try:
        count = cache.incr(slot)
    except ValueError:  # expired between add and incr
        cache.set(slot, 1, seconds)
        count = 1
    if count <= most:
        return 0
    return max(1, int((window + 1) * seconds - now + 0.999))
