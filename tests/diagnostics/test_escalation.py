"""Escalation bundles: what Meta asks for, no secret inside, and honest escalation criteria."""

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.graph import GraphAPIError, GraphClient
from diagnostics import services
from diagnostics.models import EscalationBundle, GraphErrorEvent
from sandbox import demo

TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+14155550101", "type": "text",
        "text": {"body": "Hello"}}


def fail_call(call):
    with pytest.raises(GraphAPIError):
        call()
    return GraphErrorEvent.objects.latest("id")


def client():
    return GraphClient(demo.SYSTEM_USER_TOKEN, max_retries=0,
                       context={"waba_id": demo.WABA_ID, "phone_number_id": demo.PHONE_MAIN, "payload": TEXT})


def criteria(bundle) -> dict:
    return {c["criterion"].split(" ")[1]: c["status"] for c in bundle.data["criteria"]}


def assert_no_secret(text: str):
    for secret in (demo.SYSTEM_USER_TOKEN, demo.APP_SECRET):
        assert secret not in text


def test_a_bundle_from_a_failed_run_has_what_meta_asks_for_and_no_secret(run_checklist, world, support_client):
    world.sandbox.add_token(demo.SYSTEM_USER_TOKEN, app_id=demo.APP_ID, type="USER", expires_at=int(time.time()) - 60)
    run = run_checklist()
    response = support_client.post(reverse("diagnostics:bundle_from_run", args=[run.pk]))
    bundle = EscalationBundle.objects.get()
    assert response.url == reverse("diagnostics:bundle_detail", args=[bundle.pk])
    data = bundle.data
    first = data["requests"][0]
    assert first["method"] == "GET" and first["endpoint"] == f"/v24.0/{demo.WABA_ID}"
    assert first["error"]["error"]["code"] == 190 and first["error"]["error"]["error_subcode"] == 463
    assert data["requests"][-1]["payload"]["to"] == "+14155550101"
    assert data["debug_token"]["is_valid"] is False and data["debug_token"]["type"] == "USER"
    assert any(i["status"] == "fail" for i in data["checklist"])
    page = support_client.get(response.url).content.decode()
    download = support_client.get(reverse("diagnostics:bundle_download", args=[bundle.pk]))
    assert download["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.content)["requests"][0]["error"]["error"]["code"] == 190
    for text in (json.dumps(data), data["text"], page, download.content.decode()):
        assert_no_secret(text)
    assert "Escalation criteria" in data["text"] and "/debug_token (sanitised)" in data["text"]


def test_a_bundle_from_an_error_log_entry_redacts_secrets_echoed_anywhere(world, support_client, support_user):
    # A badly behaved caller put the token into the context and a URL: the bundle still must not show it.
    event = GraphErrorEvent.objects.create(
        code=190, http_status=401, message=f"token {demo.SYSTEM_USER_TOKEN} rejected", method="POST",
        endpoint=f"/v24.0/{demo.PHONE_MAIN}/messages", body={"error": {"code": 190, "message": "x"}},
        context={"phone_number_id": demo.PHONE_MAIN, "payload": TEXT, "access_token": demo.SYSTEM_USER_TOKEN,
                 "note": f"{demo.APP_ID}|{demo.APP_SECRET}"})
    response = support_client.post(reverse("diagnostics:bundle_from_event", args=[event.pk]))
    bundle = EscalationBundle.objects.get(event=event)
    assert response.status_code == 302
    assert bundle.data["requests"][0]["payload"] == TEXT
    assert bundle.data["debug_token"]["is_valid"] is True
    assert_no_secret(json.dumps(bundle.data))
    assert_no_secret(support_client.get(response.url).content.decode())


def test_100_33_on_a_waba_id_is_not_an_escalation(world, support_user):
    event = fail_call(lambda: client().send_message(demo.WABA_ID, TEXT))
    assert (event.code, event.subcode) == (100, 33)
    bundle = services.bundle_build_for_event(event, support_user)
    assert criteria(bundle)["100/33"] == "does_not_hold"
    assert "wrong kind of ID" in json.dumps(bundle.data["criteria"])
    assert bundle.data["verdict"].startswith("Do not escalate yet")


def test_100_33_on_a_number_that_exists_with_both_scopes_is_an_escalation(world, support_user):
    world.sandbox.add_fault(method="POST", path="/messages", code=100, subcode=33, message="Object does not exist")
    event = fail_call(lambda: client().send_message(demo.PHONE_MAIN, TEXT))
    bundle = services.bundle_build_for_event(event, support_user)
    assert criteria(bundle)["100/33"] == "holds"
    assert bundle.data["verdict"].startswith("Escalate to Meta")


def test_190_recurring_on_a_valid_system_user_token_is_an_escalation(world, support_user):
    world.sandbox.add_fault(method="GET", path=demo.WABA_ID, code=190, status=401, times=2, message="Invalid token")
    fail_call(lambda: client().get(f"/{demo.WABA_ID}"))
    event = fail_call(lambda: client().get(f"/{demo.WABA_ID}"))
    assert criteria(services.bundle_build_for_event(event, support_user))["190"] == "holds"


def test_190_on_an_expired_user_token_is_not(world, support_user):
    world.sandbox.add_token(demo.SYSTEM_USER_TOKEN, app_id=demo.APP_ID, type="USER", expires_at=int(time.time()) - 60)
    fail_call(lambda: client().get(f"/{demo.WABA_ID}"))
    event = fail_call(lambda: client().get(f"/{demo.WABA_ID}"))
    assert criteria(services.bundle_build_for_event(event, support_user))["190"] == "does_not_hold"


def _blocks(hours_ago):
    for h in hours_ago:
        GraphErrorEvent.objects.create(code=368, http_status=400, method="POST", message="Temporarily blocked",
                                       endpoint=f"/v24.0/{demo.PHONE_MAIN}/messages",
                                       occurred_at=timezone.now() - timedelta(hours=h),
                                       context={"phone_number_id": demo.PHONE_MAIN})
    return GraphErrorEvent.objects.filter(code=368).latest("occurred_at")


def test_368_beyond_72_hours_with_no_quality_change_is_an_escalation(world, support_user):
    world.phone.last_synced_at = timezone.now() - timedelta(minutes=10)
    world.phone.save()
    event = _blocks([80, 40, 1])
    assert criteria(services.bundle_build_for_event(event, support_user))["368"] == "holds"


def test_368_with_a_quality_change_or_only_recent_blocks_is_not(world, support_user):
    from accounts.models import PhoneNumberChange

    world.phone.last_synced_at = timezone.now()
    world.phone.save()
    recent = _blocks([20, 1])
    assert criteria(services.bundle_build_for_event(recent, support_user))["368"] == "does_not_hold"
    event = _blocks([80])
    PhoneNumberChange.objects.create(phone_number=world.phone, field="quality_rating", old_value="RED",
                                     new_value="YELLOW", observed_at=timezone.now() - timedelta(hours=30))
    assert criteria(services.bundle_build_for_event(event, support_user))["368"] == "does_not_hold"


def test_368_on_an_unsynced_number_and_app_review_cannot_be_evaluated(world, support_user):
    bundle = services.bundle_build_for_event(_blocks([90, 2]), support_user)
    assert criteria(bundle)["368"] == "cannot_evaluate"
    assert criteria(bundle)["Review"] == "cannot_evaluate"
    assert "cannot be evaluated automatically" in bundle.data["text"]
