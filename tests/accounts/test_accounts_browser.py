"""In Chromium: an admin rotates a token in two steps; an operator acknowledges an alert in place."""

import pytest

from accounts.models import AccessToken
from tests.accounts.conftest import BOTH, NEW_TOKEN, OLD_TOKEN, OTHER_APP_ID, WABA_ID
from tests.conftest import login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_rotates_a_token_in_two_steps(page, django_user_model, world):
    make_user(django_user_model, "admin")
    world.add_token(NEW_TOKEN, scopes=BOTH)
    world.add_token("EAAGforeignAppToken0000000000000000000FOR9", app_id=OTHER_APP_ID)
    login(page, "admin")

    page.goto("/accounts/")
    page.click(f"#waba-{WABA_ID} >> text=Rotate token")
    # A token of another app is refused with the reason, and the form is offered again.
    page.fill("#id_token", "EAAGforeignAppToken0000000000000000000FOR9")
    page.click("text=Check token")
    page.wait_for_selector(".check.refused")
    assert "belongs to another app" in page.inner_text("#rotation")
    assert page.input_value("#id_token") == ""

    page.fill("#id_token", NEW_TOKEN)
    page.click("text=Check token")
    page.wait_for_selector(".check.accepted")
    verdict = page.inner_text("#rotation")
    assert "is_valid: true" in verdict and "whatsapp_business_messaging: present" in verdict
    assert NEW_TOKEN not in page.content() and "NEW2" in verdict
    assert AccessToken.objects.get(active=True).token == OLD_TOKEN

    page.click("text=Confirm")
    page.wait_for_url("**/accounts/")
    assert "is now active" in page.inner_text(".flash")
    assert "••••••••NEW2" in page.inner_text(f"#waba-{WABA_ID}")
    assert AccessToken.objects.get(active=True).token == NEW_TOKEN


def test_an_operator_acknowledges_an_alert_in_place(page, django_user_model, world):
    from accounts.models import Alert

    make_user(django_user_model, "operator")
    alert = Alert.objects.create(dedupe_key="quality_yellow:x", kind="quality_yellow", title="Quality rating YELLOW")
    login(page, "operator")
    page.goto("/accounts/alerts/")
    page.click(f"#alert-{alert.pk} button:has-text('Acknowledge')")
    page.wait_for_selector(f"#alert-{alert.pk}[data-status=acknowledged]")
    assert "acknowledged by operator" in page.inner_text(f"#alert-{alert.pk}")
    assert page.inner_text("#alert-tabs").split() == ["Open", "(0)", "Acknowledged", "(1)", "Resolved", "(0)"]
