"""The demo world, shared by the sandbox (`graph_sandbox --demo`) and `manage.py seed_demo`.

The IDs and tokens are fixed so the database and the sandbox agree across restarts. They are
demo values that only the sandbox accepts.
"""

import time

APP_ID = "902194447211035"
APP_SECRET = "demo0app0secret0d1e2f3a4b5c6d7e8"
WABA_ID = "1029384756102938"
WABA_NAME = "Acme Support"
PHONE_MAIN = "109283746501928"
PHONE_PROMO = "109283746501929"
SYSTEM_USER_TOKEN = "EAAGdemoSystemUserToken0000000000000000000000000001"
USER_TOKEN = "EAAGdemoShortLivedUserToken00000000000000000000000002"

TEMPLATES = [
    {"id": "7001", "name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
     "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."}]},
    {"id": "7002", "name": "appointment_reminder", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
     "components": [{"type": "BODY", "text": "Reminder: your appointment is on {{1}} at {{2}}."}]},
    {"id": "7003", "name": "spring_sale", "language": "en_US", "status": "APPROVED", "category": "MARKETING",
     "components": [{"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
                    {"type": "BODY", "text": "Hi {{1}}, enjoy 20% off everything this week!"},
                    {"type": "FOOTER", "text": "Reply STOP to opt out"}]},
    {"id": "7004", "name": "login_code", "language": "en_US", "status": "APPROVED", "category": "AUTHENTICATION",
     "components": [{"type": "BODY", "text": "{{1}} is your verification code."}]},
    {"id": "7005", "name": "loyalty_points", "language": "en_US", "status": "PENDING", "category": "UTILITY",
     "components": [{"type": "BODY", "text": "Great news {{1}}! Buy now and get double points, limited offer!"}]},
    {"id": "7006", "name": "winback_offer", "language": "en_US", "status": "REJECTED", "category": "MARKETING",
     "rejected_reason": "INVALID_FORMAT",
     "components": [{"type": "BODY", "text": "We miss you! Come back for a {{1}} discount."}]},
    {"id": "7007", "name": "feedback_request", "language": "es_ES", "status": "PAUSED", "category": "MARKETING",
     "components": [{"type": "BODY", "text": "¿Qué te pareció tu compra, {{1}}?"}]},
    {"id": "7008", "name": "old_newsletter", "language": "en_US", "status": "DISABLED", "category": "MARKETING",
     "components": [{"type": "BODY", "text": "Our monthly newsletter is here."}]},
]


def sandbox_state() -> dict:
    """The sandbox's state for the demo (the user token expires in three days)."""
    now = int(time.time())
    both = ["whatsapp_business_messaging", "whatsapp_business_management"]
    return {
        "apps": {APP_ID: {"secret": APP_SECRET, "name": "Acme WhatsApp"}},
        "tokens": {
            SYSTEM_USER_TOKEN: {"app_id": APP_ID, "type": "SYSTEM_USER", "scopes": both, "expires_at": 0,
                                "issued_at": now - 30 * 86400, "user_id": "61550000000001"},
            USER_TOKEN: {"app_id": APP_ID, "type": "USER", "scopes": both, "expires_at": now + 3 * 86400,
                         "issued_at": now - 3600, "user_id": "61550000000002"},
        },
        "wabas": {WABA_ID: {"name": WABA_NAME, "currency": "USD", "timezone_id": "1"}},
        "phone_numbers": {
            PHONE_MAIN: {"waba_id": WABA_ID, "display_phone_number": "+1 555 010 2030", "verified_name": "Acme Support",
                         "quality_rating": "GREEN", "messaging_limit": "TIER_10K"},
            PHONE_PROMO: {"waba_id": WABA_ID, "display_phone_number": "+1 555 010 2031", "verified_name": "Acme Deals",
                          "quality_rating": "YELLOW", "messaging_limit": "TIER_1K"},
        },
        "templates": {WABA_ID: TEMPLATES},
    }
