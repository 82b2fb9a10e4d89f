"""Demo data for diagnostics: a week of recorded Graph errors, so the error log, its chart and the
escalation criteria have something to show. Idempotent: each event has a fixed demo fbtrace_id."""

from datetime import timedelta

from django.utils import timezone

from diagnostics.models import GraphErrorEvent
from sandbox import demo

MESSAGES = f"/v24.0/{demo.PHONE_MAIN}/messages"
PROMO_MESSAGES = f"/v24.0/{demo.PHONE_PROMO}/messages"

# (hours ago, http status, code, subcode, type, method, endpoint, message, context)
EVENTS = [
    *[(h, 400, 131047, None, "OAuthException", "POST", MESSAGES, "(#131047) Re-engagement message",
       {"phone_number_id": demo.PHONE_MAIN, "source": "send"}) for h in (0.5, 2, 3, 7, 20, 30, 52, 75, 120)],
    *[(h, 401, 190, 463, "OAuthException", "GET", f"/v24.0/{demo.WABA_ID}/phone_numbers",
       "Error validating access token: Session has expired on Friday, 20-Nov-26 10:00:00 UTC.",
       {"waba_id": demo.WABA_ID, "source": "beat"}) for h in (60, 61, 62)],
    *[(h, 429, 130429, None, "OAuthException", "POST", PROMO_MESSAGES,
       "(#130429) Rate limit hit: Cloud API message throughput has been reached.",
       {"phone_number_id": demo.PHONE_PROMO, "source": "broadcast"}) for h in (26, 26.01, 26.02, 26.03, 26.04)],
    (4, 400, 100, 33, "GraphMethodException", "POST", f"/v24.0/{demo.WABA_ID}/messages",
     f"Unsupported post request. Object with ID '{demo.WABA_ID}' does not exist, cannot be loaded due to missing "
     "permissions, or does not support this operation.", {"source": "public_api"}),
    (9, 400, 100, 2500, "OAuthException", "POST", MESSAGES, "(#100) The parameter to is required",
     {"phone_number_id": demo.PHONE_MAIN, "source": "public_api"}),
    (30, 403, 200, None, "OAuthException", "GET", f"/v24.0/{demo.WABA_ID}/message_templates",
     "(#200) Requires whatsapp_business_management permission to manage the object", {"waba_id": demo.WABA_ID}),
    (100, 400, 368, None, "OAuthException", "POST", PROMO_MESSAGES, "(#368) Temporarily blocked for policies violations",
     {"phone_number_id": demo.PHONE_PROMO, "source": "broadcast"}),
    (1, 400, 368, None, "OAuthException", "POST", PROMO_MESSAGES, "(#368) Temporarily blocked for policies violations",
     {"phone_number_id": demo.PHONE_PROMO, "source": "broadcast"}),
    (14, 400, 132001, None, "OAuthException", "POST", MESSAGES, "(#132001) Template name does not exist in the translation",
     {"phone_number_id": demo.PHONE_MAIN, "source": "send"}),
    (5, 0, None, None, "", "GET", f"/v24.0/{demo.WABA_ID}/message_templates",
     "No response from the Graph API: ConnectTimeout", {"waba_id": demo.WABA_ID, "source": "beat"}),
]


def seed(stdout) -> None:
    now = timezone.now()
    for n, (hours, status, code, subcode, type_, method, endpoint, message, context) in enumerate(EVENTS, 1):
        trace = f"demo{n:03d}"
        error = {"message": message, "type": type_, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = trace
        GraphErrorEvent.objects.update_or_create(
            fbtrace_id=trace,
            defaults={"occurred_at": now - timedelta(hours=hours), "http_status": status, "code": code,
                      "subcode": subcode, "type": type_, "message": message, "method": method,
                      "endpoint": endpoint, "body": {"error": error} if code is not None else {}, "context": context},
        )
    stdout.write(f"diagnostics: {len(EVENTS)} recorded Graph errors over the last week")
