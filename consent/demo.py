"""Demo contacts for `manage.py seed_demo`: ~200 contacts in mixed consent and 24-hour window states.

Idempotent: contacts are keyed by phone, consent events by a dedupe key, and the window times are
re-anchored to "now" on each run so the demo always shows open windows counting down.
"""

from datetime import timedelta

from django.utils import timezone

from consent.models import Contact
from consent.services import consent_record, contact_get_or_create

FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Luis",
         "Maya", "Nico", "Olga", "Pablo", "Rosa", "Sami", "Tara", "Vera"]
LAST = ["Silva", "Stone", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Costa", "Okafor", "Lind"]
CHANNELS = ["website_form", "paper", "import", "api", "operator"]
COUNT = 200


def seed(stdout):
    now = timezone.now()
    for i in range(COUNT):
        phone = f"+1555010{i:04d}" if i % 4 else f"+44770090{i:04d}"
        contact, _ = contact_get_or_create(phone, f"{FIRST[i % len(FIRST)]} {LAST[i // len(FIRST) % len(LAST)]}")
        # Windows: a third open (various times left), a third closed recently, a third never wrote.
        if i % 3 == 0:
            inbound = now - timedelta(minutes=7 + 13 * i % (23 * 60))
        elif i % 3 == 1:
            inbound = now - timedelta(hours=25 + i % 72)
        else:
            inbound = None
        Contact.objects.filter(pk=contact.pk).update(last_inbound_at=inbound, wa_id=phone[1:])
        # Consent: opted in (most), opted in then out (STOP), nothing recorded.
        if i % 5 != 4:
            consent_record(contact, "opt_in", CHANNELS[i % len(CHANNELS)], "demo", note="demo data",
                           occurred_at=now - timedelta(days=30 + i), dedupe_key=f"demo:in:{phone}")
        if i % 7 == 3:
            consent_record(contact, "opt_out", "whatsapp_keyword", "whatsapp", note="Sent “STOP” on WhatsApp",
                           occurred_at=now - timedelta(days=2, hours=i % 24), dedupe_key=f"demo:out:{phone}")
    # The numbers on the demo blacklist are contacts too, so the "blacklisted" filter has something to show.
    for phone in ("+14155559901", "+14155559902", "+447700900901"):
        contact_get_or_create(phone, "Blacklisted demo")
    stdout.write(f"consent: {COUNT} contacts (mixed consent and 24-hour window states)")
