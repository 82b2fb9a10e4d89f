"""Writes of the public API: keys, idempotency records, and the API's call of THE send path."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.api import errors
from messaging.api.models import ApiKey, IdempotencyRecord

log = structlog.get_logger(__name__)

KEY_PREFIX = "wbd_"
IDEMPOTENCY_TTL = timedelta(hours=24)
# A claim older than this whose process never finished (crash, kill) may be taken over; the
# Message's own idempotency key still keeps Meta from seeing the message twice.
IN_FLIGHT_TAKEOVER = timedelta(minutes=2)
# Meta codes of failures that a later retry can cure: reported as 131000/500, others as 131000/400.
TRANSIENT_META_CODES = frozenset({None, 1, 2, 4, 17, 32, 80007, 130429, 131000, 131016})


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, name: str, scopes: list[str], created_by=None, allowed_ips: str = "",
                   rate_limit_per_minute: int = 600, require_signature: bool = False,
                   expires_at=None) -> tuple[ApiKey, str]:
    """Create a key; returns (row, raw key). The raw key exists only in this return value."""
    lookup = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        name=name, prefix=f"{KEY_PREFIX}{lookup}", key_hash=key_hash(raw), scopes=sorted(set(scopes)),
        allowed_ips=allowed_ips.strip(), rate_limit_per_minute=rate_limit_per_minute,
        require_signature=require_signature, expires_at=expires_at, created_by=created_by,
    )
    log.info("api_key_created", api_key=api_key.prefix, scopes=api_key.scopes, by=getattr(created_by, "pk", None))
    return api_key, raw


def api_key_revoke(api_key: ApiKey, *, by=None) -> bool:
    changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by)
    if changed:
        log.info("api_key_revoked", api_key=api_key.prefix, by=getattr(by, "pk", None))
    api_key.refresh_from_db()
    return bool(changed)


def api_key_touch(api_key: ApiKey, ip: str | None) -> None:
    """Record use; at most one write per key every 30 s so the hot path stays read-only."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < timedelta(seconds=30) and api_key.last_used_ip == ip:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip or None)


# --- idempotency -----------------------------------------------------------------------------------
@dataclass
class Claim:
    record: IdempotencyRecord | None
    replay: IdempotencyRecord | None = None


def idempotency_claim(api_key: ApiKey, key: str, body_hash: str) -> Claim:
    """Claim (api_key, key) by INSERT: the unique constraint makes exactly one of concurrent requests
    the owner. Others get the stored response (replay) or an ApiError (409 in flight / reused key)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return Claim(IdempotencyRecord.objects.create(api_key=api_key, key=key, body_hash=body_hash))
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if existing is None:
            continue  # expired and purged between our INSERT and SELECT: try again
        now = timezone.now()
        if existing.created_at <= now - IDEMPOTENCY_TTL:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.body_hash != body_hash:
            raise errors.idempotency_reused()
        if existing.state == IdempotencyRecord.DONE:
            return Claim(None, replay=existing)
        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk, state=IdempotencyRecord.IN_FLIGHT, created_at=existing.created_at,
            created_at__lte=now - IN_FLIGHT_TAKEOVER,
        ).update(created_at=now)
        if taken:
            existing.created_at = now
            return Claim(existing)
        raise errors.idempotency_in_flight()
    raise errors.idempotency_in_flight()


def idempotency_finish(record: IdempotencyRecord, status: int, body: dict) -> None:
    """Keep a final answer for replay; forget a 5xx so a retry with the same key runs again."""
    if status >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.DONE, response_status=status, response_body=body)


def idempotency_purge(now=None) -> int:
    """Delete records past their 24 h (the claim also ignores them, so this only frees space)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - IDEMPOTENCY_TTL).delete()
    return deleted


