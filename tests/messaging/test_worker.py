"""With a REAL Celery worker (Redis broker, prefork children) sending through the sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Message
from messaging.services import message_reconcile, message_send
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker]

PHONES = [f"+1415555{i:04d}" for i in range(12)]


def test_a_real_worker_sends_each_message_exactly_once_through_rate_limits(world, make_contact, celery_worker_process):
    for phone in PHONES:
        make_contact(phone)
    # Meta answers the first sends with 130429 and Retry-After: the worker must back off and retry.
    world.sandbox.add_fault(path="/messages$", code=130429, status=429, retry_after=0.2, times=3)
    messages = [message_send(phone_number_id=world.phone.phone_number_id, to=phone, template="order_update",
                             idempotency_key=f"worker-{phone}") for phone in PHONES]
    wait_for(lambda: Message.objects.filter(status="sent").count() == len(PHONES), timeout=30)
    sent = world.sandbox.messages()
    keys = [m["biz_opaque_callback_data"] for m in sent]
    assert sorted(keys) == sorted(m.idempotency_key for m in messages)
    assert len(set(keys)) == len(keys)
    assert sum(m.attempts for m in Message.objects.all()) == len(PHONES) + 3


def test_a_real_worker_cancels_a_message_whose_contact_opted_out_before_it_ran(world, make_contact,
                                                                                celery_worker_process, operator_user):
    from consent.services import consent_record

    contact = make_contact(PHONES[0])
    # The number is paused by an earlier 429 (Retry-After 3 s), so the message waits in the queue…
    from messaging import ratelimit

    ratelimit.pause_number(world.phone.phone_number_id, 3)
    message = message_send(phone_number_id=world.phone.phone_number_id, to=PHONES[0], template="order_update")
    # …and meanwhile the customer replies STOP.
    consent_record(contact, "opt_out", "whatsapp_keyword", operator_user, note="STOP")
    wait_for(lambda: Message.objects.get(pk=message.pk).status == "cancelled", timeout=20)
    assert world.sandbox.messages() == []


def test_a_real_worker_delivers_batches_each_message_exactly_once(world, make_contact, celery_worker_process,
                                                                    settings):
    from messaging.services import message_enqueue_many

    settings.MESSAGING_BATCH_SIZE = 5  # this process only enqueues; the worker's own batch size is irrelevant
    batch_phones = [f"+1415557{i:04d}" for i in range(23)]
    for phone in batch_phones:
        make_contact(phone, window_open=False)
    # A rate limit in the middle: the worker pauses the number and requeues the rest of that batch.
    world.sandbox.add_fault(path="/messages$", code=130429, status=429, retry_after=0.2, times=2)
    messages = [message_send(phone_number_id=world.phone.phone_number_id, to=phone, template="order_update",
                             enqueue=False) for phone in batch_phones]
    message_enqueue_many([m.pk for m in messages])
    wait_for(lambda: Message.objects.filter(status="sent").count() == len(batch_phones), timeout=30)
    keys = [m["biz_opaque_callback_data"] for m in world.sandbox.messages()]
    assert sorted(keys) == sorted(m.idempotency_key for m in messages)
    assert sum(m.attempts for m in Message.objects.all()) == len(batch_phones) + 2


def test_a_queued_message_whose_task_was_lost_is_sent_after_reconciliation(world, make_contact,
                                                                            celery_worker_process, settings):
    for phone in PHONES[:2]:
        make_contact(phone)
    # Committed as queued, but the broker failed right after the commit: no task will ever deliver it.
    lost = message_send(phone_number_id=world.phone.phone_number_id, to=PHONES[0], template="order_update",
                        enqueue=False)
    Message.objects.filter(pk=lost.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.MESSAGING_RECONCILE_AFTER + 1))
    # Queued a moment ago: its task may well be on its way, so it is left alone.
    recent = message_send(phone_number_id=world.phone.phone_number_id, to=PHONES[1], template="order_update",
                          enqueue=False)

    assert message_reconcile() == {"requeued": 0, "failed": 0, "stale_queued": 1}
    wait_for(lambda: Message.objects.get(pk=lost.pk).status == "sent", timeout=20)
    assert [m["biz_opaque_callback_data"] for m in world.sandbox.messages()] == [lost.idempotency_key]
    assert Message.objects.get(pk=recent.pk).status == "queued"
