"""The consent rule: the latest consent (by when it was given) decides; an opt-out at the same instant
as an opt-in wins; the order in which events are *recorded* never matters."""

from datetime import timedelta
from itertools import permutations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent.models import Contact, ConsentEvent
from consent.selectors import contact_can_send
from consent.services import consent_record, contact_get_or_create

pytestmark = pytest.mark.django_db
T0 = timezone.now() - timedelta(days=10)


def at(hours):
    return T0 + timedelta(hours=hours)


def record_in_order(events):
    contact, _ = contact_get_or_create("+15551230000")
    for kind, hours in events:
        consent_record(contact, kind, "paper", "test", occurred_at=at(hours))
    contact.refresh_from_db()
    return contact


SCENARIOS = [
    # (events as (kind, hour given), expected state)
    ([("opt_in", 1), ("opt_out", 2)], "opted_out"),
    ([("opt_out", 1), ("opt_in", 2)], "opted_in"),
    ([("opt_in", 1), ("opt_out", 2), ("opt_in", 3)], "opted_in"),
    ([("opt_in", 1), ("opt_in", 2), ("opt_out", 3)], "opted_out"),
    ([("opt_out", 1), ("opt_in", 2), ("opt_out", 3), ("opt_in", 4)], "opted_in"),
    ([("opt_in", 5), ("opt_out", 5)], "opted_out"),  # same instant: the opt-out wins
    ([("opt_in", 1), ("opt_in", 5), ("opt_out", 5)], "opted_out"),
]


@pytest.mark.parametrize("events, expected", SCENARIOS)
def test_state_after_every_recording_order(events, expected):
    for order in permutations(events):
        Contact.objects.all().delete()
        contact = record_in_order(order)
        assert contact.consent_state == expected, f"recorded in order {order}"
        assert contact_can_send(contact) is (expected == "opted_in")
        latest = max(events, key=lambda e: (e[1], e[0]))
        assert contact.consent_changed_at == at(latest[1])
        assert contact.consent_events.count() == len(events)


def test_no_consent_means_no_send():
    contact, _ = contact_get_or_create("+15551230001")
    assert contact.consent_state == "none"
    assert contact_can_send(contact) is False


def test_event_records_who_and_channel(operator_user):
    operator_user.first_name, operator_user.last_name = "Olga", "Operator"
    operator_user.save()
    contact, _ = contact_get_or_create("+15551230002")
    event = consent_record(contact, "opt_in", "website_form", operator_user, note="signed up at the counter")
    assert (event.recorded_by, event.recorded_by_label, event.note) == (operator_user, "Olga Operator", "signed up at the counter")
    assert (contact.consent_state, contact.consent_channel) == ("opted_in", "website_form")


def test_events_are_append_only():
    contact, _ = contact_get_or_create("+15551230003")
    event = consent_record(contact, "opt_in", "paper", "test")
    event.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


@pytest.mark.parametrize("kind, channel, message", [
    ("maybe", "paper", "Unknown consent kind"),
    ("opt_in", "", "channel"),
    ("opt_in", "carrier_pigeon", "Unknown channel"),
])
def test_bad_consent_input_is_refused_and_nothing_is_stored(kind, channel, message):
    contact, _ = contact_get_or_create("+15551230004")
    with pytest.raises(ValidationError, match=message):
        consent_record(contact, kind, channel, "test")
    assert ConsentEvent.objects.count() == 0


def test_same_dedupe_key_is_stored_once():
    contact, _ = contact_get_or_create("+15551230005")
    first = consent_record(contact, "opt_out", "whatsapp_keyword", "whatsapp", dedupe_key="wa:1")
    again = consent_record(contact, "opt_out", "whatsapp_keyword", "whatsapp", dedupe_key="wa:1")
    assert first.pk == again.pk
    assert contact.consent_events.count() == 1
