"""A small Meta world shared by the accounts tests: one app, one WABA with an active System User
token and one number, present both in the database and in the Graph API sandbox."""

import time
from dataclasses import dataclass

import pytest
from django.utils import timezone

from accounts.models import WABA, AccessToken, App, PhoneNumber

APP_ID = "123456789012345"
APP_SECRET = "test-app-secret-0123456789abcdef"
OTHER_APP_ID = "543210987654321"
WABA_ID = "1234567890123456"
PHONE_ID = "109876543210987"
OLD_TOKEN = "EAAGoldSystemUserToken000000000000000000OLD1"
NEW_TOKEN = "EAAGnewSystemUserToken000000000000000000NEW2"
BOTH = ("whatsapp_business_messaging", "whatsapp_business_management")


@dataclass
class World:
    sandbox: object
    app: App
    waba: WABA
    phone: PhoneNumber
    token: AccessToken
    capture: object

    def committed(self, fn, *args, **kwargs):
        """Run fn and then its on-commit work (fanned-out tasks, notifications), as a real commit would."""
        with self.capture(execute=True):
            return fn(*args, **kwargs)

    def add_token(self, token, **kwargs):
        kwargs.setdefault("app_id", APP_ID)
        self.sandbox.add_token(token, **kwargs)


@pytest.fixture
def world(sandbox, db, django_capture_on_commit_callbacks) -> World:
    sandbox.add_app(APP_ID, APP_SECRET, name="Test app")
    sandbox.add_app(OTHER_APP_ID, "other-secret-0123456789", name="Another app")
    sandbox.add_waba(WABA_ID, name="Test WABA")
    sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID, display="+1 555 010 0001", quality_rating="GREEN",
                             messaging_limit="TIER_10K")
    sandbox.add_token(OLD_TOKEN, app_id=APP_ID, type="SYSTEM_USER", scopes=BOTH)
    app = App.objects.create(app_id=APP_ID, name="Test app", app_secret=APP_SECRET)
    waba = WABA.objects.create(waba_id=WABA_ID, name="Test WABA", app=app)
    phone = PhoneNumber.objects.create(phone_number_id=PHONE_ID, waba=waba, display_phone_number="+1 555 010 0001",
                                       quality_rating="GREEN", messaging_limit_tier="TIER_10K")
    token = AccessToken.objects.create(waba=waba, token=OLD_TOKEN, token_type="SYSTEM_USER", scopes=list(BOTH),
                                       is_valid=True, app_id=APP_ID, active=True, activated_at=timezone.now(),
                                       last_checked_at=timezone.now())
    return World(sandbox, app, waba, phone, token, django_capture_on_commit_callbacks)


def in_days(days: float) -> int:
    return int(time.time() + days * 86400)
