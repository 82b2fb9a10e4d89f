"""Broadcasts: preview the counts, send through the one send path in chunks, per-recipient results,
a summary by error code, and Cancel stops the rest."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Contact
from messaging import services
from messaging.models import Broadcast, Message, Template
from messaging.selectors import broadcast_progress
from messaging.tasks import broadcast_run_task


@pytest.fixture
def segment(make_contact):
    """3 opted in (one with a closed window), 1 opted out, 1 without consent, 1 blacklisted."""
    contacts = [
        make_contact("+14155550101"), make_contact("+14155550102"), make_contact("+14155550103", window_open=False),
        make_contact("+14155550104", consent="opted_out"), make_contact("+14155550105", consent="none"),
        make_contact("+14155550106"),
    ]
    services.blacklist_add("+14155550106", "complaint")
    return Contact.objects.filter(pk__in=[c.pk for c in contacts])


def test_the_preview_counts_who_will_be_sent_and_who_is_skipped(world, segment, operator_client):
    template = Template.objects.get(name="order_update")
    page = operator_client.post(reverse("messaging:broadcast_new"), {
        "template": template.pk, "phone_number_id": world.phone.phone_number_id, "state": "", "action": "preview",
    }, headers={"HX-Request": "true"}).content.decode()
    assert '<strong data-count="send">3</strong>' in page
    assert '<strong data-count="no_consent">2</strong>' in page
    assert '<strong data-count="blacklisted">1</strong>' in page
    assert "irrelevant" in page
    assert not Broadcast.objects.exists()


def test_the_segment_is_the_contact_lists_filters_and_is_stored_with_the_broadcast(
        world, segment, operator_client, django_capture_on_commit_callbacks):
    template = Template.objects.get(name="order_update")
    form = {"template": template.pk, "phone_number_id": world.phone.phone_number_id, "state": "opted_in",
            "window": "open", "q": "5550"}
    page = operator_client.post(reverse("messaging:broadcast_new"), {**form, "action": "preview"},
                                headers={"HX-Request": "true"}).content.decode()
    # Opted in with an open window: 0101, 0102, and 0106, which is blacklisted.
    assert '<strong data-count="send">2</strong>' in page
    assert '<strong data-count="blacklisted">1</strong>' in page
    with django_capture_on_commit_callbacks(execute=False):
        operator_client.post(reverse("messaging:broadcast_new"), {**form, "action": "start"})
    broadcast = Broadcast.objects.get()
    assert broadcast.segment == {"state": "opted_in", "window": "open", "q": "5550"}
    assert sorted(broadcast.recipients.values_list("phone", flat=True)) == [
        "+14155550101", "+14155550102", "+14155550106"]
    assert broadcast.total == 3


def test_a_broadcast_sends_templates_to_the_consenting_and_reports_each_recipient(
        world, segment, operator_user, django_capture_on_commit_callbacks):
    world.sandbox.add_fault(path="/messages$", code=131026, status=400, message="Message undeliverable", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        broadcast = services.broadcast_start(template=Template.objects.get(name="order_update"),
                                             phone_number=world.phone, contacts=segment, segment={},
                                             parameters=["friend", "A-1"], by=operator_user)
    broadcast.refresh_from_db()
    assert broadcast.status == "done"
    progress = broadcast_progress(broadcast)
    counts = (progress["total"], progress["sent"], progress["failed"], progress["skipped"])
    assert counts == (6, 2, 1, 3), progress
    assert progress["skipped_by_reason"] == {"no_consent": 2, "recipient_blacklisted": 1}
    assert progress["by_code"] == [{"error_code": 131026, "n": 1}]
    assert progress["finished"]
    sent_to = sorted(m["to"] for m in world.sandbox.messages())
    assert sent_to == ["14155550102", "14155550103"]  # 0101 failed with 131026; the window is irrelevant
    # Re-running the broadcast task (a redelivery) sends nobody again.
    broadcast_run_task.apply(args=[broadcast.pk])
    assert len(world.sandbox.messages()) == 2


def test_a_broadcast_interrupted_by_a_database_outage_runs_again_and_sends_each_recipient_once(
        world, segment, operator_user, monkeypatch, django_capture_on_commit_callbacks):
    from django.db import OperationalError

    real_send, calls = services.message_send, []

    def database_down_once(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_send(**kwargs)

    monkeypatch.setattr(services, "message_send", database_down_once)
    with django_capture_on_commit_callbacks(execute=True):  # eager: the task's retry runs at once
        broadcast = services.broadcast_start(template=Template.objects.get(name="order_update"),
                                             phone_number=world.phone, contacts=segment, segment={},
                                             parameters=["friend", "A-1"], by=operator_user)
    broadcast.refresh_from_db()
    assert broadcast.status == "done"
    assert broadcast_progress(broadcast)["sent"] == 3
    assert sorted(m["to"] for m in world.sandbox.messages()) == ["14155550101", "14155550102", "14155550103"]


def test_a_broadcast_whose_next_chunk_was_never_handed_on_is_resumed_by_reconciliation(
        world, segment, operator_user, django_capture_on_commit_callbacks):
    # Started, but its task never reached the broker (the on-commit callbacks are dropped here).
    broadcast = services.broadcast_start(template=Template.objects.get(name="order_update"), phone_number=world.phone,
                                         contacts=segment, segment={}, by=operator_user)
    assert services.broadcast_resume_stalled() == 0  # just started: its task may well be on its way
    Broadcast.objects.filter(pk=broadcast.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.broadcast_resume_stalled() == 1
    broadcast.refresh_from_db()
    assert broadcast.status == "done"
    assert len(world.sandbox.messages()) == 3
    assert services.broadcast_resume_stalled() == 0  # nothing pending any more


def test_cancel_stops_the_recipients_not_yet_sent(world, segment, operator_user, operator_client):
    # Without the on-commit callbacks nothing has run yet: every recipient is still pending.
    broadcast = services.broadcast_start(template=Template.objects.get(name="order_update"), phone_number=world.phone,
                                         contacts=segment, segment={}, by=operator_user)
    services.broadcast_run_chunk(broadcast.pk, size=2)  # two handed to the send path, not yet sent
    response = operator_client.post(reverse("messaging:broadcast_cancel", args=[broadcast.pk]), follow=True)
    assert "Broadcast cancelled" in response.content.decode()
    broadcast_run_task.apply(args=[broadcast.pk])
    for message in Message.objects.filter(broadcast=broadcast):
        from messaging.tasks import message_deliver_task

        message_deliver_task.apply(args=[message.pk])
    assert world.sandbox.messages() == []
    progress = broadcast_progress(broadcast)
    assert progress["sent"] == 0 and progress["cancelled"] >= 4


def test_only_approved_templates_can_be_broadcast(world, segment, operator_user):
    with pytest.raises(services.SendRefused, match="PENDING"):
        services.broadcast_start(template=Template.objects.get(name="loyalty_points"), phone_number=world.phone,
                                 contacts=segment, segment={}, by=operator_user)


def test_the_progress_partial_polls_until_finished(world, segment, operator_user, operator_client):
    broadcast = services.broadcast_start(template=Template.objects.get(name="order_update"), phone_number=world.phone,
                                         contacts=segment, segment={}, by=operator_user)
    url = reverse("messaging:broadcast_detail", args=[broadcast.pk])
    partial = operator_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in partial and "<progress" in partial
    services.broadcast_cancel(broadcast)
    partial = operator_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in partial
