"""Sending: the task talks to Meta once per claim, retries only rate limits, never resends blindly,
and status webhooks settle what the HTTP response could not tell us."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Message
from messaging.tasks import message_deliver_task

ALICE = "+14155550101"


def message_posts(sandbox):
    return [c for c in sandbox.calls() if c["method"] == "POST" and c["path"].endswith("/messages")]


@pytest.mark.parametrize("code,status", [(4, 400), (17, 400), (32, 400), (130429, 429), (80007, 400)])
def test_rate_limit_errors_are_retried_and_then_sent(world, make_contact, send, code, status):
    make_contact(ALICE)
    world.sandbox.add_fault(path="/messages$", code=code, status=status, retry_after=0.01, times=2)
    message = send(to=ALICE, template="order_update", language="en_US")
    assert message.status == Message.Status.SENT
    assert message.attempts == 3
    assert len(message_posts(world.sandbox)) == 3
    assert len(world.sandbox.messages()) == 1


def test_a_rate_limit_pauses_the_numbers_bucket_for_retry_after(world, make_contact, send):
    from messaging import ratelimit

    make_contact(ALICE)
    world.sandbox.add_fault(path="/messages$", code=4, status=400, retry_after=0.3, times=1)
    started = time.monotonic()
    send(to=ALICE, template="order_update", language="en_US")
    # The retry had to wait for the pause, and so must any other worker of this number.
    assert time.monotonic() - started >= 0.3
    assert Message.objects.get().status == Message.Status.SENT
    assert ratelimit.bucket().acquire(world.phone.phone_number_id, rate=1000, burst=1, max_wait=1).granted


def test_a_send_waiting_for_its_slot_stays_queued_once_a_429_paused_the_number(world, make_contact):
    import threading

    from messaging import ratelimit

    world.phone.rate_limit_per_second = 1
    world.phone.save(update_fields=["rate_limit_per_second"])
    make_contact(ALICE)
    message = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update",
                                    enqueue=False)
    ratelimit.send_slot(world.phone.phone_number_id, 1)  # another worker took the current slot: ours is ~1 s away
    # While ours waits, that worker's POST gets a 429 with Retry-After 30.
    threading.Timer(0.3, ratelimit.pause_number, args=(world.phone.phone_number_id, 30)).start()
    later = services.message_deliver_many([message.pk])
    assert later is not None and later.message_ids == [message.pk] and later.countdown > 25
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)  # handed back untouched, not failed
    assert world.sandbox.messages() == []


def test_error_100_is_final_and_not_retried(world, make_contact, send):
    make_contact(ALICE)
    world.sandbox.add_fault(path="/messages$", code=100, status=400, subcode=2494010, message="(#100) Invalid parameter")
    message = send(to=ALICE, template="order_update", language="en_US")
    assert message.status == Message.Status.FAILED
    assert (message.error_code, message.error_subcode, message.attempts) == (100, 2494010, 1)
    assert message.error_message == "(#100) Invalid parameter" and message.fbtrace_id
    assert len(message_posts(world.sandbox)) == 1


def test_a_failure_from_meta_records_code_message_and_trace(world, make_contact, send):
    make_contact(ALICE)
    world.sandbox.merge(phone_numbers={world.phone.phone_number_id: {"blocked": True}})
    message = send(to=ALICE, template="order_update", language="en_US")
    assert (message.status, message.error_code) == ("failed", 368)
    assert "blocked" in message.error_message and message.fbtrace_id.startswith("A")


def test_rate_limits_give_up_after_the_maximum_attempts(world, make_contact, send, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 3
    make_contact(ALICE)
    world.sandbox.add_fault(path="/messages$", code=17, status=400, retry_after=0.01, times=10)
    message = send(to=ALICE, template="order_update", language="en_US")
    assert (message.status, message.error_code, message.attempts) == ("failed", 17, 3)


def test_a_redelivered_task_sends_nothing_twice(world, make_contact, send):
    make_contact(ALICE)
    message = send(to=ALICE, template="order_update", language="en_US")
    # A killed worker's task comes back (acks_late + reject_on_worker_lost): it must be a no-op.
    message_deliver_task.apply(args=[message.pk])
    message_deliver_task.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert len(world.sandbox.messages()) == 1


def test_a_message_left_in_sending_by_a_crash_is_not_resent_blindly(world, make_contact, send):
    make_contact(ALICE)
    message = send(to=ALICE, template="order_update", language="en_US")
    # As if the worker died after Meta accepted the message but before the row was updated.
    Message.objects.filter(pk=message.pk).update(status="sending", wamid=None)
    message_deliver_task.apply(args=[message.pk])
    assert len(world.sandbox.messages()) == 1
    accepted = world.sandbox.messages()[0]
    # Meta's status webhook carries our key back: the message is settled with its wamid.
    assert services.message_status_apply({"id": accepted["id"], "status": "sent", "timestamp": str(int(time.time())),
                                          "recipient_id": "14155550101",
                                          "biz_opaque_callback_data": accepted["biz_opaque_callback_data"]})
    message.refresh_from_db()
    assert (message.status, message.wamid) == ("sent", accepted["id"])
    # …and reconciliation leaves a settled message alone.
    assert services.message_reconcile(older_than=0) == {"requeued": 0, "failed": 0, "stale_queued": 0}
    assert len(world.sandbox.messages()) == 1


def test_a_lost_response_leaves_the_message_unknown_until_the_status_webhook(world, make_contact, send):
    make_contact(ALICE)
    world.sandbox.add_fault(path="/messages$", drop=True)
    message = send(to=ALICE, template="order_update", language="en_US")
    assert message.status == Message.Status.UNKNOWN and message.wamid is None
    message_deliver_task.apply(args=[message.pk])  # a retry would deliver it twice: it must not send
    assert len(world.sandbox.messages()) == 1
    accepted = world.sandbox.messages()[0]
    assert accepted["biz_opaque_callback_data"] == message.idempotency_key
    services.message_status_apply({"id": accepted["id"], "status": "delivered", "timestamp": str(int(time.time())),
                                   "biz_opaque_callback_data": message.idempotency_key})
    message.refresh_from_db()
    assert (message.status, message.wamid) == ("delivered", accepted["id"])


def test_a_claim_without_any_status_webhook_is_requeued_by_reconciliation(world, make_contact,
                                                                            django_capture_on_commit_callbacks):
    make_contact(ALICE)
    # The worker died between its claim and the POST: Meta never saw the message and sends no webhook.
    message = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update")
    Message.objects.filter(pk=message.pk).update(status="sending", attempts=1)
    message_deliver_task.apply(args=[message.pk])
    assert world.sandbox.messages() == []
    with django_capture_on_commit_callbacks(execute=True):
        assert services.message_reconcile(older_than=0) == {"requeued": 1, "failed": 0, "stale_queued": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert [m["biz_opaque_callback_data"] for m in world.sandbox.messages()] == [message.idempotency_key]


def test_a_queued_backlog_is_not_enqueued_again_while_its_number_is_still_sending(world, make_contact, settings):
    make_contact(ALICE)
    old = timezone.now() - timedelta(seconds=settings.MESSAGING_RECONCILE_AFTER + 1)
    waiting = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update",
                                    idempotency_key="backlog-1", enqueue=False)
    Message.objects.filter(pk=waiting.pk).update(updated_at=old)
    # A worker claimed a message of the same number a moment ago: the broker is draining its backlog.
    busy = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update",
                                 idempotency_key="backlog-2", enqueue=False)
    Message.objects.filter(pk=busy.pk).update(status="sent", claimed_at=timezone.now())
    assert services.message_reconcile()["stale_queued"] == 0
    # Once nothing has been claimed for the number for as long, the waiting message is handed over.
    Message.objects.filter(pk=busy.pk).update(claimed_at=old)
    assert services.message_reconcile()["stale_queued"] == 1


def test_reconciliation_can_hand_unsettled_messages_to_a_person_instead(world, make_contact, settings):
    settings.MESSAGING_RECONCILE_REQUEUE = False
    make_contact(ALICE)
    message = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update")
    Message.objects.filter(pk=message.pk).update(status="unknown")
    assert services.message_reconcile(older_than=0) == {"requeued": 0, "failed": 1, "stale_queued": 0}
    message.refresh_from_db()
    assert message.status == "failed" and "outcome unknown" in message.error_message


def test_an_opt_out_after_queueing_cancels_the_queued_message(world, make_contact, operator_user):
    """Our documented choice: consent is checked when a message is queued AND the task re-checks
    opt-out (and the blacklist) before sending; an opt-out always wins over queued work."""
    from consent.services import consent_record

    contact = make_contact(ALICE)
    message = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update")
    assert message.status == "queued"  # the task only runs after commit; the opt-out arrives first
    consent_record(contact, "opt_out", "whatsapp_keyword", operator_user, note="replied STOP")
    message_deliver_task.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.skipped_reason) == ("cancelled", "opted_out_after_queueing")
    assert world.sandbox.messages() == []


def test_blacklisting_after_queueing_cancels_the_queued_message(world, make_contact, operator_user):
    make_contact(ALICE)
    message = services.message_send(phone_number_id=world.phone.phone_number_id, to=ALICE, template="order_update")
    services.blacklist_add(ALICE, "complaint", operator_user)
    message_deliver_task.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.skipped_reason) == ("cancelled", "blacklisted_after_queueing")
    assert world.sandbox.messages() == []


# --- status webhooks ---------------------------------------------------------------------------
@pytest.fixture
def sent_message(world, make_contact, send):
    make_contact(ALICE)
    return send(to=ALICE, template="order_update", language="en_US")


def status(message, value, **extra):
    return {"id": message.wamid, "status": value, "timestamp": str(int(time.time())), "recipient_id": "14155550101",
            **extra}


def test_statuses_move_forward_and_never_back(sent_message):
    assert services.message_status_apply(status(sent_message, "read"))
    assert services.message_status_apply(status(sent_message, "delivered"))  # late, out of order
    sent_message.refresh_from_db()
    assert sent_message.status == "read"


def test_the_same_status_twice_changes_nothing(sent_message):
    services.message_status_apply(status(sent_message, "delivered"))
    sent_message.refresh_from_db()
    first = sent_message.status_at
    services.message_status_apply(status(sent_message, "delivered"))
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.status_at) == ("delivered", first)


def test_a_failed_status_stores_the_first_errors_code(sent_message):
    services.message_status_apply(status(sent_message, "failed", errors=[
        {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
         "error_data": {"details": "The recipient is not on WhatsApp."}}]))
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.error_code) == ("failed", 131026)
    assert sent_message.error_message == "The recipient is not on WhatsApp."


def test_a_status_for_someone_elses_message_is_not_ours(world):
    assert services.message_status_apply({"id": "wamid.unknown", "status": "read"}) is False
