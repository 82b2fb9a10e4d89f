"""Writes for messaging: template sync, the blacklist, THE send path, delivery, status webhooks,
broadcasts.

Every message wabadesk sends — a reply from the dashboard, a broadcast, a public API call — goes
through `message_send`, which refuses what Meta would refuse (or what we must never send) before
anything is stored, and `message_deliver_many` (`message_deliver` for one), which the Celery tasks
call to talk to Meta at most once per message.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.graph import GraphAPIError, GraphNetworkError, backoff_delay
from messaging import ratelimit
from messaging.models import (
    BlacklistChange,
    BlacklistEntry,
    Broadcast,
    BroadcastRecipient,
    Message,
    Template,
)

log = structlog.get_logger(__name__)

TEMPLATE_FIELDS = "id,name,language,status,category,components,rejected_reason,parameter_format,quality_score"
DELETED_AT_META = "Deleted in WhatsApp Manager"


# --- Templates ------------------------------------------------------------------------------------
@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    removed: int = 0

    def __str__(self):
        return f"{self.created} new, {self.updated} updated, {self.removed} removed"


def template_sync(waba) -> SyncResult:
    """Copy /{waba_id}/message_templates (every page) into Template rows. Templates deleted at
    Meta are removed here too (messages keep their payload), except those a broadcast shows: they
    stay, DISABLED with DELETED_AT_META as the reason."""
    from accounts.selectors import graph_client_for

    client = graph_client_for(waba, context={"waba_id": waba.waba_id, "action": "template_sync"})
    items = client.get_paged(f"/{waba.waba_id}/message_templates", {"fields": TEMPLATE_FIELDS, "limit": 100})
    result = SyncResult()
    seen = []
    with transaction.atomic():
        for item in items:
            quality = item.get("quality_score") or {}
            template, created = Template.objects.update_or_create(
                waba_id=waba.waba_id,
                name=item["name"],
                language=item.get("language", ""),
                defaults={
                    "template_id": str(item.get("id", "")),
                    "category": item.get("category", ""),
                    "status": item.get("status", ""),
                    "rejected_reason": "" if item.get("rejected_reason") in (None, "NONE") else item["rejected_reason"],
                    "components": item.get("components") or [],
                    "parameter_format": item.get("parameter_format") or "POSITIONAL",
                    "quality_score": quality.get("score", "") if isinstance(quality, dict) else str(quality),
                },
            )
            seen.append(template.pk)
            result.created += created
            result.updated += not created
        for template in Template.objects.filter(waba_id=waba.waba_id).exclude(pk__in=seen):
            if not template.broadcasts.exists():
                template.delete()
                result.removed += 1
            elif (template.status, template.rejected_reason) != (Template.Status.DISABLED, DELETED_AT_META):
                # A broadcast's report names its template (Broadcast.template is PROTECT): deleting it
                # would fail the whole sync, at every run. It stays, unsendable, saying why.
                template.status, template.rejected_reason = Template.Status.DISABLED, DELETED_AT_META
                template.save(update_fields=["status", "rejected_reason"])
                result.removed += 1
    log.info("template_sync", waba_id=waba.waba_id, created=result.created, updated=result.updated,
             removed=result.removed)
    return result


def template_sync_all() -> dict[str, str]:
    """Sync every WABA that has an active token (the beat job). One failing WABA does not stop the rest."""
    from accounts.models import WABA
    from accounts.selectors import waba_active_token

    results = {}
    for waba in WABA.objects.all():
        if waba_active_token(waba) is None:
            results[waba.waba_id] = "skipped: no active token"
            continue
        try:
            results[waba.waba_id] = str(template_sync(waba))
        except Exception as error:
            if not isinstance(error, GraphAPIError):  # the Graph client logs its own errors
                log.exception("template_sync_failed", waba_id=waba.waba_id)
            results[waba.waba_id] = f"failed: {error}"
    return results


# --- Blacklist ------------------------------------------------------------------------------------
@dataclass
class BulkAddResult:
    added: list[str]
    already: list[str]
    errors: list[tuple[int, str, str]]  # (line number, the line as typed, why it was refused)


def blacklist_add(phone: str, reason: str = "", by=None) -> tuple[BlacklistEntry, bool]:
    """Add one number (validated E.164). Returns (entry, created); an existing entry is kept as is."""
    from consent.validators import validate_e164

    phone = validate_e164(phone)
    with transaction.atomic():
        entry, created = BlacklistEntry.objects.get_or_create(phone=phone, defaults={"reason": reason, "added_by": by})
        if created:
            BlacklistChange.objects.create(phone=phone, action=BlacklistChange.Action.ADDED, reason=reason, by=by)
    return entry, created


def blacklist_add_many(text: str, reason: str = "", by=None) -> BulkAddResult:
    """One number per line: valid lines are added, each invalid line is reported with its reason."""
    result = BulkAddResult([], [], [])
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry, created = blacklist_add(line.strip(), reason, by)
        except ValidationError as error:
            result.errors.append((number, line.strip(), " ".join(error.messages)))
            continue
        (result.added if created else result.already).append(entry.phone)
    return result


def blacklist_remove(entry: BlacklistEntry, by=None) -> None:
    with transaction.atomic():
        BlacklistChange.objects.create(phone=entry.phone, action=BlacklistChange.Action.REMOVED,
                                       reason=entry.reason, by=by)
        entry.delete()


def blacklist_reason_update(entry: BlacklistEntry, reason: str, by=None) -> BlacklistEntry:
    reason = reason.strip()[:255]
    if reason != entry.reason:
        with transaction.atomic():
            BlacklistChange.objects.create(phone=entry.phone, action=BlacklistChange.Action.REASON_CHANGED,
                                           reason=reason, previous_reason=entry.reason, by=by)
            entry.reason = reason
            entry.save(update_fields=["reason"])
    return entry


# --- The send path --------------------------------------------------------------------------------
class SendRefused(Exception):
    """The send path refused a message before storing or sending it. `code`/`subcode` follow Meta's
    codes for the same mistake, so API clients keep their error handling; `reason` is ours."""

    def __init__(self, code: int, subcode: int | None, message: str, reason: str):
        super().__init__(message)
        self.code, self.subcode, self.message, self.reason = code, subcode, message, reason

    def __str__(self):
        return self.message


WINDOW_CLOSED_MESSAGE = (
    "The 24-hour customer service window is closed: the customer has not written in the last 24 hours, "
    "so Meta refuses free-form messages (error 131047, re-engagement message). Send an approved template instead."
)


def template_components(values) -> list[dict]:
    """Body parameters for positional {{1}}, {{2}}… values."""
    values = [v for v in (values or [])]
    if not values:
        return []
    return [{"type": "body", "parameters": [{"type": "text", "text": str(v)} for v in values]}]


def _phone_number_for(phone_number_id):
    from accounts.models import PhoneNumber
    from accounts.selectors import waba_active_token
    from accounts.validators import validate_phone_number_id

    try:
        validate_phone_number_id(str(phone_number_id or ""))
    except ValidationError as error:
        raise SendRefused(100, 33, " ".join(error.messages), "unknown_phone_number") from None
    phone = PhoneNumber.objects.select_related("waba").filter(phone_number_id=phone_number_id).first()
    if phone is None:
        raise SendRefused(100, 33, f"Phone Number ID {phone_number_id} is not one of this workspace's numbers "
                                   "(sync the WABA's phone numbers on the Accounts page).", "unknown_phone_number")
    token = waba_active_token(phone.waba)
    if token is None or not token.is_valid or (token.expires_at and token.expires_at <= timezone.now()):
        raise SendRefused(190, None, f"The WABA {phone.waba.waba_id} has no valid active access token: add or "
                                     "activate one on the Accounts page.", "no_active_token")
    return phone


def _template_for(phone, template, language) -> Template:
    if isinstance(template, Template):
        found = template
    else:
        candidates = Template.objects.filter(waba_id=phone.waba.waba_id, name=template)
        if language:
            candidates = candidates.filter(language=language)
        found = candidates.order_by("-status").filter(status=Template.Status.APPROVED).first() or candidates.first()
        if found is None:
            raise SendRefused(132001, None, f"Template {template!r}{f' ({language})' if language else ''} does not "
                                            "exist for this WABA (sync the templates).", "template_not_approved")
    if found.waba_id != phone.waba.waba_id:
        raise SendRefused(132001, None, f"Template {found.name} belongs to WABA {found.waba_id}, not to the WABA of "
                                        f"{phone.phone_number_id}.", "template_not_approved")
    if not found.is_approved:
        code = {Template.Status.PAUSED: 132015, Template.Status.DISABLED: 132016}.get(found.status, 132001)
        raise SendRefused(code, None, f"Template {found.name} ({found.language}) is {found.status}: only APPROVED "
                                      "templates can be sent.", "template_not_approved")
    return found


def message_send(*, phone_number_id, to, text=None, template=None, language=None, components=None,
                 idempotency_key=None, sender=None, source="dashboard", broadcast=None, api_key=None,
                 enqueue=True) -> Message:
    """Check, store and enqueue one message. Raises SendRefused (nothing stored, Meta not called).

    Checks, in order: our phone number with an active token; an E.164 recipient; not blacklisted;
    consent (at enqueue time); the 24-hour window for free-form text. The same idempotency key
    again with the same message returns the stored message and sends nothing; with a different
    message (number, recipient or content) it is refused.

    `api_key` is the public API key sending it (the only key that may read it back). Bulk callers
    pass enqueue=False and hand the stored messages to `message_enqueue_many`, so their messages
    travel in batches instead of one Celery task each.
    """
    from consent.models import Contact
    from consent.selectors import contact_can_send
    from consent.validators import validate_e164
    from messaging.selectors import blacklist_contains

    if idempotency_key:
        existing = _message_for_key(idempotency_key, phone_number_id, to=to, text=text, template=template,
                                    language=language, components=components)
        if existing is not None:
            return existing
    phone = _phone_number_for(phone_number_id)
    try:
        to = validate_e164(to or "")
    except ValidationError as error:
        raise SendRefused(100, None, f"Invalid recipient {to!r}: {' '.join(error.messages)}", "invalid_recipient") from None
    if blacklist_contains(to):
        raise SendRefused(131000, None, f"Recipient {to} is on the blacklist: nothing was sent.", "recipient_blacklisted")
    contact = Contact.objects.filter(phone=to).first()
    if contact is None or not contact_can_send(contact):
        state = getattr(contact, "consent_state", "none") if contact else "unknown contact"
        raise SendRefused(131000, None, f"{to} has no active consent ({state}): record an opt-in first.", "no_consent")

    if template:
        tpl = _template_for(phone, template, language)
        kind = Message.Kind.TEMPLATE
    elif text and text.strip():
        if not contact.window().is_open:
            raise SendRefused(131047, None, WINDOW_CLOSED_MESSAGE, "window_closed")
        tpl, kind = None, Message.Kind.TEXT
    else:
        raise SendRefused(100, 2500, "Nothing to send: give a text or a template.", "invalid_request")
    payload = _payload(to, text=text, template=tpl, components=components)

    key = idempotency_key or uuid.uuid4().hex
    try:
        with transaction.atomic():
            message = Message.objects.create(
                idempotency_key=key, phone_number=phone, contact=contact, to=to, kind=kind, template=tpl,
                payload=payload, sender=sender if getattr(sender, "pk", None) else None, source=source,
                broadcast=broadcast, api_key=api_key,
            )
    except IntegrityError:
        # The same key raced in from another request: that message wins, nothing more is sent.
        return _message_for_key(key, phone_number_id, to=to, text=text, template=tpl, components=components)
    if enqueue:
        from messaging.tasks import message_deliver_task

        message_deliver_task.delay_on_commit(message.pk)
    log.info("message_queued", message_id=message.pk, phone_number_id=phone.phone_number_id, kind=kind, source=source)
    return message


def _payload(to: str, *, text=None, template=None, language=None, components=None) -> dict:
    """The Cloud API body of a message: a template (a Template, or a name and language code) or a text."""
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    if template:
        name, language = (template.name, template.language) if isinstance(template, Template) else (template, language)
        payload.update(type="template", template={"name": name, "language": {"code": language}})
        if components:
            payload["template"]["components"] = components
    else:
        payload.update(type="text", text={"body": text})
    return payload


def _message_for_key(key: str, phone_number_id, *, to, text=None, template=None, language=None,
                     components=None) -> Message | None:
    """The message stored under this idempotency key, if any, provided that this request asks for the same
    message. A different one under a used key (an API key reused after its 24 h record expired, an edited
    form resubmitted) is refused: answering with the stored message would drop the new one silently."""
    existing = Message.objects.select_related("phone_number").filter(idempotency_key=key).first()
    if existing is None:
        return None
    if template and not isinstance(template, Template) and not language:
        # A template asked for by name alone was sent in the language it resolved to.
        language = existing.payload.get("template", {}).get("language", {}).get("code")
    asked = _payload(str(to or ""), text=text, template=template, language=language, components=components)
    if existing.phone_number.phone_number_id != str(phone_number_id) or existing.payload != asked:
        raise SendRefused(100, None, "This idempotency key was already used for a different message (another "
                                     "number, recipient or content): nothing was sent. A new message needs a new "
                                     "key.", "idempotency_key_reused")
    return existing


# --- Delivery (the Celery tasks' body) -----------------------------------------------------------
# A bulk send is delivered in batches (one task per MESSAGING_BATCH_SIZE messages), and a batch in
# claim groups: per group a handful of queries whatever its size, then one POST per message. Small
# enough that a batch takes seconds, so the broker's redelivery, a cancel and a re-checked opt-out
# all still act quickly; large enough that Celery and the ORM cost little per message.
@dataclass(frozen=True)
class Later:
    """Messages to hand to the queue again, after `countdown` seconds (a rate limit, a pause, a 5xx)."""

    message_ids: list[int]
    countdown: float


def message_enqueue_many(message_ids) -> None:
    """Hand queued messages to the workers, one batch task per MESSAGING_BATCH_SIZE (on commit).
    Enqueuing a message twice is harmless: only one delivery can claim it."""
    from messaging.tasks import message_deliver_batch_task

    ids, size = list(message_ids), settings.MESSAGING_BATCH_SIZE
    for start in range(0, len(ids), size):
        message_deliver_batch_task.delay_on_commit(ids[start:start + size])


def _still_sendable(message: Message, blacklisted: set[str]) -> str:
    """Re-checked when the task runs. We deliberately cancel a queued message whose recipient opted out
    or was blacklisted after it was queued: an opt-out must win over work already in the queue."""
    from consent.selectors import contact_can_send

    if message.broadcast_id and message.broadcast.status == Broadcast.Status.CANCELLED:
        return "broadcast_cancelled"
    if message.to in blacklisted:
        return "blacklisted_after_queueing"
    if message.contact_id and not contact_can_send(message.contact):
        return "opted_out_after_queueing"
    return ""


def message_deliver(message_id: int) -> float | None:
    """Send one queued message: the one-id case of message_deliver_many. Returns a countdown when it
    should be tried again later, None when done."""
    later = message_deliver_many([message_id])
    return later.countdown if later else None


def message_deliver_many(message_ids) -> Later | None:
    """Send queued messages to Meta, each at most once. Returns what must go back to the queue (and
    after how long) when a rate limit, a pause or a server error stops the batch, None when done.

    Safe to call any number of times with the same ids, also concurrently: only the caller whose
    conditional update moves a message queued → sending talks to Meta about it, and a message left
    in `sending` (a worker killed mid-send) is never touched here: reconciliation settles it."""
    ids = list(dict.fromkeys(int(pk) for pk in message_ids))
    clients: dict[int, object] = {}  # phone number pk → GraphClient (None: no active token)
    size = settings.MESSAGING_CLAIM_GROUP
    for start in range(0, len(ids), size):
        later = _deliver_group(ids[start:start + size], clients)
        if later is not None:
            rest = later.message_ids + ids[start + size:]
            return Later(rest, later.countdown) if rest else None
    return None


# What a delivery reads (the rest of the five rows is never looked at: loading and parsing it, the
# timestamps above all, was a tenth of a send's CPU).
DELIVERY_FIELDS = ("to", "payload", "idempotency_key", "attempts", "phone_number__phone_number_id",
                   "phone_number__rate_limit_per_second", "phone_number__waba__waba_id", "contact__consent_state",
                   "broadcast__status")


def _deliver_group(ids: list[int], clients: dict) -> Later | None:
    from messaging.selectors import blacklist_phones

    order = {pk: i for i, pk in enumerate(ids)}
    messages = sorted(Message.objects.select_related("phone_number__waba", "contact", "broadcast")
                      .only(*DELIVERY_FIELDS).filter(pk__in=ids, status=Message.Status.QUEUED).order_by(),
                      key=lambda m: order[m.pk])
    if not messages:
        return None
    blacklisted = blacklist_phones({m.to for m in messages})
    cancelled: dict[str, list[int]] = {}
    sendable = []
    for message in messages:
        reason = _still_sendable(message, blacklisted)
        if reason:
            cancelled.setdefault(reason, []).append(message.pk)
        elif _client_for(message.phone_number, clients) is None:
            _fail([message.pk], 190, None, "The WABA has no valid active access token any more.", "")
        else:
            sendable.append(message)
    for reason, pks in cancelled.items():
        Message.objects.filter(pk__in=pks, status=Message.Status.QUEUED).update(
            status=Message.Status.CANCELLED, skipped_reason=reason, updated_at=timezone.now())
        log.info("message_cancelled", message_ids=pks, reason=reason)

    won = _claim([m.pk for m in sendable])
    claimed = [m for m in sendable if m.pk in won]  # the others went to a concurrent delivery
    sent: dict[int, tuple[str | None, datetime]] = {}
    try:
        for i, message in enumerate(claimed):
            try:
                later = _post(message, clients[message.phone_number_id], sent)
            except Exception:
                # Redis or the database failed: the messages after this one were never POSTed.
                _unclaim([m.pk for m in claimed[i + 1:]])
                raise
            if later is not None:
                # Claimed but never POSTed: safe to hand back (attempts undone).
                _unclaim([m.pk for m in claimed[i + 1:]])
                return Later(later.message_ids + [m.pk for m in claimed[i + 1:]], later.countdown)
    finally:
        # Also on an unexpected error: what Meta accepted is recorded; a message that may have
        # reached Meta stays `sending` for reconciliation, never resent blindly.
        _record_sent(sent)
    return None


def _client_for(phone, clients: dict):
    from accounts.selectors import NoActiveToken, graph_client_for

    if phone.pk not in clients:
        try:
            clients[phone.pk] = graph_client_for(phone.waba, max_retries=0)
        except NoActiveToken:
            clients[phone.pk] = None
    return clients[phone.pk]


def _claim(pks: list[int]) -> set[int]:
    """queued → sending (attempts + 1) for the whole group in one statement, before any POST; returns
    the ids this caller won. The ORM's update() cannot say which rows it changed, hence RETURNING."""
    if not pks:
        return set()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, claimed_at = %s, updated_at = %s "
            f"WHERE status = %s AND id IN ({', '.join(['%s'] * len(pks))}) RETURNING id",
            [Message.Status.SENDING, now, now, Message.Status.QUEUED, *pks])
        return {row[0] for row in cursor.fetchall()}


