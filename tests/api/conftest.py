"""The public API's world: the demo WABA and numbers in the database AND in the sandbox, a contact
who opted in and wrote recently (window open), another whose window closed, a blacklisted number,
and API keys made through the same service the dashboard uses."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.api.services import api_key_create
from sandbox import demo

OPEN = "+15550001001"  # opted in, wrote an hour ago
CLOSED = "+15550001002"  # opted in, last wrote two days ago
NO_CONSENT = "+15550001003"  # never opted in
BLACKLISTED = "+15550001004"  # opted in but on the tenant blacklist
URL = f"/v24.0/{demo.PHONE_MAIN}/messages"


@pytest.fixture
def world(transactional_db, sandbox):
    """Committed data (transactional_db): the send task is enqueued on commit and, eager in tests,
    calls the sandbox inside the request, as a worker would right after it."""
    from accounts.models import WABA, AccessToken, App, PhoneNumber
    from consent.models import Contact
    from messaging.models import Template
    from messaging.services import blacklist_add

    sandbox.merge(**demo.sandbox_state())
    app = App.objects.create(app_id=demo.APP_ID, name="Acme WhatsApp", app_secret=demo.APP_SECRET)
    waba = WABA.objects.create(waba_id=demo.WABA_ID, name=demo.WABA_NAME, app=app)
    PhoneNumber.objects.create(phone_number_id=demo.PHONE_MAIN, waba=waba, display_phone_number="+1 555 010 2030",
                               verified_name="Acme Support", quality_rating="GREEN", status="CONNECTED")
    AccessToken.objects.create(waba=waba, token=demo.SYSTEM_USER_TOKEN, token_type="SYSTEM_USER", is_valid=True,
                               scopes=["whatsapp_business_messaging", "whatsapp_business_management"],
                               active=True, activated_at=timezone.now(), app_id=demo.APP_ID)
    for t in demo.TEMPLATES:
        Template.objects.create(waba_id=demo.WABA_ID, template_id=t["id"], name=t["name"], language=t["language"],
                                category=t["category"], status=t["status"], components=t["components"])
    for phone, wrote in ((OPEN, timedelta(hours=1)), (CLOSED, timedelta(days=2)), (BLACKLISTED, timedelta(hours=1))):
        Contact.objects.create(phone=phone, consent_state="opted_in", consent_channel="web_form",
                               consent_changed_at=timezone.now() - timedelta(days=30),
                               last_inbound_at=timezone.now() - wrote)
        sandbox.set_inbound(phone.lstrip("+"), time.time() - wrote.total_seconds())
    Contact.objects.create(phone=NO_CONSENT)
    blacklist_add(BLACKLISTED, "asked us to stop")
    sandbox.clear_calls()
    return sandbox


@pytest.fixture
def make_key(db):
    def make(scopes=("send", "read"), **options):
        return api_key_create(name=options.pop("name", "test key"), scopes=list(scopes), **options)[1]
    return make


@pytest.fixture
def key(make_key) -> str:
    return make_key()


def auth(raw_key: str, **headers) -> dict:
    """Test-client kwargs: the Bearer key plus headers by name (REMOTE_ADDR passes through as is)."""
    extra = {k if k == "REMOTE_ADDR" else f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_key}", **extra}


def text_body(to: str = OPEN, text: str = "Your order has shipped") -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"body": text}}


def template_body(to: str = OPEN, name: str = "order_update") -> dict:
    return {"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": name, "language": {"code": "en_US"},
                         "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ann"},
                                                                         {"type": "text", "text": "A-1"}]}]}}


def post(client, raw_key: str, body, url: str = URL, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **auth(raw_key, **headers))


def meta_sends(sandbox) -> list[dict]:
    return [c for c in sandbox.calls() if c["method"] == "POST" and c["path"].endswith("/messages")]


def graph_error(response, status: int, code: int, reason: str | None = None) -> dict:
    """Assert a Graph-shaped error and return its `error` object."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == ("OAuthException" if code in (190, 200, 4) else "GraphMethodException")
    assert error["message"] and error["fbtrace_id"]
    if reason is not None:
        assert error["error_data"]["reason"] == reason
    return error
