"""In Chromium: support runs the checklist (items appear one by one) and pastes an error."""

import json

import pytest

from sandbox import demo
from tests.conftest import login
from tests.diagnostics.conftest import RECIPIENT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def start_run(page, phone_number_id):
    page.goto("/diagnostics/checklist/")
    page.select_option("#id_waba_id", demo.WABA_ID)
    page.fill("#id_phone_number_id", phone_number_id)
    page.fill("#id_recipient", RECIPIENT)
    page.fill("#id_text", "Hello from support")
    page.click("#checklist-form button[type=submit]")
    page.wait_for_url("**/diagnostics/checklist/*/")
    # The items load one after another through htmx; the summary is swapped in when the last is done.
    page.wait_for_selector("#run-summary .badge", timeout=20_000)


def test_support_runs_the_checklist_and_sees_each_item(world, support_user, page):
    login(page, "support")
    start_run(page, demo.PHONE_MAIN)
    assert page.locator("li.check-item[data-status]").count() == 11
    assert page.locator("li.check-item.running").count() == 0
    assert page.locator("#run-summary .badge").inner_text() == "pass"
    first = page.locator('li[data-key="auth.bearer"]')
    first.locator("summary").click()
    assert "Authorization: Bearer" in first.inner_text()
    assert demo.SYSTEM_USER_TOKEN not in page.content()


def test_a_failing_run_shows_the_fix_and_builds_an_escalation_bundle(world, support_user, page):
    login(page, "support")
    start_run(page, demo.WABA_ID)
    failing = page.locator('li[data-key="request.phone_number_id"]')
    assert failing.get_attribute("data-status") == "fail"
    assert "WABA ID, not a Phone Number ID" in failing.inner_text()
    assert "/phone_numbers" in failing.locator(".fix").inner_text()
    page.click("text=Build escalation bundle")
    page.wait_for_url("**/diagnostics/bundles/*/")
    assert "Should this go to Meta?" in page.inner_text("main")
    assert page.locator("#bundle-text").inner_text().startswith("Checklist run #")
    assert demo.SYSTEM_USER_TOKEN not in page.content() and demo.APP_SECRET not in page.content()


def test_support_pastes_an_error_and_gets_the_diagnosis(support_user, page):
    login(page, "support")
    page.goto("/diagnostics/diagnose/")
    body = {"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException",
                      "code": 190, "error_subcode": 463, "fbtrace_id": "AbC123"}}
    page.fill("#id_body", json.dumps(body))
    page.click("text=Diagnose")
    page.wait_for_selector(".diagnosis h2")
    assert "Access token expired" in page.inner_text(".diagnosis h2")
    assert "463 — the token has expired." in page.inner_text(".subcode-meaning")
    assert page.get_attribute("text=Rotate or replace the access token", "href") == "/accounts/"
    page.fill("#id_body", '{"error": {"code": 190')
    page.click("text=Diagnose")
    page.wait_for_selector(".diagnosis-problem")
    assert "This is not valid JSON" in page.inner_text(".diagnosis-problem")
    assert page.url.endswith("/diagnostics/diagnose/")  # answered in place by htmx, no error page