def _unclaim(pks: list[int]) -> None:
    if pks:
        Message.objects.filter(pk__in=pks, status=Message.Status.SENDING).update(
            status=Message.Status.QUEUED, attempts=F("attempts") - 1, updated_at=timezone.now())


def _post(message: Message, client, sent: dict) -> Later | None:
    """One claimed message → one POST. Adds it to `sent` when Meta accepted it. Returns a Later when
    the batch must stop here (holding this message when it is to be tried again)."""
    phone = message.phone_number
    attempts = message.attempts + 1  # the claim's increment
    # The slot is taken last, right before the POST, so the spacing Meta sees is the bucket's spacing.
    try:
        countdown = _wait_for_send_slot(phone)
    except Exception:
        _unclaim([message.pk])  # the bucket (Redis) failed before any POST
        raise
    if countdown is not None:
        # Paused for long (a 429's Retry-After): the queue holds the messages, not a worker.
        _unclaim([message.pk])
        return Later([message.pk], countdown)
    client.context = {"message_id": message.pk, "phone_number_id": phone.phone_number_id}
    try:
        body = client.send_message(phone.phone_number_id, {**message.payload,
                                                           "biz_opaque_callback_data": message.idempotency_key})
    except GraphNetworkError as error:
        # The request may have reached Meta: resending could deliver it twice. The status webhook
        # (biz_opaque_callback_data = our key) or reconciliation settles it. Meta is probably
        # unreachable, so the rest of the batch waits instead of joining it in `unknown`.
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.UNKNOWN, error_message=error.message, updated_at=timezone.now())
        log.warning("message_outcome_unknown", message_id=message.pk)
        return Later([], backoff_delay(attempts - 1))
    except GraphAPIError as error:
        if error.is_rate_limit:
            ratelimit.pause_number(phone.phone_number_id, error.retry_after or backoff_delay(attempts - 1))
        if error.is_rate_limit or error.status >= 500:
            delay = backoff_delay(attempts - 1, error.retry_after) * random.uniform(1.0, 1.2)  # spread paused workers
            if attempts < settings.MESSAGING_MAX_ATTEMPTS:
                _requeue(message, attempts, error, delay)
                return Later([message.pk], delay)
            _fail([message.pk], error.code, error.subcode, error.message, error.fbtrace_id)
            return Later([], delay)
        _fail([message.pk], error.code, error.subcode, error.message, error.fbtrace_id)
        return None
    sent[message.pk] = (((body.get("messages") or [{}])[0]).get("id"), timezone.now())
    return None


