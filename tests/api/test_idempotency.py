"""Idempotency-Key: the same request replays the first answer, a different one is refused, one in
flight is 409 — and 50 identical requests at once create one message and call Meta once."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from messaging.api.models import IdempotencyRecord
from messaging.models import Message
from tests.api.conftest import BLACKLISTED, graph_error, meta_sends, post, template_body, text_body


def test_the_same_key_and_body_replays_the_first_response(client, world, key):
    first = post(client, key, text_body(), **{"Idempotency-Key": "order-1-shipped"})
    second = post(client, key, text_body(), **{"Idempotency-Key": "order-1-shipped"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1 and len(meta_sends(world)) == 1


def test_a_replayed_error_is_the_first_error(client, world, key):
    first = post(client, key, text_body(to=BLACKLISTED), **{"Idempotency-Key": "k1", "X-Request-Id": "first"})
    again = post(client, key, text_body(to=BLACKLISTED), **{"Idempotency-Key": "k1", "X-Request-Id": "second"})
    graph_error(again, 422, 131000, "recipient_blacklisted")
    assert again.json() == first.json()  # including the first request's fbtrace_id


def test_the_same_key_with_a_different_body_is_100_409(client, world, key):
    post(client, key, text_body(), **{"Idempotency-Key": "reuse-me"})
    error = graph_error(post(client, key, text_body(text="Another text"), **{"Idempotency-Key": "reuse-me"}),
                        409, 100, "idempotency_key_reused")
    assert "different" in error["message"]
    assert Message.objects.count() == 1


def test_keys_are_per_api_key(client, world, make_key):
    one, two = make_key(), make_key()
    post(client, one, text_body(), **{"Idempotency-Key": "shared"})
    response = post(client, two, template_body(), **{"Idempotency-Key": "shared"})
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert Message.objects.count() == 2


def test_a_key_older_than_24_hours_still_sends_its_message_once_and_no_other(client, world, key):
    def a_day_later():
        IdempotencyRecord.objects.update(created_at=IdempotencyRecord.objects.get().created_at - timedelta(hours=25))

    first = post(client, key, text_body(), **{"Idempotency-Key": "old"})
    a_day_later()
    # The replay is over, not the message: the same request again answers with it and sends nothing…
    again = post(client, key, text_body(), **{"Idempotency-Key": "old"})
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert again.json() == first.json()
    a_day_later()
    # …and a new message under the old key is refused rather than answered with the old one.
    error = graph_error(post(client, key, text_body(text="New day"), **{"Idempotency-Key": "old"}),
                        409, 100, "idempotency_key_reused")
    assert "already used for a different message" in error["message"]
    assert Message.objects.count() == 1 and len(meta_sends(world)) == 1


def test_a_transient_failure_is_not_kept_so_a_retry_runs_again(client, world, key, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    world.add_fault(path="/messages$", times=50, code=1, status=500, message="An unknown error occurred")
    graph_error(post(client, key, template_body(), **{"Idempotency-Key": "retry"}), 500, 131000)
    assert not IdempotencyRecord.objects.exists()


def _in_thread(results, key, body, headers, index=None):
    try:
        response = post(Client(), key, body, **headers)
        results.append((response.status_code, response.json(), dict(response.headers)))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_request_while_the_first_is_in_flight_is_131000_409(world, key):
    world.add_fault(path="/messages$", delay=1.5)  # Meta answers slowly: the first request stays in flight
    results = []
    headers = {"Idempotency-Key": "slow-one"}
    first = threading.Thread(target=_in_thread, args=(results, key, template_body(), headers))
    first.start()
    deadline = time.time() + 5
    while not IdempotencyRecord.objects.exists() and time.time() < deadline:
        time.sleep(0.02)
    second = post(Client(), key, template_body(), **headers)
    first.join()
    graph_error(second, 409, 131000, "idempotency_in_flight")
    assert results[0][0] == 200
    replay = post(Client(), key, template_body(), **headers)
    assert replay.status_code == 200 and replay.json() == results[0][1]
    assert len(world.messages()) == 1


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_identical_requests_create_one_message_and_call_meta_once(world, key):
    world.add_fault(path="/messages$", delay=0.3)
    results, barrier = [], threading.Barrier(50)
    headers = {"Idempotency-Key": "burst-1"}

    def run():
        barrier.wait()
        _in_thread(results, key, template_body(), headers)

    threads = [threading.Thread(target=run) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _, _ in results)
    assert len(results) == 50
    assert set(statuses) <= {200, 409}, statuses
    assert Message.objects.count() == 1
    assert len(world.messages()) == 1 and len(meta_sends(world)) == 1
    # Every success is the same answer (one original, the rest replays); every 409 says "in flight".
    # Compared as JSON values: a replay comes from a jsonb column, which keeps no key order.
    assert len({json.dumps(body, sort_keys=True) for status, body, _ in results if status == 200}) == 1
    assert all(body["error"]["error_data"]["reason"] == "idempotency_in_flight"
               for status, body, _ in results if status == 409)


def test_the_hourly_purge_drops_only_records_past_24_hours(client, world, key):
    from messaging.api.services import idempotency_purge

    post(client, key, text_body(), **{"Idempotency-Key": "keep"})
    post(client, key, template_body(), **{"Idempotency-Key": "drop"})
    IdempotencyRecord.objects.filter(key="drop").update(created_at=IdempotencyRecord.objects.get(key="drop").created_at
                                                        - timedelta(hours=24, seconds=1))
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["keep"]


def test_a_claim_abandoned_by_a_crashed_request_is_taken_over_after_two_minutes(client, world, key):
    import json

    from django.utils import timezone

    from messaging.api.models import ApiKey
    from messaging.api.payloads import fingerprint, parse_send_request
    from sandbox import demo

    body = template_body()
    stuck = IdempotencyRecord.objects.create(
        api_key=ApiKey.objects.get(), key="crashed", created_at=timezone.now() - timedelta(minutes=3),
        body_hash=fingerprint(demo.PHONE_MAIN, False, parse_send_request(json.dumps(body).encode())))
    response = post(client, key, body, **{"Idempotency-Key": "crashed"})
    assert response.status_code == 200, response.content
    stuck.refresh_from_db()
    assert stuck.state == IdempotencyRecord.DONE and len(world.messages()) == 1
    # A fresh claim (under two minutes) is still "in flight".
    IdempotencyRecord.objects.create(api_key=ApiKey.objects.get(), key="fresh", body_hash=stuck.body_hash)
    graph_error(post(client, key, body, **{"Idempotency-Key": "fresh"}), 409, 131000, "idempotency_in_flight")
