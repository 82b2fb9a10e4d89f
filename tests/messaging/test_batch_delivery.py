"""Bulk sends are delivered in batches: one task for many messages, the same rules as one message.

Each message of a batch is still claimed (queued → sending) before its POST, takes its own slot of
the number's bucket, and is re-checked for consent, blacklist and a cancelled broadcast right before
sending. A batch delivered twice sends nothing twice, and a rate limit hands the rest back to the
queue instead of holding the worker.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import Contact
from messaging import ratelimit, services
from messaging.models import Broadcast, Message, Template
from messaging.tasks import message_deliver_batch_task
from sandbox import demo


def phones(n, start=0):
    return [f"+1415556{i:04d}" for i in range(start, start + n)]


@pytest.fixture
def queued(make_contact):
    """queued(n) → n template messages stored by the send path but not yet handed to any task."""

    def make(n, start=0, **send_kwargs):
        messages = []
        for phone in phones(n, start):
            make_contact(phone, window_open=False)
            messages.append(services.message_send(phone_number_id=demo.PHONE_MAIN, to=phone, template="order_update",
                                                  enqueue=False, **send_kwargs))
        return messages

    return make


def posts(sandbox):
    return [c for c in sandbox.calls() if c["method"] == "POST" and c["path"].endswith("/messages")]


def test_the_batch_task_sends_each_message_exactly_once(world, queued, settings):
    settings.MESSAGING_CLAIM_GROUP = 20
    messages = queued(25)  # more than one claim group
    message_deliver_batch_task.apply(args=[[m.pk for m in messages]])
    assert len(posts(world.sandbox)) == 25
    assert sorted(m["biz_opaque_callback_data"] for m in world.sandbox.messages()) == sorted(
        m.idempotency_key for m in messages)
    stored = Message.objects.filter(pk__in=[m.pk for m in messages])
    assert {(m.status, m.attempts) for m in stored} == {("sent", 1)}
    assert all(m.wamid and m.sent_at for m in stored)
    assert {m.wamid for m in stored} == {m["id"] for m in world.sandbox.messages()}


def test_message_send_without_enqueue_stores_the_message_and_sends_nothing(world, queued):
    [message] = queued(1)
    assert message.status == "queued"
    assert world.sandbox.messages() == []


def test_a_redelivered_batch_sends_nothing_twice(world, queued):
    ids = [m.pk for m in queued(5)]
    # A killed worker's batch comes back (acks_late + reject_on_worker_lost), even with the same id twice.
    message_deliver_batch_task.apply(args=[ids])
    message_deliver_batch_task.apply(args=[ids])
    message_deliver_batch_task.apply(args=[ids + ids[:2]])
    assert len(posts(world.sandbox)) == 5
    assert {(m.status, m.attempts) for m in Message.objects.all()} == {("sent", 1)}


def test_a_message_left_in_sending_is_not_resent_by_a_redelivered_batch(world, queued):
    first, second, third = queued(3)
    # The worker died after claiming `second`: Meta may have it, so only reconciliation may touch it.
    Message.objects.filter(pk=second.pk).update(status="sending", attempts=1)
    message_deliver_batch_task.apply(args=[[first.pk, second.pk, third.pk]])
    assert sorted(m["biz_opaque_callback_data"] for m in world.sandbox.messages()) == sorted(
        [first.idempotency_key, third.idempotency_key])
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("sending", 1)


def test_who_may_no_longer_be_messaged_is_cancelled_with_the_reason_and_never_reaches_meta(
        world, queued, operator_user):
    from consent.models import Contact
    from consent.services import consent_record

    broadcast = Broadcast.objects.create(template=Template.objects.get(name="order_update"), phone_number=world.phone,
                                         created_by=operator_user)
    fine, opted_out, blacklisted = queued(3)
    [in_broadcast] = queued(1, start=3, broadcast=broadcast)
    # All of this happens while the batch waits in the queue.
    consent_record(Contact.objects.get(phone=opted_out.to), "opt_out", "whatsapp_keyword", operator_user, note="STOP")
    services.blacklist_add(blacklisted.to, "complaint", operator_user)
    # A cancel that lands just after the chunk queued its message (broadcast_cancel's own sweep missed it).
    Broadcast.objects.filter(pk=broadcast.pk).update(status=Broadcast.Status.CANCELLED)

    message_deliver_batch_task.apply(args=[[in_broadcast.pk, opted_out.pk, fine.pk, blacklisted.pk]])

    assert [m["biz_opaque_callback_data"] for m in world.sandbox.messages()] == [fine.idempotency_key]
    outcome = dict(Message.objects.values_list("pk", "skipped_reason"))
    assert outcome == {fine.pk: "", opted_out.pk: "opted_out_after_queueing",
                       blacklisted.pk: "blacklisted_after_queueing", in_broadcast.pk: "broadcast_cancelled"}
    assert set(Message.objects.exclude(pk=fine.pk).values_list("status", flat=True)) == {"cancelled"}


def test_a_rate_limit_mid_batch_pauses_the_number_and_hands_the_rest_back_to_the_queue(world, queued):
    messages = queued(5)
    ids = [m.pk for m in messages]
    # Meta accepts 2 per second on this number; the third POST gets 130429 with Retry-After.
    world.sandbox.set_rate_limit(world.phone.phone_number_id, per_second=2, retry_after=0.5)

    later = services.message_deliver_many(ids)

    assert later.message_ids == ids[2:]
    assert later.countdown >= 0.5
    stored = {m.pk: m for m in Message.objects.all()}
    assert [stored[pk].status for pk in ids] == ["sent", "sent", "queued", "queued", "queued"]
    assert (stored[ids[2]].error_code, stored[ids[2]].attempts) == (130429, 1)  # it was tried
    assert [stored[pk].attempts for pk in ids[3:]] == [0, 0]  # never claimed, or handed back unsent
    # Every worker of this number now waits out Retry-After, not only this one.
    assert not ratelimit.send_slot(world.phone.phone_number_id, 80).granted
    assert len(posts(world.sandbox)) == 3


def test_the_batch_task_finishes_a_rate_limited_batch_exactly_once(world, queued):
    messages = queued(5)
    world.sandbox.set_rate_limit(world.phone.phone_number_id, per_second=2, retry_after=0.3)
    message_deliver_batch_task.apply(args=[[m.pk for m in messages]])  # eager: each retry runs at once
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    keys = [m["biz_opaque_callback_data"] for m in world.sandbox.messages()]
    assert sorted(keys) == sorted(m.idempotency_key for m in messages)


def test_a_final_error_fails_that_message_and_the_batch_goes_on(world, queued):
    first, second, third = queued(3)
    world.sandbox.add_fault(path="/messages$", code=131026, status=400, message="Message undeliverable", times=1)
    message_deliver_batch_task.apply(args=[[first.pk, second.pk, third.pk]])
    stored = {m.pk: m for m in Message.objects.all()}
    assert (stored[first.pk].status, stored[first.pk].error_code) == ("failed", 131026)
    assert (stored[second.pk].status, stored[third.pk].status) == ("sent", "sent")


def test_a_lost_response_leaves_that_message_unknown_and_the_rest_waits(world, queued):
    first, second = queued(2)
    world.sandbox.add_fault(path="/messages$", drop=True)
    later = services.message_deliver_many([first.pk, second.pk])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "unknown"  # Meta has it: resending would deliver it twice
    assert (second.status, second.attempts) == ("queued", 0)
    assert later.message_ids == [second.pk]


def test_delivery_costs_a_few_queries_per_group_not_per_message(world, queued, settings):
    settings.MESSAGING_CLAIM_GROUP = 20
    ids = [m.pk for m in queued(40)]
    with CaptureQueriesContext(connection) as queries:
        assert services.message_deliver_many(ids) is None
    # The token once per batch; per group of 20: load, blacklist, claim, record results.
    assert len(queries) == 1 + 2 * 4, [q["sql"][:80] for q in queries]
    assert Message.objects.filter(status="sent").count() == 40


def test_a_broadcast_hands_its_messages_to_batch_tasks(world, make_contact, operator_user, settings,
                                                      django_capture_on_commit_callbacks):
    settings.MESSAGING_BATCH_SIZE = 2
    for phone in phones(5):
        make_contact(phone, window_open=False)
    broadcast = services.broadcast_start(template=Template.objects.get(name="order_update"), phone_number=world.phone,
                                         contacts=Contact.objects.all(), segment={}, by=operator_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.broadcast_run_chunk(broadcast.pk)
    assert len(callbacks) == 3  # 5 messages in batches of 2, not 5 tasks
    for callback in callbacks:
        callback()
    assert sorted(m["to"] for m in world.sandbox.messages()) == sorted(p.lstrip("+") for p in phones(5))


def test_a_batch_interrupted_by_an_outage_runs_again_and_sends_each_message_once(world, queued, monkeypatch):
    messages = queued(3)
    real_slot, calls = ratelimit.send_slot, []

    def redis_down_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("Redis went away")
        return real_slot(*args, **kwargs)

    monkeypatch.setattr(ratelimit, "send_slot", redis_down_once)
    message_deliver_batch_task.apply(args=[[m.pk for m in messages]])  # eager: the retry runs at once
    stored = {m.pk: m for m in Message.objects.all()}
    # The outage hit before the second message's POST: it and the third went back to the queue
    # unsent, and the batch's retry delivered them.
    assert [(stored[m.pk].status, stored[m.pk].attempts) for m in messages] == [("sent", 1)] * 3
    assert sorted(m["biz_opaque_callback_data"] for m in world.sandbox.messages()) == sorted(
        m.idempotency_key for m in messages)