def _record_sent(sent: dict) -> None:
    """sending → sent with each message's wamid and time, for the whole group in one statement (raw SQL:
    the ORM's Case/When for 20 rows cost more CPU than the POSTs themselves)."""
    if not sent:
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(sent))
    params = [value for pk, (wamid, at) in sent.items() for value in (pk, wamid, adapt(at))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH result (id, wamid, at) AS (VALUES {rows}) "
            f"UPDATE {table} SET status = %s, wamid = result.wamid, sent_at = result.at, status_at = result.at, "
            f"updated_at = %s FROM result WHERE {table}.id = result.id AND {table}.status = %s "
            f"RETURNING {table}.id",
            [*params, Message.Status.SENT, adapt(timezone.now()), Message.Status.SENDING])
        updated = {row[0] for row in cursor.fetchall()}
    for pk in sent.keys() - updated:
        # A status webhook overtook the HTTP response: keep its (later) status, add the wamid.
        wamid, at = sent[pk]
        Message.objects.filter(pk=pk, wamid__isnull=True).update(wamid=wamid, sent_at=at)


# A slot waited for this long is checked against a pause that began meanwhile (one more Redis call;
# shorter waits, the common case at high rates, let at most a few sends through after a 429).
PAUSE_RECHECK_AFTER = 0.05


