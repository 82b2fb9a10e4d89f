"""A small world for messaging tests: the demo WABA and numbers in the database and the sandbox,
approved templates, and contacts in any consent / window state."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import ratelimit
from messaging.models import Template
from sandbox import demo


@pytest.fixture(autouse=True)
def _fresh_rate_buckets():
    """Bucket state lives in Redis between tests; a pause left by one test must not slow the next."""
    bucket = ratelimit.bucket()
    if isinstance(bucket, ratelimit.RedisBucket):
        for key in bucket.client.scan_iter("wabadesk:bucket:*"):
            bucket.client.delete(key)
    yield


@pytest.fixture(autouse=True)
def _eager_retries(request, _celery_eager):
    """Eager tasks that propagate errors turn `self.retry()` into an exception; letting eager mode
    handle Retry runs the retry at once instead, as a worker would after the countdown."""
    from config.celery import app as celery_app

    if "worker" not in request.keywords:
        celery_app.conf.task_eager_propagates = False
    yield


@pytest.fixture
def world(db, sandbox):
    from accounts.models import AccessToken, App, PhoneNumber, WABA

    sandbox.merge(**demo.sandbox_state())
    app = App.objects.create(app_id=demo.APP_ID, name="Acme WhatsApp", app_secret=demo.APP_SECRET)
    waba = WABA.objects.create(waba_id=demo.WABA_ID, name=demo.WABA_NAME, app=app)
    phone = PhoneNumber.objects.create(phone_number_id=demo.PHONE_MAIN, waba=waba,
                                       display_phone_number="+1 555 010 2030", verified_name="Acme Support")
    AccessToken.objects.create(waba=waba, token=demo.SYSTEM_USER_TOKEN, token_type="SYSTEM_USER", is_valid=True,
                               scopes=["whatsapp_business_messaging", "whatsapp_business_management"], active=True,
                               activated_at=timezone.now())
    for t in demo.TEMPLATES:
        Template.objects.create(waba_id=demo.WABA_ID, template_id=t["id"], name=t["name"], language=t["language"],
                                category=t["category"], status=t["status"], components=t["components"],
                                rejected_reason=t.get("rejected_reason", ""))
    return type("World", (), {"app": app, "waba": waba, "phone": phone, "sandbox": sandbox})


@pytest.fixture
def make_contact(world, django_user_model):
    """make_contact("+14155550101", consent="opted_in"|"opted_out"|"none", window_open=True)"""
    from consent.models import Contact
    from consent.services import consent_record

    recorder = django_user_model.objects.create_user("recorder")

    def make(phone, *, consent="opted_in", window_open=True, name=""):
        contact = Contact.objects.create(phone=phone, name=name or f"Contact {phone[-4:]}")
        if consent in ("opted_in", "opted_out"):
            consent_record(contact, "opt_in", "website_form", recorder, note="test")
        if consent == "opted_out":
            consent_record(contact, "opt_out", "website_form", recorder, note="test")
        if window_open:
            contact.last_inbound_at = timezone.now() - timedelta(hours=1)
            contact.save(update_fields=["last_inbound_at"])
            world.sandbox.set_inbound(phone.lstrip("+"), time.time() - 3600)
        contact.refresh_from_db()
        return contact

    return make


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """message_send as a request would call it: the task is enqueued on commit (eager in tests)."""
    from messaging.services import message_send

    def _send(**kwargs):
        kwargs.setdefault("phone_number_id", demo.PHONE_MAIN)
        with django_capture_on_commit_callbacks(execute=True):
            message = message_send(**kwargs)
        message.refresh_from_db()
        return message

    return _send
