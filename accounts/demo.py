"""Demo data for accounts (called by `manage.py seed_demo`), matching the sandbox's demo world
(sandbox/demo.py): the app, the WABA, two numbers, a healthy System User token (active) and an
expiring user token (kept as the retired previous token). Idempotent."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import transaction
from django.utils import timezone

from accounts.models import WABA, AccessToken, App, PhoneNumber, PhoneNumberChange
from sandbox import demo

BOTH_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management"]


def seed(stdout=None):
    now = timezone.now()
    state = demo.sandbox_state()
    with transaction.atomic():
        app, _ = App.objects.get_or_create(app_id=demo.APP_ID, defaults={"name": "Acme WhatsApp"})
        if app.app_secret != demo.APP_SECRET:
            app.app_secret = demo.APP_SECRET
            app.save()
        waba, _ = WABA.objects.update_or_create(waba_id=demo.WABA_ID, defaults={"name": demo.WABA_NAME, "app": app})
        for phone_id in (demo.PHONE_MAIN, demo.PHONE_PROMO):
            info = state["phone_numbers"][phone_id]
            phone, created = PhoneNumber.objects.update_or_create(phone_number_id=phone_id, defaults={
                "waba": waba, "display_phone_number": info["display_phone_number"],
                "verified_name": info["verified_name"], "quality_rating": info["quality_rating"],
                "messaging_limit_tier": info["messaging_limit"], "status": "CONNECTED", "last_synced_at": now})
            if created:
                PhoneNumberChange.objects.create(phone_number=phone, field=PhoneNumberChange.Field.QUALITY,
                                                 old_value="", new_value="GREEN", observed_at=now - timedelta(days=20))
                if info["quality_rating"] != "GREEN":
                    PhoneNumberChange.objects.create(phone_number=phone, field=PhoneNumberChange.Field.QUALITY,
                                                     old_value="GREEN", new_value=info["quality_rating"],
                                                     observed_at=now - timedelta(days=2))
        tokens = state["tokens"]
        if not AccessToken.objects.filter(waba=waba, active=True).exists():
            user = tokens[demo.USER_TOKEN]
            AccessToken.objects.create(
                waba=waba, token=demo.USER_TOKEN, token_type="USER", scopes=BOTH_SCOPES, is_valid=True,
                app_id=demo.APP_ID, expires_at=datetime.fromtimestamp(user["expires_at"], dt_timezone.utc),
                last_checked_at=now - timedelta(days=31), activated_at=now - timedelta(days=60),
                retired_at=now - timedelta(days=30))
            AccessToken.objects.create(
                waba=waba, token=demo.SYSTEM_USER_TOKEN, token_type="SYSTEM_USER", scopes=BOTH_SCOPES,
                is_valid=True, app_id=demo.APP_ID, expires_at=None, last_checked_at=now, active=True,
                activated_at=now - timedelta(days=30))
    if stdout:
        stdout.write(f"accounts: app {demo.APP_ID}, WABA {demo.WABA_ID}, 2 numbers, tokens ready.")