def _wait_for_send_slot(phone) -> float | None:
    """Sleep until this number's next send slot; returns a countdown instead when that is far away,
    or when a rate-limit answer paused the number while this slot was waiting (slots handed out
    before the pause would otherwise all still go to Meta, each earning another 429)."""
    while True:
        slot = ratelimit.send_slot(phone.phone_number_id, phone.rate_limit_per_second or 80)
        if slot.granted:
            time.sleep(slot.wait)
            if slot.wait >= PAUSE_RECHECK_AFTER:
                return ratelimit.paused_for(phone.phone_number_id) or None
            return None
        if slot.wait > settings.MESSAGING_MAX_INLINE_WAIT:
            return slot.wait
        time.sleep(slot.wait)


def _requeue(message: Message, attempts: int, error: GraphAPIError, delay: float) -> None:
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED, error_code=error.code, error_subcode=error.subcode,
        error_message=error.message[:2000], fbtrace_id=error.fbtrace_id, updated_at=timezone.now())
    log.info("message_retry", message_id=message.pk, error_code=error.code, attempt=attempts, delay_s=round(delay, 3))


def _fail(pks: list[int], code, subcode, text: str, fbtrace_id: str) -> None:
    Message.objects.filter(pk__in=pks, status__in=[Message.Status.QUEUED, Message.Status.SENDING]).update(
        status=Message.Status.FAILED, error_code=code, error_subcode=subcode, error_message=(text or "")[:2000],
        fbtrace_id=fbtrace_id or "", status_at=timezone.now(), updated_at=timezone.now())
    log.warning("message_failed", message_ids=pks, error_code=code, error_subcode=subcode)


