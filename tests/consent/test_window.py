"""The 24-hour window: open exactly while now < last inbound + 24 h."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Contact

LAST = timezone.now().replace(microsecond=0) - timedelta(hours=30)


def test_open_one_microsecond_before_24_hours():
    window = Contact(phone="+15550000001", last_inbound_at=LAST).window(now=LAST + timedelta(hours=24) - timedelta(microseconds=1))
    assert window.is_open and window.closes_at == LAST + timedelta(hours=24) and window.closed_since is None


def test_closed_at_exactly_24_hours():
    window = Contact(phone="+15550000001", last_inbound_at=LAST).window(now=LAST + timedelta(hours=24))
    assert not window.is_open
    assert window.closed_since == LAST + timedelta(hours=24)
    assert window.seconds_left == 0


def test_time_left_counts_down():
    window = Contact(phone="+15550000001", last_inbound_at=LAST).window(now=LAST + timedelta(hours=20))
    assert window.seconds_left == 4 * 3600
    assert window.label == "open · 4h 00m left"


def test_never_wrote_means_closed_without_a_since():
    window = Contact(phone="+15550000001").window()
    assert not window.is_open and window.closed_since is None and window.closes_at is None


@pytest.mark.django_db
def test_window_is_a_list_column_and_counts_down_on_the_contact_page(operator_client):
    now = timezone.now()
    open_ = Contact.objects.create(phone="+15550000002", last_inbound_at=now - timedelta(hours=1))
    Contact.objects.create(phone="+15550000003", last_inbound_at=now - timedelta(hours=24, seconds=1))
    listing = operator_client.get(reverse("consent:contact_list")).content.decode()
    assert f'data-window-closes="{(open_.last_inbound_at + timedelta(hours=24)).isoformat()}"' in listing
    assert "closed since" in listing and "templates only" in listing
    page = operator_client.get(reverse("consent:contact_detail", args=[open_.pk])).content.decode()
    assert "data-window-closes=" in page and "free-form messages allowed" in page
