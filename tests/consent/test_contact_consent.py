"""An operator records an opt-in or opt-out on the contact page: it lands in the history with the
operator's name and, when given, the time the person actually consented."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentEvent
from consent.services import consent_record, contact_get_or_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    contact, _ = contact_get_or_create("+15551239876")
    return contact


def record(client, contact, **data):
    return client.post(reverse("consent:contact_consent", args=[contact.pk]), data)


def test_an_opt_in_lands_in_the_history_with_the_operators_name(operator_client, operator_user, contact):
    assert record(operator_client, contact, kind="opt_in", channel="paper", note="signed at the desk").status_code == 302
    contact.refresh_from_db()
    assert contact.consent_state == "opted_in"
    event = contact.consent_events.get()
    assert (event.channel, event.note, event.recorded_by) == ("paper", "signed at the desk", operator_user)


def test_a_paper_opt_in_typed_in_late_does_not_outrank_a_stop_sent_after_it(operator_client, contact):
    now = timezone.now()
    consent_record(contact, "opt_out", "whatsapp_keyword", "whatsapp", occurred_at=now - timedelta(days=2))
    signed = (now - timedelta(days=4)).replace(second=0, microsecond=0)
    record(operator_client, contact, kind="opt_in", channel="paper", occurred_at=signed.strftime("%Y-%m-%dT%H:%M"))
    contact.refresh_from_db()
    assert contact.consent_state == "opted_out"  # the STOP is newer than the signature
    assert contact.consent_events.get(kind="opt_in").occurred_at == signed


def test_a_consent_time_in_the_future_is_refused_and_nothing_is_stored(operator_client, contact):
    later = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = record(operator_client, contact, kind="opt_in", channel="paper", occurred_at=later)
    assert response.status_code == 422
    assert "That time is in the future" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_a_user_without_a_role_cannot_record_consent(client, django_user_model, contact):
    client.force_login(make_user(django_user_model, None))
    assert record(client, contact, kind="opt_out").status_code == 403
    assert not ConsentEvent.objects.exists()