# --- Status webhooks and reconciliation -----------------------------------------------------------
def message_status_apply(status: dict) -> bool:
    """Apply one `statuses[]` item of a webhook. Idempotent (Meta redelivers) and monotonic: a
    late "delivered" never overwrites "read". Matches by wamid, or by biz_opaque_callback_data (our
    idempotency key) when the send's response was lost and we never learnt the wamid.
    Returns True when the status belongs to one of our messages."""
    wamid = status.get("id") or None
    key = status.get("biz_opaque_callback_data") or None
    new = str(status.get("status") or "").lower()
    if new not in ("sent", "delivered", "read", "failed"):
        return False
    with transaction.atomic():
        message = None
        if wamid:
            message = Message.objects.select_for_update().filter(wamid=wamid).first()
        if message is None and key:
            message = Message.objects.select_for_update().filter(idempotency_key=key).first()
        if message is None:
            return False
        try:
            at = datetime.fromtimestamp(int(status.get("timestamp")), dt_timezone.utc)
        except (TypeError, ValueError):
            at = timezone.now()
        fields = {}
        if wamid and not message.wamid:
            fields["wamid"] = wamid
        current = message.status
        if new == "failed":
            if current not in ("failed", "delivered", "read"):
                error = (status.get("errors") or [{}])[0]
                fields.update(status="failed", error_code=error.get("code"), error_subcode=None,
                              error_message=(error.get("error_data", {}) or {}).get("details")
                              or error.get("message") or error.get("title") or "")
        elif current == "cancelled" or current == "failed" and new == "sent":
            pass  # a "sent" echo never resurrects a failure we already know about
        elif Message.RANK.get(new, 0) > Message.RANK.get(current, -1) or current == "failed":
            fields["status"] = new
        if "status" in fields:
            fields["status_at"] = at
            if not message.sent_at:
                fields["sent_at"] = at
        if fields:
            for name, value in fields.items():
                setattr(message, name, value)
            message.save(update_fields=[*fields, "updated_at"])
    return True


