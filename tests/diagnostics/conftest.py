"""A world for diagnostics tests: the demo WABA, number, token and templates in the database and the
sandbox, and a recipient who opted in and wrote an hour ago. Each test then breaks one thing."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox import demo

RECIPIENT = "+14155550101"
BOTH_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management"]


@pytest.fixture
def world(db, sandbox, django_user_model):
    from accounts.models import AccessToken, App, PhoneNumber, WABA
    from consent.models import Contact
    from consent.services import consent_record
    from messaging.models import Template

    sandbox.merge(**demo.sandbox_state())
    app = App.objects.create(app_id=demo.APP_ID, name="Acme WhatsApp", app_secret=demo.APP_SECRET)
    waba = WABA.objects.create(waba_id=demo.WABA_ID, name=demo.WABA_NAME, app=app)
    phone = PhoneNumber.objects.create(phone_number_id=demo.PHONE_MAIN, waba=waba, display_phone_number="+1 555 010 2030",
                                       verified_name="Acme Support", quality_rating="GREEN")
    token = AccessToken.objects.create(waba=waba, token=demo.SYSTEM_USER_TOKEN, token_type="SYSTEM_USER", is_valid=True,
                                       scopes=BOTH_SCOPES, active=True, activated_at=timezone.now())
    for t in demo.TEMPLATES:
        Template.objects.create(waba_id=demo.WABA_ID, template_id=t["id"], name=t["name"], language=t["language"],
                                category=t["category"], status=t["status"], components=t["components"])
    recorder = django_user_model.objects.create_user("recorder")
    contact = Contact.objects.create(phone=RECIPIENT, name="Ana", last_inbound_at=timezone.now() - timedelta(hours=1))
    consent_record(contact, "opt_in", "website_form", recorder, note="test")
    sandbox.set_inbound(RECIPIENT.lstrip("+"), time.time() - 3600)
    return type("World", (), {"app": app, "waba": waba, "phone": phone, "token": token, "contact": contact,
                              "sandbox": sandbox, "recorder": recorder})


@pytest.fixture
def run_checklist(world, support_user):
    """run_checklist(**inputs) → the finished ChecklistRun (defaults: a healthy free-form send)."""
    from diagnostics import services

    def run(**inputs):
        inputs = {"waba_id": demo.WABA_ID, "phone_number_id": demo.PHONE_MAIN, "recipient": RECIPIENT,
                  "text": "Hello from the checklist", **inputs}
        started = services.checklist_run_start(user=support_user, **inputs)
        return services.checklist_run_all(started)

    return run


def item(run, key) -> dict:
    return next(i for i in run.items if i["key"] == key)
