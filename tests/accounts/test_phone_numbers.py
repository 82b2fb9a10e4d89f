"""Phone numbers: sync from /{waba_id}/phone_numbers across every page, history of rating/tier/status
changes, and one alert per condition that resolves itself."""

import pytest
from django.urls import reverse

from accounts.models import Alert, PhoneNumber, PhoneNumberChange
from accounts.selectors import banner_alerts
from accounts.services import phone_numbers_sync
from accounts.tasks import phone_quality_poll_all
from tests.accounts.conftest import PHONE_ID, WABA_ID

pytestmark = pytest.mark.django_db


def test_sync_follows_every_page(world):
    for i in range(1, 30):
        world.sandbox.add_phone_number(f"2000000000000{i:02d}", waba_id=WABA_ID, display=f"+1 555 020 00{i:02d}")
    world.sandbox.clear_calls()

    result = phone_numbers_sync(world.waba, page_size=10)

    assert PhoneNumber.objects.filter(waba=world.waba).count() == 30
    assert (result.created, result.updated) == (29, 1)
    calls = [c for c in world.sandbox.calls() if c["path"].endswith("/phone_numbers")]
    assert len(calls) == 3


def test_sync_stores_the_fields_and_records_changes(world):
    world.sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID, quality_rating="YELLOW", messaging_limit="TIER_2K",
                                   verified_name="Acme", display="+1 555 010 0001")
    phone_numbers_sync(world.waba)
    phone = PhoneNumber.objects.get(phone_number_id=PHONE_ID)
    assert (phone.quality_rating, phone.messaging_limit_tier, phone.status, phone.verified_name) == \
        ("YELLOW", "TIER_2K", "CONNECTED", "Acme")
    assert phone.last_synced_at is not None
    changes = {(c.field, c.old_value, c.new_value) for c in phone.history.all()}
    assert changes == {("quality_rating", "GREEN", "YELLOW"), ("messaging_limit_tier", "TIER_10K", "TIER_2K"),
                       ("status", "", "CONNECTED")}
    phone_numbers_sync(world.waba)  # nothing changed at Meta: no new history
    assert PhoneNumberChange.objects.count() == 3


def unresolved(kind):
    return list(Alert.objects.filter(kind=kind, status__in=Alert.UNRESOLVED))


def set_rating(world, rating, tier="TIER_10K"):
    world.sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID, quality_rating=rating, messaging_limit=tier)
    world.committed(phone_quality_poll_all.delay)


def test_a_downgrade_opens_one_alert_however_often_it_is_polled_and_it_resolves_on_recovery(world, mailoutbox, settings):
    settings.ALERT_EMAILS = ["ops@example.com"]
    for _ in range(3):
        set_rating(world, "YELLOW")
    assert len(unresolved("quality_yellow")) == 1
    assert len(mailoutbox) == 1 and "Quality rating YELLOW" in mailoutbox[0].subject

    set_rating(world, "RED")
    set_rating(world, "RED")
    assert len(unresolved("quality_red")) == 1 and unresolved("quality_yellow") == []

    set_rating(world, "GREEN")
    assert Alert.objects.filter(status__in=Alert.UNRESOLVED).count() == 0
    assert Alert.objects.filter(status="resolved").count() == 2


def test_a_red_rating_shows_a_banner_on_every_page(world, operator_client):
    set_rating(world, "RED")
    assert [p.phone_number_id for p in banner_alerts()] == [PHONE_ID]
    for url in (reverse("accounts:alert_list"), reverse("consent:contact_list")):
        html = operator_client.get(url).content.decode()
        assert "Quality rating RED on +1 555 010 0001" in html and "pause non-essential sends" in html
    set_rating(world, "GREEN")
    assert "Quality rating RED" not in operator_client.get(reverse("accounts:alert_list")).content.decode()


def test_a_lowered_tier_alerts_until_the_tier_is_back(world):
    set_rating(world, "GREEN", tier="TIER_2K")
    set_rating(world, "GREEN", tier="TIER_1K")
    [alert] = unresolved("tier_lowered")
    assert "from TIER_10K to TIER_1K" in alert.detail and alert.data["from"] == "TIER_10K"  # one alert, still
    set_rating(world, "GREEN", tier="TIER_2K")
    assert len(unresolved("tier_lowered")) == 1  # still below where it was
    set_rating(world, "GREEN", tier="TIER_10K")
    assert unresolved("tier_lowered") == []


def test_a_banned_number_alerts(world):
    world.sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID, status="BANNED")
    world.committed(phone_quality_poll_all.delay)
    assert "BANNED" in unresolved("number_status")[0].title


def test_the_phone_pages_show_quality_tier_status_and_history(admin_client, world):
    set_rating(world, "YELLOW", tier="TIER_2K")
    html = admin_client.get(reverse("accounts:phone_list")).content.decode()
    assert "YELLOW" in html and "TIER_2K" in html and "CONNECTED" in html and "GREEN → YELLOW" in html
    detail = admin_client.get(reverse("accounts:phone_detail", args=[PHONE_ID])).content.decode()
    assert "Quality rating</strong>: GREEN → YELLOW" in detail and "Quality rating YELLOW" in detail


def test_the_sync_button_reports_the_result(admin_client, world):
    response = admin_client.post(reverse("accounts:phone_sync", args=[WABA_ID]), follow=True)
    assert "Phone numbers of Test WABA" in response.content.decode() and "1 updated" in response.content.decode()


def test_a_sync_without_token_says_so(admin_client, world):
    world.token.delete()
    response = admin_client.post(reverse("accounts:phone_sync", args=[WABA_ID]), follow=True)
    assert "has no active access token" in response.content.decode()