def _reconcile_cutoff(older_than: float | None) -> datetime:
    """Before this, silence means something was lost (default MESSAGING_RECONCILE_AFTER seconds)."""
    return timezone.now() - timedelta(seconds=settings.MESSAGING_RECONCILE_AFTER if older_than is None else older_than)


def message_reconcile(older_than: float | None = None) -> dict:
    """Messages stuck in "sending" (worker killed mid-send) or "unknown" (response lost) that no
    status webhook has settled after `older_than` seconds. Meta sends a "sent" webhook within seconds
    of accepting a message, so silence that long means Meta never accepted it: the message goes back
    to the queue with the same idempotency key. Set MESSAGING_RECONCILE_REQUEUE=False to mark them
    failed for a person to decide instead.

    Messages "queued" that long may have no task at all (the broker failed right after their commit):
    they are handed to the workers again ("stale_queued"). Meta has never seen them, and a message
    enqueued twice is still claimed once, so this needs no person in either mode. Not while workers
    are still sending for that number, though: a big broadcast's backlog waits in the broker for
    longer than `older_than`, and enqueuing it again on every run would only grow the queue."""
    cutoff = _reconcile_cutoff(older_than)
    draining = Message.objects.filter(claimed_at__gt=cutoff).order_by().values("phone_number_id")
    # One pass over the table (status is not indexed) for both kinds.
    candidates = Message.objects.filter(
        (Q(status=Message.Status.QUEUED) & ~Q(phone_number_id__in=draining))
        | Q(status__in=[Message.Status.SENDING, Message.Status.UNKNOWN], wamid__isnull=True),
        updated_at__lte=cutoff,
    ).order_by().values_list("pk", "status")
    stale, stuck = [], []
    for pk, status in candidates:
        if status == Message.Status.QUEUED:
            stale.append(pk)
        else:
            stuck.append((pk, status))
    requeue = settings.MESSAGING_RECONCILE_REQUEUE
    done, requeued = {"requeued": 0, "failed": 0, "stale_queued": len(stale)}, []
    for pk, status in stuck:
        if requeue:
            n = Message.objects.filter(pk=pk, status=status, wamid__isnull=True).update(
                status=Message.Status.QUEUED, skipped_reason="", updated_at=timezone.now())
            if n:
                requeued.append(pk)
                done["requeued"] += 1
        else:
            n = Message.objects.filter(pk=pk, status=status).update(
                status=Message.Status.FAILED, error_message="No status from Meta: outcome unknown.",
                updated_at=timezone.now())
            done["failed"] += n
    message_enqueue_many(requeued + stale)
    # Touched once handed over, so that a long backlog still waiting in the broker is enqueued again
    # once per `older_than`, not on every run.
    Message.objects.filter(pk__in=stale, status=Message.Status.QUEUED).update(updated_at=timezone.now())
    if any(done.values()):
        log.warning("message_reconcile", **done)
    return done


