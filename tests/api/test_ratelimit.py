"""The per-key counter: shared through Redis, one window a minute, Retry-After = time to the next window."""

import secrets

import pytest

from messaging.api.ratelimit import rate_limit_check


@pytest.mark.parametrize("redis_url", ["from settings", ""])
def test_the_limit_counts_per_window_and_tells_when_to_retry(settings, redis_url):
    if redis_url == "":
        settings.REDIS_URL = ""  # the SQLite demo: Django's cache counts instead
    counter = secrets.token_hex(6)
    start = 1_800_000_000 - 1_800_000_000 % 60  # a window boundary
    assert rate_limit_check(counter, 2, now=start + 10) is None
    assert rate_limit_check(counter, 2, now=start + 20) is None
    assert rate_limit_check(counter, 2, now=start + 45.5) == 15  # seconds until start + 60
    assert rate_limit_check(counter, 2, now=start + 60) is None  # a new window
    assert rate_limit_check(secrets.token_hex(6), 2, now=start + 45) is None  # another key, its own count
