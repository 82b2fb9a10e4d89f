"""Token health: healthy / warning / failing, with a reason a person can act on."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import FAILING, HEALTHY, WARNING, waba_token_health
from accounts.services import token_validate
from tests.accounts.conftest import OLD_TOKEN, in_days

pytestmark = pytest.mark.django_db


def health_after(world, **changes):
    for field, value in changes.items():
        setattr(world.token, field, value)
    world.token.save()
    return waba_token_health(world.waba)


def test_a_valid_system_user_token_checked_recently_is_healthy(world):
    health = waba_token_health(world.waba)
    assert health.status == HEALTHY and health.reasons == []


@pytest.mark.parametrize("subcode, meaning", [
    (460, "changed their password"), (463, "has expired"), (467, "logged out"), (None, "not accepted by Meta"),
])
def test_an_invalid_token_is_failing_with_the_meaning_of_its_subcode(world, subcode, meaning):
    health = health_after(world, is_valid=False, last_error_code=190, last_error_subcode=subcode)
    assert health.status == FAILING and health.codes == ["invalid"]
    assert meaning in health.reasons[0].text
    assert (f"190/{subcode}" if subcode else "190:") in health.reasons[0].text


def test_a_missing_scope_is_failing(world):
    health = health_after(world, scopes=["whatsapp_business_management"])
    assert health.status == FAILING and health.codes == ["scope_missing"]
    assert "whatsapp_business_messaging" in health.reasons[0].text and "App Review" in health.reasons[0].text


def test_a_user_token_in_production_is_a_warning_but_not_on_a_test_waba(world):
    health = health_after(world, token_type="USER")
    assert health.status == WARNING and health.codes == ["user_token"] and "System User" in health.reasons[0].text
    world.waba.is_production = False
    world.waba.save()
    assert waba_token_health(world.waba).status == HEALTHY


def test_a_token_expiring_within_7_days_is_a_warning(world):
    health = health_after(world, expires_at=timezone.now() + timedelta(days=6))
    assert health.status == WARNING and health.codes == ["expiring"]
    assert health_after(world, expires_at=timezone.now() + timedelta(days=8)).status == HEALTHY


def test_a_stale_check_is_a_warning(world):
    health = health_after(world, last_checked_at=timezone.now() - timedelta(hours=5))
    assert health.status == WARNING and health.codes == ["stale"]
    assert health_after(world, last_checked_at=None).codes == ["stale"]


def test_no_active_token_is_failing(world):
    world.token.delete()
    assert waba_token_health(world.waba).codes == ["no_token"]


def test_reasons_add_up(world):
    health = health_after(world, token_type="USER", scopes=["whatsapp_business_messaging"],
                          expires_at=timezone.now() + timedelta(days=1))
    assert health.status == FAILING and set(health.codes) == {"scope_missing", "user_token", "expiring"}


def test_the_check_stores_what_meta_says_and_the_card_shows_it(admin_client, world):
    world.sandbox.add_token(OLD_TOKEN, app_id=world.app.app_id, type="USER", expires_at=in_days(-0.1))
    response = admin_client.post(reverse("accounts:token_check_now", args=[world.waba.waba_id]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'data-health="failing"' in html and "190/463" in html and "has expired" in html
    token = world.token.__class__.objects.get(pk=world.token.pk)
    assert (token.is_valid, token.last_error_code, token.last_error_subcode, token.token_type) == (False, 190, 463, "USER")


def test_the_overview_shows_a_card_per_waba_with_links(admin_client, world):
    html = admin_client.get(reverse("accounts:overview")).content.decode()
    assert 'data-health="healthy"' in html and "••••••••OLD1" in html and OLD_TOKEN not in html
    for name in ("token_rotate", "phone_sync"):
        assert reverse(f"accounts:{name}", args=[world.waba.waba_id]) in html
    assert reverse("accounts:identify") in html and world.phone.phone_number_id in html


def test_the_health_page_lists_tokens_masked_and_the_audit_log(admin_client, world):
    html = admin_client.get(reverse("accounts:token_health")).content.decode()
    assert "••••••••OLD1" in html and OLD_TOKEN not in html and "Rotation audit log" in html


def test_a_validation_that_cannot_reach_meta_keeps_the_last_known_state(world, settings):
    settings.GRAPH_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.GRAPH_API_MAX_RETRIES = 0
    checked = world.token.last_checked_at
    token_validate(world.token.pk)
    token = world.token.__class__.objects.get(pk=world.token.pk)
    assert token.is_valid and token.last_checked_at == checked and "could not be reached" in token.last_error_message


def test_a_token_past_its_expiry_is_failing_even_before_the_next_check(world):
    health = health_after(world, token_type="USER", expires_at=timezone.now() - timedelta(minutes=5))
    assert health.status == FAILING and "expired" in health.codes and "190/463" in health.reasons[0].text
