"""Per-API-key request limit: a fixed one-minute window counted in Redis (settings.REDIS_URL).

Every web process sees the same counter; INCR and EXPIRE go in one pipelined round trip. Fixed
windows let a client burst up to twice the limit across a window boundary; that is accepted for a
per-key fairness limit (Meta's own throughput is guarded by the per-number bucket in
messaging.ratelimit). Without REDIS_URL (the SQLite demo) Django's cache counts, per process.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _count(key: str) -> int:
    if settings.REDIS_URL:
        pipe = _redis(settings.REDIS_URL).pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 5)
        return int(pipe.execute()[0])
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        return 1


def rate_limit_check(counter_id: str, limit: int, now: float | None = None) -> int | None:
    """Count one request; None when allowed, else the seconds until the window resets (Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = _count(f"wabadesk:publicapi:rl:{counter_id}:{window}")
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