# --- sending ---------------------------------------------------------------------------------------
def refusal_error(refusal) -> errors.ApiError:
    """A SendRefused of the send path, in the table's terms (documented in the OpenAPI document)."""
    reason = getattr(refusal, "reason", "") or "send_refused"
    message = getattr(refusal, "message", "") or str(refusal)
    data = {"details": message, "meta_code": getattr(refusal, "code", None),
            "meta_subcode": getattr(refusal, "subcode", None)}
    if reason == "recipient_blacklisted":
        return errors.ApiError(422, 131000, "Recipient is on the tenant blacklist", reason=reason, **data)
    if reason == "window_closed":
        return errors.ApiError(400, 131026, "The 24-hour customer service window has expired: send an approved "
                                            "template instead", reason=reason, **data)
    if reason == "idempotency_key_reused":
        return errors.ApiError(409, 100, message, reason=reason, **data)
    if reason == "unknown_phone_number":
        return errors.ApiError(404, 100, message, subcode=33, reason=reason, **data)
    if reason in ("invalid_recipient", "invalid_request"):
        return errors.ApiError(400, 100, message, reason=reason, **data)
    if reason == "no_active_token":
        return errors.ApiError(500, 131000, "The WhatsApp Business Account of this number has no valid access "
                                            "token; an administrator must fix it", reason=reason, **data)
    # no_consent, template_not_approved and any other refusal: a final, generic send failure.
    return errors.ApiError(400, 131000, message, reason=reason, **data)


def failure_error(message_row) -> errors.ApiError:
    """A message that already failed at Meta by the time we answer (e.g. eager sending)."""
    status = 500 if message_row.error_code in TRANSIENT_META_CODES else 400
    return errors.ApiError(status, 131000, message_row.error_message or "Meta refused the message",
                           reason="meta_error", meta_code=message_row.error_code,
                           meta_subcode=message_row.error_subcode, meta_fbtrace_id=message_row.fbtrace_id or None,
                           message_id=public_message_id(message_row))


def public_message_id(message_row) -> str:
    """The id the API answers with: Meta's wamid once known, else ours (both work for GET)."""
    return message_row.wamid or f"wbd.{message_row.pk}"


def api_message_send(api_key: ApiKey, phone_number_id: str, request: dict, idempotency_key: str | None) -> dict:
    """Send one Cloud API request body through THE send path; returns the Cloud API success body."""
    from messaging.services import SendRefused, message_send

    kwargs = {"phone_number_id": phone_number_id, "to": request["to"], "source": "api",
              "idempotency_key": idempotency_key, "sender": None, "api_key": api_key}
    if request["type"] == "text":
        kwargs["text"] = request["text"]["body"]
    else:
        template = request["template"]
        kwargs.update(template=template["name"], language=template["language"]["code"],
                      components=template.get("components") or None)
    try:
        message_row = message_send(**kwargs)
    except SendRefused as refusal:
        raise refusal_error(refusal) from None
    message_row.refresh_from_db()
    if message_row.status == "failed":
        raise failure_error(message_row)
    log.info("api_message_accepted", api_key=api_key.prefix, message_id=message_row.pk, status=message_row.status)
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": request["to_input"], "wa_id": message_row.to.lstrip("+")}],
        "messages": [{"id": public_message_id(message_row), "message_status": "accepted"}],
    }


def message_idempotency_key(api_key: ApiKey, idempotency_key: str) -> str:
    """The Message's own idempotency key for an API request: per API key, bounded length."""
    return f"api-{api_key.pk}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]}"


@dataclass
class SendOutcome:
    status: int
    body: dict
    replayed: bool = False
    error: errors.ApiError | None = None  # answered fresh (headers like Retry-After included)


def api_send_once(api_key: ApiKey, phone_number_id: str, request: dict, idempotency_key: str | None,
                  fingerprint: str, fbtrace_id: str) -> SendOutcome:
    """The send behind an Idempotency-Key: claim it, send, keep the answer (or replay the kept one)."""
    if idempotency_key is None:
        return SendOutcome(200, api_message_send(api_key, phone_number_id, request, None))
    claim = idempotency_claim(api_key, idempotency_key, fingerprint)
    if claim.replay is not None:
        return SendOutcome(claim.replay.response_status, claim.replay.response_body, replayed=True)
    try:
        outcome = SendOutcome(200, api_message_send(api_key, phone_number_id, request,
                                                    message_idempotency_key(api_key, idempotency_key)))
    except errors.ApiError as exc:
        outcome = SendOutcome(exc.status, exc.body(fbtrace_id), error=exc)
    except BaseException:
        idempotency_finish(claim.record, 500, {})
        raise
    idempotency_finish(claim.record, outcome.status, outcome.body)
    return outcome
