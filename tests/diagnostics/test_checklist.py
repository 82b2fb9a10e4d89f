"""The checklist, run for real against the sandbox: a healthy setup passes, and each broken state
fails exactly the item that explains it, with the fix."""

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from diagnostics.checklist import CHECKS
from diagnostics.models import ChecklistRun
from sandbox import demo
from tests.diagnostics.conftest import RECIPIENT, item

ORDER = [c.key for c in CHECKS]


def statuses(run) -> dict:
    return {i["key"]: i["status"] for i in run.items}


def test_a_healthy_setup_passes_every_item_in_order(run_checklist, support_user):
    run = run_checklist()
    assert [i["key"] for i in run.items] == ORDER
    assert statuses(run) == {**{k: "pass" for k in ORDER}, "policy.template_category": "na"}
    assert (run.status, run.result, run.created_by) == ("done", "pass", support_user)
    assert run.finished_at is not None


def test_an_approved_template_with_a_closed_window_passes(run_checklist, world):
    world.contact.last_inbound_at = timezone.now() - timedelta(days=2)
    world.contact.save()
    run = run_checklist(template_name="order_update", template_language="en_US", text="")
    assert item(run, "policy.window")["status"] == "pass"
    payload = item(run, "request.payload")["evidence"][0]["answer"]
    assert payload["type"] == "template" and payload["template"]["name"] == "order_update"
    assert len(payload["template"]["components"][0]["parameters"]) == 2  # {{1}} and {{2}}


def test_a_token_stored_with_the_bearer_prefix_fails_the_first_item(run_checklist, world):
    world.token.token = "Bearer " + demo.SYSTEM_USER_TOKEN
    world.token.save()
    run = run_checklist()
    first = item(run, "auth.bearer")
    assert first["status"] == "fail" and "Bearer Bearer" in first["summary"]
    assert "without “Bearer ” or spaces" in first["fix"][0]


def test_an_expired_token_fails_debug_token_with_the_rotate_fix(run_checklist, world):
    world.sandbox.add_token(demo.SYSTEM_USER_TOKEN, app_id=demo.APP_ID, type="USER", expires_at=int(time.time()) - 60)
    run = run_checklist()
    debug = item(run, "auth.debug_token")
    assert debug["status"] == "fail" and "is_valid: false" in debug["summary"]
    assert debug["error"] == {"code": 190, "subcode": 463}
    assert debug["fix"][0] == "Replace the token before any other debugging step."
    assert "rotate_token" in debug["actions"]
    assert run.result == "fail"


def test_a_missing_scope_fails_the_scope_item(run_checklist, world):
    world.sandbox.add_token(demo.SYSTEM_USER_TOKEN, app_id=demo.APP_ID, scopes=["whatsapp_business_management"])
    run = run_checklist()
    scopes = item(run, "auth.scopes")
    assert scopes["status"] == "fail" and "missing whatsapp_business_messaging" in scopes["summary"]
    assert "Regenerate the token selecting both" in scopes["fix"][0]
    assert item(run, "auth.debug_token")["status"] == "pass"


def test_a_user_token_fails_the_system_user_item(run_checklist, world):
    world.token.token = demo.USER_TOKEN
    world.token.save()
    run = run_checklist()
    kind = item(run, "auth.system_user")
    assert kind["status"] == "fail" and "USER token, not a System User token" in kind["summary"]
    assert any("System Users" in step for step in kind["fix"])
    assert statuses(run)["auth.debug_token"] == "pass"  # valid today, but it will expire


def test_a_waba_id_used_as_phone_number_id_fails_request_construction(run_checklist):
    run = run_checklist(phone_number_id=demo.WABA_ID)
    pid = item(run, "request.phone_number_id")
    assert pid["status"] == "fail" and "WABA ID, not a Phone Number ID" in pid["summary"]
    assert pid["evidence"][0]["answer"]["metadata"]["type"] == "whatsapp_business_account"
    assert any("/phone_numbers" in step for step in pid["fix"])
    assert item(run, "policy.quality")["status"] == "na"


def test_an_unknown_phone_number_id_fails_with_100_33(run_checklist):
    run = run_checklist(phone_number_id="109283746500000")
    pid = item(run, "request.phone_number_id")
    assert pid["status"] == "fail" and pid["error"] == {"code": 100, "subcode": 33}


@pytest.mark.parametrize("recipient, reason", [("+1 415 555 0101", "spaces"), ("0014155550101", "00 prefix"),
                                               ("14155550101", "missing the + prefix")])
def test_a_recipient_not_in_e164_fails_with_the_reason(run_checklist, recipient, reason):
    run = run_checklist(recipient=recipient)
    rec = item(run, "request.recipient")
    assert rec["status"] == "fail" and reason in rec["summary"]
    assert "no spaces, dashes, or 00 prefix" in rec["fix"][0]
    assert item(run, "request.payload")["status"] == "fail"  # no valid "to" to put in the payload


def test_a_payload_without_text_or_template_fails_with_100_2500(run_checklist):
    run = run_checklist(text="")
    payload = item(run, "request.payload")
    assert payload["status"] == "fail" and "text.body" in payload["summary"]
    assert payload["error"] == {"code": 100, "subcode": 2500}


