"""Who is calling: Bearer API key, optional HMAC signature, IP allowlist, scope, rate limit.

Checks run in that order and each failure is the table's error:
  190/401 OAuthException — error_data.reason and subcode:
      key_missing (no subcode) · key_unknown (467, Meta's "invalid access token") ·
      key_revoked (460, "session invalidated") · key_expired (463, "session expired") ·
      signature_missing / signature_invalid / signature_expired / signature_replayed (467)
  200/403 OAuthException — ip_not_allowed · scope_missing
  4/429 OAuthException + Retry-After — rate_limited

Signing: X-Wabadesk-Timestamp (Unix seconds) and X-Wabadesk-Signature = hex HMAC-SHA256 keyed
with the API key itself over f"{timestamp}.{raw body}". The timestamp must be within 5 minutes
of our clock and a signature is accepted once (a retry re-signs with a fresh timestamp).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.core.cache import cache

from messaging.api import errors
from messaging.api.models import ApiKey
from messaging.api.ratelimit import rate_limit_check
from messaging.api.services import KEY_PREFIX, api_key_touch, key_hash

SIGNATURE_WINDOW = 300
TIMESTAMP_HEADER = "X-Wabadesk-Timestamp"
SIGNATURE_HEADER = "X-Wabadesk-Signature"


def sign(raw_key: str, timestamp: int | str, body: bytes) -> str:
    """The signature a client sends (used by tests, the bench and the docs)."""
    return hmac.new(raw_key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def client_ip(request) -> str:
    # REMOTE_ADDR only: behind a proxy, the proxy must set it (X-Forwarded-For is spoofable).
    return request.META.get("REMOTE_ADDR", "")


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        raise errors.auth_failed("An API key is required: send it as 'Authorization: Bearer wbd_…'", "key_missing")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.auth_failed("Invalid API key - the Authorization header must be 'Bearer <key>'", "key_unknown",
                                 subcode=467)
    return value.strip()


def _key_for(raw: str) -> ApiKey:
    unknown = errors.auth_failed("Invalid API key - it is wrong or was never issued", "key_unknown", subcode=467)
    if not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        raise unknown
    api_key = ApiKey.objects.filter(prefix=raw[:16]).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, key_hash(raw)):
        raise unknown
    if api_key.is_revoked:
        raise errors.auth_failed("Invalid API key - it has been revoked", "key_revoked", subcode=460)
    if api_key.is_expired():
        raise errors.auth_failed(f"Invalid API key - it expired on {api_key.expires_at:%Y-%m-%d %H:%M UTC}",
                                 "key_expired", subcode=463)
    return api_key


def _verify_signature(request, api_key: ApiKey, raw: str) -> None:
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "").strip().lower().removeprefix("sha256=")
    if not timestamp and not signature:
        if api_key.require_signature:
            raise errors.auth_failed(f"This API key requires signed requests ({TIMESTAMP_HEADER} and "
                                     f"{SIGNATURE_HEADER})", "signature_missing", subcode=467)
        return
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise errors.auth_failed(f"{TIMESTAMP_HEADER} must be Unix seconds", "signature_invalid", subcode=467) from None
    if age > SIGNATURE_WINDOW:
        raise errors.auth_failed("Request signature expired: the timestamp is more than 5 minutes from server time",
                                 "signature_expired", subcode=467)
    if not hmac.compare_digest(sign(raw, timestamp, request.body), signature):
        raise errors.auth_failed("Invalid request signature", "signature_invalid", subcode=467)
    if not cache.add(f"publicapi:sig:{signature}", 1, timeout=SIGNATURE_WINDOW + 5):
        raise errors.auth_failed("This signed request was already received (replay)", "signature_replayed",
                                 subcode=467)


def authenticate(request, scope: str) -> ApiKey:
    raw = _bearer(request)
    api_key = _key_for(raw)
    _verify_signature(request, api_key, raw)
    ip = client_ip(request)
    if not api_key.ip_allowed(ip):
        raise errors.permission_denied(f"(#200) Requests from {ip or 'this address'} are not allowed for this API key",
                                       "ip_not_allowed")
    if scope not in api_key.scopes:
        raise errors.permission_denied(f"(#200) This API key lacks the '{scope}' scope", "scope_missing",
                                       required_scope=scope)
    retry_after = rate_limit_check(api_key.prefix, api_key.rate_limit_per_minute)
    if retry_after is not None:
        raise errors.rate_limited(retry_after, api_key.rate_limit_per_minute)
    api_key_touch(api_key, ip or None)
    return api_key