# --- Broadcasts -----------------------------------------------------------------------------------
def broadcast_start(*, template: Template, phone_number, contacts: QuerySet, segment: dict, parameters=(),
                    by=None) -> Broadcast:
    """A broadcast of `template` to the contacts of a segment (a queryset, e.g. consent.selectors.
    contact_filter). Each recipient is then checked by the send path as its chunk runs."""
    if not template.is_approved:
        raise SendRefused(132001, None, f"Template {template.name} is {template.status}: only APPROVED templates "
                                        "can be broadcast.", "template_not_approved")
    with transaction.atomic():
        broadcast = Broadcast.objects.create(template=template, phone_number=phone_number, segment=segment,
                                             parameters=list(parameters), created_by=by)
        # One INSERT … SELECT: a segment of millions never passes through Python.
        sql, params = contacts.order_by().values_list("id", "phone").query.sql_with_params()
        table = connection.ops.quote_name(BroadcastRecipient._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (broadcast_id, contact_id, phone, outcome, reason) "
                           f"SELECT %s, segment.id, segment.phone, %s, '' FROM ({sql}) AS segment",
                           [broadcast.pk, BroadcastRecipient.Outcome.PENDING, *params])
            broadcast.total = cursor.rowcount
        broadcast.save(update_fields=["total"])
    from messaging.tasks import broadcast_run_task

    broadcast_run_task.delay_on_commit(broadcast.pk)
    return broadcast