def test_a_closed_window_without_a_template_fails_with_131047(run_checklist, world):
    world.contact.last_inbound_at = timezone.now() - timedelta(hours=25)
    world.contact.save()
    run = run_checklist()
    window = item(run, "policy.window")
    assert window["status"] == "fail" and "131047" in window["summary"]
    assert "Send an APPROVED template instead of free text." in window["fix"]
    assert set(window["actions"]) == {"contact", "templates"}


def test_a_template_that_is_not_approved_fails_the_window_item(run_checklist, world):
    world.contact.last_inbound_at = None
    world.contact.save()
    run = run_checklist(template_name="feedback_request", template_language="es_ES", text="")
    window = item(run, "policy.window")
    assert window["status"] == "fail" and "PAUSED" in window["summary"] and window["error"]["code"] == 132015


def test_no_opt_in_on_record_fails_the_consent_item(run_checklist, world):
    from consent.services import consent_record

    consent_record(world.contact, "opt_out", "whatsapp_keyword", world.recorder, note="STOP")
    run = run_checklist()
    consent = item(run, "policy.opt_in")
    assert consent["status"] == "fail" and "No opt-in on record" in consent["summary"]
    assert consent["actions"] == ["contact"]
    unknown = run_checklist(recipient="+14155550199")
    assert "no contact record" in item(unknown, "policy.opt_in")["summary"]


def test_a_blacklisted_recipient_fails_the_consent_item(run_checklist):
    from messaging.models import BlacklistEntry

    BlacklistEntry.objects.create(phone=RECIPIENT, reason="asked us to stop")
    consent = item(run_checklist(), "policy.opt_in")
    assert consent["status"] == "fail" and consent["actions"] == ["blacklist"]


def test_a_red_quality_rating_fails_and_yellow_warns(run_checklist, world):
    world.sandbox.add_phone_number(demo.PHONE_MAIN, waba_id=demo.WABA_ID, quality_rating="RED")
    red = item(run_checklist(), "policy.quality")
    assert red["status"] == "fail" and red["summary"] == "Quality rating is RED."
    assert red["fix"][0] == "Pause non-essential sends."
    world.sandbox.add_phone_number(demo.PHONE_MAIN, waba_id=demo.WABA_ID, quality_rating="YELLOW")
    run = run_checklist()
    assert item(run, "policy.quality")["status"] == "warn" and run.result == "warn"


def test_a_utility_template_that_reads_like_marketing_fails_the_category_item(run_checklist, world):
    from messaging.models import Template

    Template.objects.filter(name="order_update").update(components=[
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} shipped. Buy now and save 20%, limited time!"}])
    run = run_checklist(template_name="order_update", template_language="en_US", text="")
    category = item(run, "policy.template_category")
    assert category["status"] == "fail" and "buy now" in category["summary"]


def test_evidence_never_contains_the_token_or_the_app_secret(run_checklist, world):
    world.sandbox.add_token(demo.SYSTEM_USER_TOKEN, app_id=demo.APP_ID, type="USER", expires_at=int(time.time()) - 60)
    run = run_checklist()
    stored = json.dumps([run.items, run.facts])
    assert demo.SYSTEM_USER_TOKEN not in stored and demo.APP_SECRET not in stored
    assert demo.SYSTEM_USER_TOKEN[-4:] in stored  # the masked form identifies which token it was


def test_the_run_page_loads_items_one_by_one(support_client, world, support_user):
    response = support_client.post(reverse("diagnostics:checklist"), {
        "waba_id": demo.WABA_ID, "phone_number_id": demo.PHONE_MAIN, "recipient": RECIPIENT, "text": "Hi"})
    run = ChecklistRun.objects.get()
    assert response.url == reverse("diagnostics:checklist_run", args=[run.pk])
    page = support_client.get(response.url).content.decode()
    assert 'hx-get="%s"' % reverse("diagnostics:checklist_step", args=[run.pk, 0]) in page
    step = support_client.get(reverse("diagnostics:checklist_step", args=[run.pk, 0]), HTTP_HX_REQUEST="true")
    html = step.content.decode()
    assert 'data-key="auth.bearer"' in html and 'data-status="pass"' in html
    assert reverse("diagnostics:checklist_step", args=[run.pk, 1]) in html  # the next item loads itself
    assert 'hx-swap-oob="true"' in html and "1 of %d checked" % len(CHECKS) in html
    run.refresh_from_db()
    assert len(run.items) == 1 and run.status == "running"
    again = support_client.get(reverse("diagnostics:checklist_step", args=[run.pk, 0]), HTTP_HX_REQUEST="true")
    assert 'data-key="auth.bearer"' in again.content.decode()
    run.refresh_from_db()
    assert len(run.items) == 1  # a reloaded step reads the stored item, it doesn't call Meta again
    for index in range(1, len(CHECKS)):
        support_client.get(reverse("diagnostics:checklist_step", args=[run.pk, index]), HTTP_HX_REQUEST="true")
    run.refresh_from_db()
    assert run.status == "done" and run.result == "pass"
    saved = support_client.get(reverse("diagnostics:checklist_run", args=[run.pk])).content.decode()
    assert saved.count('class="check-item ') == len(CHECKS) and "checking…" not in saved


def test_the_checklist_form_refuses_an_unknown_waba(support_client, world):
    response = support_client.post(reverse("diagnostics:checklist"), {"waba_id": "9999999999999999",
                                                                      "phone_number_id": demo.PHONE_MAIN})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not ChecklistRun.objects.exists()
