"""Demo data for messaging: the sandbox's templates, a few blacklisted numbers and a message log with
successes and the common failures. Idempotent: fixed keys, update_or_create."""

from datetime import timedelta

from django.utils import timezone

from messaging.models import BlacklistChange, BlacklistEntry, Message, Template
from sandbox import demo

BLACKLIST = [
    ("+14155559901", "Asked us never to contact them again"),
    ("+14155559902", "Chargeback dispute"),
    ("+447700900901", "Reported as spam"),
]

# (key, status, kind, error code, subcode, message)
LOG = [
    ("demo-msg-01", "read", "template", None, None, ""),
    ("demo-msg-02", "delivered", "template", None, None, ""),
    ("demo-msg-03", "sent", "text", None, None, ""),
    ("demo-msg-04", "failed", "text", 131047, None, "Message failed to send because more than 24 hours have passed "
                                                   "since the customer last replied to this number."),
    ("demo-msg-05", "failed", "template", 131026, None, "Message undeliverable"),
    ("demo-msg-06", "failed", "template", 132001, None, "Template name does not exist in the translation"),
    ("demo-msg-07", "failed", "template", 130429, None, "Rate limit hit: Cloud API message throughput has been reached."),
    ("demo-msg-08", "failed", "template", 100, 33, "Unsupported post request. Object with ID does not exist"),
]


def seed(stdout):
    for t in demo.TEMPLATES:
        Template.objects.update_or_create(
            waba_id=demo.WABA_ID, name=t["name"], language=t["language"],
            defaults={"template_id": t["id"], "category": t["category"], "status": t["status"],
                      "components": t["components"], "rejected_reason": t.get("rejected_reason", "")},
        )
    for phone, reason in BLACKLIST:
        _, created = BlacklistEntry.objects.get_or_create(phone=phone, defaults={"reason": reason})
        if created:
            BlacklistChange.objects.create(phone=phone, action=BlacklistChange.Action.ADDED, reason=reason)
    log_count = _seed_log()
    stdout.write(f"messaging: {len(demo.TEMPLATES)} templates, {len(BLACKLIST)} blacklisted numbers, "
                 f"{log_count} logged messages")


def _seed_log() -> int:
    try:
        from accounts.models import PhoneNumber
        from consent.models import Contact
    except ImportError:
        return 0
    phone = PhoneNumber.objects.filter(phone_number_id=demo.PHONE_MAIN).first()
    contacts = list(Contact.objects.order_by("id")[: len(LOG)])
    if phone is None or not contacts:
        return 0
    order_update = Template.objects.get(waba_id=demo.WABA_ID, name="order_update", language="en_US")
    now = timezone.now()
    for i, (key, status, kind, code, subcode, text) in enumerate(LOG):
        contact = contacts[i % len(contacts)]
        if kind == "text":
            payload = {"messaging_product": "whatsapp", "to": contact.phone, "type": "text",
                       "text": {"body": "Thanks for your message, we are on it."}}
        else:
            payload = {"messaging_product": "whatsapp", "to": contact.phone, "type": "template",
                       "template": {"name": "order_update", "language": {"code": "en_US"}}}
        at = now - timedelta(hours=len(LOG) - i)
        Message.objects.update_or_create(idempotency_key=key, defaults={
            "phone_number": phone, "contact": contact, "to": contact.phone, "kind": kind,
            "template": order_update if kind == "template" else None, "payload": payload, "status": status,
            "attempts": 1, "wamid": None if status == "failed" else f"wamid.demo{i:02d}", "error_code": code,
            "error_subcode": subcode, "error_message": text, "source": "dashboard", "sent_at": at, "status_at": at,
            "fbtrace_id": f"ADemoTrace{i:02d}" if code else "",
        })
    return len(LOG)