def broadcast_run_chunk(broadcast_id: int, size: int = 200) -> bool:
    """Hand the next `size` pending recipients to message_send. Returns True while some are left.
    Each recipient is claimed (pending → queued) before sending and the idempotency key is derived
    from the broadcast and the phone, so a re-delivered chunk sends nobody twice.

    The chunk is one transaction: its messages and their batch tasks (enqueued on commit) exist
    together or not at all, so a worker killed mid-chunk leaves no message that no task delivers."""
    broadcast = Broadcast.objects.select_related("template", "phone_number").get(pk=broadcast_id)
    if broadcast.status != Broadcast.Status.RUNNING:
        return False
    components = template_components(broadcast.parameters)
    with transaction.atomic():
        pending = list(broadcast.recipients.filter(outcome=BroadcastRecipient.Outcome.PENDING)[:size])
        queued = []
        for recipient in pending:
            if Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.CANCELLED).exists():
                break
            if not BroadcastRecipient.objects.filter(pk=recipient.pk,
                                                     outcome=BroadcastRecipient.Outcome.PENDING).update(
                    outcome=BroadcastRecipient.Outcome.QUEUED):
                continue
            try:
                message = message_send(
                    phone_number_id=broadcast.phone_number.phone_number_id, to=recipient.phone,
                    template=broadcast.template, components=components,
                    idempotency_key=f"broadcast-{broadcast.pk}-{recipient.phone}", sender=broadcast.created_by,
                    source="broadcast", broadcast=broadcast, enqueue=False,
                )
            except SendRefused as refused:
                BroadcastRecipient.objects.filter(pk=recipient.pk).update(
                    outcome=BroadcastRecipient.Outcome.SKIPPED, reason=refused.reason)
                continue
            BroadcastRecipient.objects.filter(pk=recipient.pk).update(message=message)
            queued.append(message.pk)
        message_enqueue_many(queued)
    more = broadcast.recipients.filter(outcome=BroadcastRecipient.Outcome.PENDING).exists()
    if not more:
        Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.RUNNING).update(
            status=Broadcast.Status.DONE, finished_at=timezone.now())
    return more


def broadcast_resume_stalled(older_than: float | None = None) -> int:
    """Running broadcasts with recipients still pending and no message stored for `older_than`
    seconds: the hand-off of their next chunk was lost (the broker failed after a chunk committed,
    so neither the task nor its retry was published). A chunk is safe to run again (each recipient
    is claimed before it is sent), so their task is enqueued again. Returns how many."""
    cutoff = _reconcile_cutoff(older_than)
    pending = BroadcastRecipient.objects.filter(broadcast=OuterRef("pk"), outcome=BroadcastRecipient.Outcome.PENDING)
    recent = Message.objects.filter(broadcast=OuterRef("pk"), created_at__gt=cutoff)
    stalled = list(Broadcast.objects.filter(Exists(pending), ~Exists(recent), status=Broadcast.Status.RUNNING,
                                            created_at__lte=cutoff).values_list("pk", flat=True))
    from messaging.tasks import broadcast_run_task

    for pk in stalled:
        broadcast_run_task.delay_on_commit(pk)
    if stalled:
        log.warning("broadcast_resumed", broadcast_ids=stalled)
    return len(stalled)


def broadcast_cancel(broadcast: Broadcast) -> int:
    """Stop the rest: pending recipients are not sent, queued messages are cancelled before sending.
    Messages already with Meta stay as they are. Returns how many were stopped."""
    with transaction.atomic():
        updated = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.RUNNING).update(
            status=Broadcast.Status.CANCELLED, finished_at=timezone.now())
        if not updated:
            return 0
        stopped = broadcast.recipients.filter(outcome=BroadcastRecipient.Outcome.PENDING).update(
            outcome=BroadcastRecipient.Outcome.CANCELLED, reason="broadcast_cancelled")
        stopped += Message.objects.filter(broadcast=broadcast, status=Message.Status.QUEUED).update(
            status=Message.Status.CANCELLED, skipped_reason="broadcast_cancelled", updated_at=timezone.now())
    return stopped
