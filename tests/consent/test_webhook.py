"""Meta's webhook: the verify-token handshake, HMAC-SHA256 over the raw body, inbound messages,
STOP keywords, status callbacks, and redeliveries that change nothing twice."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import WABA, App, PhoneNumber
from consent.models import Contact, ConsentEvent, WebhookReceipt
from consent.services import consent_record, contact_get_or_create
from messaging.models import Message
from sandbox import demo

pytestmark = pytest.mark.django_db
URL = "/webhooks/whatsapp/"
NOW = int(timezone.now().timestamp())


@pytest.fixture(autouse=True)
def app():
    return App.objects.create(app_id=demo.APP_ID, name="Acme", app_secret=demo.APP_SECRET)


def sign(body: bytes, secret: str = demo.APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def inbound(text="hello", message_id="wamid.IN1", sender="15551239876", ts=NOW, name="Ana"):
    return {"object": "whatsapp_business_account", "entry": [{"id": demo.WABA_ID, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550102030", "phone_number_id": demo.PHONE_MAIN},
        "contacts": [{"profile": {"name": name}, "wa_id": sender}],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(ts), "type": "text", "text": {"body": text}}],
    }}]}]}


def post(client, payload, signature="auto", raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": sign(body) if signature == "auto" else signature}
    return client.post(URL, body, content_type="application/json", **headers)


def test_handshake_echoes_the_challenge_with_the_right_verify_token(client, settings):
    settings.WEBHOOK_VERIFY_TOKEN = "s3cret-verify"
    ok = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert wrong.status_code == 403 and b"1158201444" not in wrong.content


def test_signed_inbound_message_creates_the_contact_and_opens_the_window(client):
    response = post(client, inbound())
    assert response.status_code == 200
    contact = Contact.objects.get(phone="+15551239876")
    assert (contact.name, contact.wa_id) == ("Ana", "15551239876")
    assert contact.last_inbound_at.timestamp() == NOW
    assert contact.window().is_open


def test_inbound_reopens_a_closed_window(client):
    contact, _ = contact_get_or_create("+15551239876")
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=timezone.now() - timedelta(days=3))
    assert not Contact.objects.get(pk=contact.pk).window().is_open
    post(client, inbound())
    assert Contact.objects.get(pk=contact.pk).window().is_open


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abc", "sha256=é" * 8,
                                       "sha256=" + "g" * 64])
def test_missing_or_bad_signature_is_403_and_changes_nothing(client, signature):
    response = post(client, inbound(), signature=signature)
    assert response.status_code == 403
    assert not Contact.objects.exists() and not WebhookReceipt.objects.exists()


def test_signature_with_another_secret_is_refused(client):
    body = json.dumps(inbound()).encode()
    response = post(client, None, signature=sign(body, "not-the-app-secret"), raw=body)
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_signature_covers_the_raw_bytes_not_the_parsed_json(client):
    body = json.dumps(inbound()).encode()
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, different bytes
    assert post(client, None, signature=sign(body), raw=reformatted).status_code == 403
    assert post(client, None, signature=sign(reformatted), raw=reformatted).status_code == 200


def test_any_configured_app_secret_is_accepted(client):
    App.objects.create(app_id="902194447211036", name="Second", app_secret="second-app-secret")
    body = json.dumps(inbound()).encode()
    assert post(client, None, signature=sign(body, "second-app-secret"), raw=body).status_code == 200


@pytest.mark.parametrize("text", ["STOP", "stop", " Unsubscribe ", "BAJA", "Stop!"])
def test_stop_keywords_record_an_opt_out_via_whatsapp_keyword(client, text):
    contact, _ = contact_get_or_create("+15551239876")
    consent_record(contact, "opt_in", "website_form", "test", occurred_at=timezone.now() - timedelta(days=1))
    post(client, inbound(text=text))
    contact.refresh_from_db()
    assert contact.consent_state == "opted_out"
    event = contact.consent_events.first()
    assert (event.kind, event.channel, event.recorded_by_label) == ("opt_out", "whatsapp_keyword", "whatsapp")


@pytest.mark.parametrize("reply", [
    {"type": "button", "button": {"payload": "opt-out", "text": "Stop promotions"}},
    {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "STOP"}}},
])
def test_a_tapped_stop_button_is_an_opt_out_too(client, reply):
    payload = inbound()
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message.update(reply)
    post(client, payload)
    contact = Contact.objects.get(phone="+15551239876")
    assert contact.consent_state == "opted_out"
    assert contact.consent_events.get().channel == "whatsapp_keyword"


def test_ordinary_text_mentioning_stop_is_not_an_opt_out(client):
    post(client, inbound(text="please don't stop my order"))
    assert not ConsentEvent.objects.exists()


def test_replayed_delivery_changes_nothing_twice(client):
    body = json.dumps(inbound(text="STOP")).encode()
    first = post(client, None, raw=body)
    contact = Contact.objects.get(phone="+15551239876")
    before = (contact.last_inbound_at, contact.consent_state, contact.updated_at)
    second = post(client, None, raw=body)
    assert first.status_code == second.status_code == 200
    contact.refresh_from_db()
    assert (contact.last_inbound_at, contact.consent_state, contact.updated_at) == before
    assert ConsentEvent.objects.count() == 1
    assert Contact.objects.count() == 1


def test_an_older_redelivered_message_does_not_move_the_window_back(client):
    post(client, inbound(message_id="wamid.NEW", ts=NOW))
    post(client, inbound(message_id="wamid.OLD", ts=NOW - 7200))
    assert Contact.objects.get(phone="+15551239876").last_inbound_at.timestamp() == NOW


def test_status_callbacks_update_the_stored_message_once(client):
    waba = WABA.objects.create(waba_id=demo.WABA_ID, name="Acme", app=App.objects.get())
    number = PhoneNumber.objects.create(phone_number_id=demo.PHONE_MAIN, waba=waba)
    contact, _ = contact_get_or_create("+15551239876")
    message = Message.objects.create(idempotency_key="k1", phone_number=number, contact=contact, to=contact.phone,
                                     kind="text", status="sent", wamid="wamid.OUT1")
    payload = {"object": "whatsapp_business_account", "entry": [{"id": demo.WABA_ID, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": demo.PHONE_MAIN},
        "statuses": [{"id": "wamid.OUT1", "status": "delivered", "timestamp": str(NOW), "recipient_id": "15551239876"}]}}]}]}
    assert post(client, payload).status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"
    assert post(client, payload).status_code == 200
    assert WebhookReceipt.objects.filter(key__startswith="status:wamid.OUT1").count() == 1


def test_a_body_that_is_not_json_is_400_after_the_signature_check(client):
    assert post(client, None, raw=b"not json").status_code == 400
