"""The per-number token bucket shared by all workers (Redis) and its in-process fallback."""

import time

import pytest

from messaging import ratelimit

PHONE = "100000000000001"


@pytest.fixture
def redis_bucket(settings):
    bucket = ratelimit.bucket()
    assert isinstance(bucket, ratelimit.RedisBucket), "the suite runs with REDIS_URL set"
    bucket.reset(PHONE)
    yield bucket
    bucket.reset(PHONE)


def test_reservations_are_spaced_at_the_configured_rate(redis_bucket):
    waits = [redis_bucket.acquire(PHONE, rate=10, burst=1, max_wait=5).wait for _ in range(5)]
    # The first token is in the bucket; each next one is 1/10 s later than the previous.
    assert waits[0] == pytest.approx(0, abs=0.01)
    for earlier, later in zip(waits, waits[1:]):
        assert later - earlier == pytest.approx(0.1, abs=0.01)


def test_a_reservation_beyond_max_wait_is_refused_and_not_taken(redis_bucket):
    for _ in range(3):
        redis_bucket.acquire(PHONE, rate=1, burst=1, max_wait=5)
    refused = redis_bucket.acquire(PHONE, rate=1, burst=1, max_wait=0.5)
    assert not refused.granted and refused.wait == pytest.approx(3, abs=0.05)
    # Nothing was taken: asking again with patience gets the same slot.
    assert redis_bucket.acquire(PHONE, rate=1, burst=1, max_wait=5).wait == pytest.approx(3, abs=0.05)


def test_a_pause_holds_every_worker_for_the_retry_after_time(redis_bucket):
    assert redis_bucket.paused_for(PHONE) == 0
    redis_bucket.pause(PHONE, 0.3)
    refused = redis_bucket.acquire(PHONE, rate=100, burst=1, max_wait=0.1)
    assert not refused.granted and 0.2 < refused.wait <= 0.3
    assert 0.2 < redis_bucket.paused_for(PHONE) <= 0.3  # what a worker already holding a slot checks
    time.sleep(0.31)
    assert redis_bucket.paused_for(PHONE) == 0
    assert redis_bucket.acquire(PHONE, rate=100, burst=1, max_wait=0.1).granted


def test_numbers_have_separate_buckets(redis_bucket):
    redis_bucket.pause(PHONE, 5)
    other = "100000000000002"
    redis_bucket.reset(other)
    assert redis_bucket.acquire(other, rate=80, burst=1, max_wait=0.1).granted


def test_send_slot_uses_the_numbers_own_limit(redis_bucket):
    started = time.monotonic()
    first = ratelimit.send_slot(PHONE, per_second=20)
    second = ratelimit.send_slot(PHONE, per_second=20)
    between_calls = time.monotonic() - started
    assert first.wait == pytest.approx(0, abs=0.01)
    # 20/s with the 4 % safety margin: the two slots are a little more than 50 ms apart, never
    # less. The second wait is shorter by the time that passed between the calls, at most
    # `between_calls` (a loaded machine must not make this test flaky).
    gap = second.wait - first.wait
    assert gap <= 0.053
    assert gap + between_calls >= 0.050


@pytest.mark.parametrize("per_second, catch_up", [(80, 1), (1000, 10)])
def test_slots_missed_while_every_worker_was_busy_are_caught_up_only_briefly(redis_bucket, per_second, catch_up):
    """After a while of nobody asking, 10 ms' worth of the limit (at least one message) may go at
    once; the next ones are spaced again."""
    ratelimit.send_slot(PHONE, per_second)
    time.sleep(0.3)  # every worker busy elsewhere: 0.3 s of slots pass unused
    started = time.monotonic()
    waits = [ratelimit.send_slot(PHONE, per_second).wait for _ in range(catch_up + 20)]
    elapsed = time.monotonic() - started  # new slots come due meanwhile, at the number's rate
    immediate = sum(1 for w in waits if w < 0.5 / per_second)
    assert catch_up <= immediate <= catch_up + elapsed * per_second + 1


def test_at_most_97_percent_of_the_limit_in_any_second_at_the_bucket(redis_bucket):
    """A 1000/s number kept busy for a little over a second, after a catch-up burst at the start."""
    ratelimit.send_slot(PHONE, 1000)
    time.sleep(0.3)
    slots = []
    while len(slots) < 1100:
        slots.append(time.monotonic() + ratelimit.send_slot(PHONE, 1000).wait)
    # 10 at once, then 960/s: 969 in the first second (+1 for the calls' own timing).
    assert sum(1 for at in slots if at < slots[0] + 1.0) <= 970


def test_without_redis_an_in_process_bucket_is_used(settings):
    settings.REDIS_URL = ""
    bucket = ratelimit.bucket()
    assert isinstance(bucket, ratelimit.LocalBucket)
    bucket.reset(PHONE)
    waits = [bucket.acquire(PHONE, rate=10, burst=1, max_wait=5).wait for _ in range(3)]
    assert waits[2] - waits[1] == pytest.approx(0.1, abs=0.01)
    bucket.pause(PHONE, 1)
    assert not bucket.acquire(PHONE, rate=10, burst=1, max_wait=0.1).granted
    assert 0.9 < bucket.paused_for(PHONE) <= 1
