"""Demo data for the public API: one key with a fixed, public value — so only with DEBUG on.

Try it against `make run`:
    curl -X POST http://127.0.0.1:8000/v24.0/109283746501928/messages \
      -H "Authorization: Bearer wbd_0000demo0000_only-valid-in-debug-demo-data" \
      -H "Content-Type: application/json" \
      -d '{"messaging_product": "whatsapp", "to": "+15551230001", "type": "template",
           "template": {"name": "order_update", "language": {"code": "en_US"}}}'
"""

from django.conf import settings

from messaging.api.models import ApiKey
from messaging.api.services import key_hash

DEMO_KEY = "wbd_0000demo0000_only-valid-in-debug-demo-data"


def seed(stdout) -> None:
    if not settings.DEBUG:
        stdout.write("publicapi: demo API key skipped (DEBUG is off; its value is public).")
        return
    ApiKey.objects.update_or_create(
        prefix=DEMO_KEY[:16],
        defaults={"name": "Demo key (DEBUG only)", "key_hash": key_hash(DEMO_KEY), "scopes": ["read", "send"],
                  "rate_limit_per_minute": 600, "revoked_at": None, "expires_at": None},
    )
    stdout.write(f"publicapi: demo API key {DEMO_KEY}")
