"""Writes for the accounts app: token checks and rotation, token validation, phone number sync,
alerts. Views and Celery tasks call these; nothing here renders or enqueues inside a transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import requests
import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import meta
from accounts.graph import GraphAPIError, GraphClient, GraphNetworkError
from accounts.models import WABA, AccessToken, Alert, PhoneNumber, PhoneNumberChange, RotationAudit
from accounts.selectors import EXPIRY_WARNING, NoActiveToken, graph_client_for, waba_active_token
from accounts.validators import digits_only, validate_phone_number_id
from config.logging import mask

log = structlog.get_logger(__name__)

PENDING_TTL = timedelta(minutes=30)


# --- Token checks (/debug_token) ------------------------------------------------------------------
@dataclass
class TokenCheck:
    """What /debug_token says about a token, judged against the WABA it is meant for."""

    masked: str
    is_valid: bool = False
    app_id: str = ""
    expected_app_id: str = ""
    token_type: str = AccessToken.Type.UNKNOWN
    expires_at: datetime | None = None
    issued_at: datetime | None = None
    scopes: list[str] = field(default_factory=list)
    error_code: int | None = None
    error_subcode: int | None = None
    error_message: str = ""
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reachable: bool = True  # False: Meta could not be asked; nothing is known about the token

    @property
    def acceptable(self) -> bool:
        return self.reachable and not self.refusals

    @property
    def app_matches(self) -> bool:
        return bool(self.app_id) and self.app_id == self.expected_app_id

    @property
    def required_scopes(self) -> list[tuple[str, bool]]:
        return [(scope, scope in self.scopes) for scope in meta.REQUIRED_SCOPES]

    @property
    def missing_scopes(self) -> list[str]:
        return [scope for scope, present in self.required_scopes if not present]


def _from_unix(value) -> datetime | None:
    try:
        value = int(value or 0)
    except (TypeError, ValueError):
        return None
    # Meta uses 0 for "never expires".
    return datetime.fromtimestamp(value, dt_timezone.utc) if value > 0 else None


def clean_pasted_token(raw: str) -> str:
    token = (raw or "").strip()
    if token.lower().startswith("bearer "):
        token = token[len("bearer "):].strip()
    return token


def token_check(waba: WABA, raw_token: str, *, now=None, rotating: bool = True) -> TokenCheck:
    """Ask /debug_token (authenticated as the WABA's app) and list what would make the token unusable
    (`rotating`: also refuse the token that is already active)."""
    now = now or timezone.now()
    app = waba.app
    check = TokenCheck(masked=mask(raw_token), expected_app_id=app.app_id)
    try:
        data = GraphClient(None, context={"waba_id": waba.waba_id, "action": "debug_token"}).debug_token(
            raw_token, app.app_id, app.app_secret)
    except GraphNetworkError:
        check.reachable = False
        check.refusals.append("Meta could not be reached to check the token; nothing was changed. Try again.")
        return check
    except GraphAPIError as error:
        check.reachable = False
        check.error_code, check.error_subcode, check.error_message = error.code, error.subcode, error.message
        if error.code == 101:
            check.refusals.append(f"Meta refused the stored App secret of app {app.app_id} (error 101): fix the "
                                  "App secret in the Django admin, then check the token again.")
        else:
            check.refusals.append(f"The token could not be checked: Graph API error {error.code}: {error.message}")
        return check

    check.is_valid = bool(data.get("is_valid"))
    check.app_id = str(data.get("app_id") or "")
    check.token_type = str(data.get("type") or AccessToken.Type.UNKNOWN).upper()
    if check.token_type not in AccessToken.Type.values:
        check.token_type = AccessToken.Type.UNKNOWN
    check.expires_at = _from_unix(data.get("expires_at"))
    check.issued_at = _from_unix(data.get("issued_at"))
    check.scopes = [str(s) for s in data.get("scopes") or []]
    error = data.get("error") or {}
    if error:
        check.error_code = error.get("code")
        check.error_subcode = error.get("subcode") or error.get("error_subcode")
        check.error_message = str(error.get("message") or "")[:500]

    if not check.is_valid:
        what = meta.describe_190(check.error_subcode)
        check.refusals.append(f"Meta says this token is not valid: {what}.")
    if check.app_id and not check.app_matches:
        check.refusals.append(f"This token belongs to another app ({check.app_id}); this WABA uses app "
                              f"{app.app_id}. Generate the token in that app.")
    if check.is_valid and check.missing_scopes:
        check.refusals.append(f"Scope missing: {', '.join(check.missing_scopes)}. {meta.APP_REVIEW_HINT}")
    if check.token_type == AccessToken.Type.USER:
        check.warnings.append(f"This is a user token. {meta.SYSTEM_USER_FIX}")
    if check.expires_at and check.is_valid and check.expires_at - now <= EXPIRY_WARNING:
        check.warnings.append(f"It expires on {check.expires_at:%Y-%m-%d %H:%M} UTC, within 7 days.")
    current = waba_active_token(waba) if rotating else None
    if current is not None and current.token == raw_token:
        check.refusals.append("This is already the active token of this WABA.")
    return check


def _apply_check(token: AccessToken, check: TokenCheck, now) -> None:
    token.is_valid = check.is_valid
    token.app_id = check.app_id
    token.token_type = check.token_type
    token.scopes = check.scopes
    token.expires_at = check.expires_at
    token.issued_at = check.issued_at
    token.last_checked_at = now
    token.last_error_code = check.error_code
    token.last_error_subcode = check.error_subcode
    token.last_error_message = check.error_message


# --- Rotation ----------------------------------------------------------------------------------------
class RotationRefused(Exception):
    def __init__(self, reasons: list[str], check: TokenCheck | None = None):
        self.reasons = reasons
        self.check = check
        super().__init__("; ".join(reasons))


def _audit_refusal(waba: WABA, actor, check: TokenCheck) -> None:
    current = waba_active_token(waba)
    RotationAudit.objects.create(
        waba=waba, actor=actor, outcome=RotationAudit.Outcome.REFUSED,
        old_token_masked=current.masked if current else "", new_token_masked=check.masked[-12:],
        new_token_type=check.token_type, reasons=check.refusals,
    )
    log.info("token_rotation_refused", waba_id=waba.waba_id, new_token=check.masked, reasons=check.refusals)


def token_rotation_prepare(waba: WABA, raw_token: str, actor) -> tuple[TokenCheck, AccessToken | None]:
    """Step 1: check a pasted token. An acceptable one is kept (encrypted) as a pending row until the
    admin confirms, so the page never has to carry the token itself."""
    raw_token = clean_pasted_token(raw_token)
    if not raw_token:
        raise ValidationError("Paste the new access token.")
    AccessToken.objects.filter(active=False, activated_at=None, retired_at=None,
                               created_at__lt=timezone.now() - PENDING_TTL).delete()
    check = token_check(waba, raw_token)
    if not check.acceptable:
        if check.reachable:
            _audit_refusal(waba, actor, check)
        return check, None
    pending = AccessToken(waba=waba, token=raw_token, created_by=actor)
    _apply_check(pending, check, timezone.now())
    pending.save()
    return check, pending


def token_pending_get(waba: WABA, pending_id, actor) -> AccessToken | None:
    return AccessToken.objects.filter(
        pk=pending_id, waba=waba, created_by=actor, active=False, activated_at=None, retired_at=None,
        created_at__gte=timezone.now() - PENDING_TTL,
    ).first()


def token_rotate(waba: WABA, pending_id, actor) -> AccessToken:
    """Step 2: make a checked pending token active and retire the old one, atomically.

    The token is checked again first (Meta may have invalidated it since step 1); the switch itself
    locks the WABA row so two admins confirming at once cannot both win.
    """
    pending = token_pending_get(waba, pending_id, actor)
    if pending is None:
        raise RotationRefused(["This check has expired or was already used: paste the token again."])
    check = token_check(waba, pending.token)
    if not check.acceptable:
        if check.reachable:
            _audit_refusal(waba, actor, check)
            pending.delete()
        raise RotationRefused(check.refusals, check)
    now = timezone.now()
    with transaction.atomic():
        WABA.objects.select_for_update().get(pk=waba.pk)
        new = AccessToken.objects.select_for_update().filter(pk=pending.pk, active=False, activated_at=None).first()
        if new is None:
            raise RotationRefused(["This token was already confirmed."])
        old = AccessToken.objects.select_for_update().filter(waba=waba, active=True).first()
        if old is not None:
            old.active = False
            old.retired_at = now
            old.save(update_fields=["active", "retired_at"])
        _apply_check(new, check, now)
        new.active = True
        new.activated_at = now
        new.save()
        AccessToken.objects.filter(waba=waba, created_by=actor, active=False, activated_at=None).delete()
        RotationAudit.objects.create(
            waba=waba, actor=actor, at=now, outcome=RotationAudit.Outcome.ROTATED,
            old_token_masked=old.masked if old else "", new_token_masked=new.masked,
            new_token_type=new.token_type, reasons=check.warnings,
        )
    log.info("token_rotated", waba_id=waba.waba_id, old_token=old.masked if old else "", new_token=new.masked,
             token_type=new.token_type)
    token_alerts_evaluate(waba)
    return new


# --- Validation of active tokens (beat) ------------------------------------------------------------
def token_validate(token_id: int) -> AccessToken | None:
    """Re-check one active token with /debug_token, store the result, raise/resolve its alerts."""
    token = AccessToken.objects.select_related("waba__app").filter(pk=token_id, active=True).first()
    if token is None:
        return None
    check = token_check(token.waba, token.token, rotating=False)
    now = timezone.now()
    if check.reachable:
        _apply_check(token, check, now)
    else:
        # Meta was not asked: keep what we knew; the stale check warns if this goes on.
        token.last_error_code, token.last_error_subcode = check.error_code, check.error_subcode
        token.last_error_message = (check.refusals[0] if check.refusals else "")[:500]
    AccessToken.objects.filter(pk=token.pk, active=True).update(
        is_valid=token.is_valid, app_id=token.app_id, token_type=token.token_type, scopes=token.scopes,
        expires_at=token.expires_at, issued_at=token.issued_at, last_checked_at=token.last_checked_at,
        last_error_code=token.last_error_code, last_error_subcode=token.last_error_subcode,
        last_error_message=token.last_error_message,
    )
    token_alerts_evaluate(token.waba)
    return token


def token_alerts_evaluate(waba: WABA, now=None) -> None:
    """One alert per condition of the WABA's active token; each resolves when its condition clears."""
    now = now or timezone.now()
    token = waba_active_token(waba)
    key = f"{{}}:{waba.waba_id}".format
    invalid = scope_missing = expiring = None
    if token is not None and token.last_checked_at is not None:
        if not token.is_valid:
            invalid = meta.describe_190(token.last_error_subcode if token.last_error_code == 190 else None)
        elif token.missing_scopes:
            scope_missing = token.missing_scopes
        if token.is_valid and token.expires_at and token.expires_at - now <= EXPIRY_WARNING:
            expiring = token.expires_at
    label = f"{waba.name or 'WABA'} ({waba.waba_id})"
    if invalid:
        alert_raise(key("token_invalid"), kind="token_invalid", severity=Alert.Severity.CRITICAL, waba=waba,
                    title=f"Access token of {label} is invalid",
                    detail=f"{invalid[0].upper()}{invalid[1:]}. Sending and syncing fail until a new token is "
                           f"pasted on the Accounts page (token {token.masked}).")
    else:
        alert_resolve(key("token_invalid"))
    if scope_missing:
        alert_raise(key("scope_missing"), kind="scope_missing", severity=Alert.Severity.CRITICAL, waba=waba,
                    title=f"Access token of {label} lost a scope",
                    detail=f"Missing: {', '.join(scope_missing)}. {meta.APP_REVIEW_HINT}")
    else:
        alert_resolve(key("scope_missing"))
    if expiring:
        alert_raise(key("token_expiring"), kind="token_expiring", severity=Alert.Severity.WARNING, waba=waba,
                    title=f"Access token of {label} expires within 7 days",
                    detail=f"It expires on {expiring:%Y-%m-%d %H:%M} UTC (then error 190/463). "
                           f"{meta.SYSTEM_USER_FIX}")
    else:
        alert_resolve(key("token_expiring"))


def token_validate_all_ids() -> list[int]:
    return list(AccessToken.objects.filter(active=True).values_list("pk", flat=True))


# --- Phone numbers ---------------------------------------------------------------------------------
PHONE_FIELDS = ("id,display_phone_number,verified_name,quality_rating,status,name_status,account_mode,"
                "whatsapp_business_manager_messaging_limit")
TRACKED = {
    PhoneNumberChange.Field.QUALITY: "quality_rating",
    PhoneNumberChange.Field.TIER: "messaging_limit_tier",
    PhoneNumberChange.Field.STATUS: "status",
}
RISKY_STATUSES = {"BANNED", "RESTRICTED", "FLAGGED", "RATE_LIMITED", "DISCONNECTED", "DELETED"}


@dataclass
class PhoneSyncResult:
    created: int = 0
    updated: int = 0
    changes: list[PhoneNumberChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __str__(self):
        text = f"{self.created} new, {self.updated} updated, {len(self.changes)} changes"
        return text + (f", {len(self.skipped)} skipped" if self.skipped else "")


def _phone_values(item: dict) -> dict:
    rating = str(item.get("quality_rating") or "UNKNOWN").upper()
    return {
        "display_phone_number": str(item.get("display_phone_number") or "")[:32],
        "verified_name": str(item.get("verified_name") or "")[:200],
        "quality_rating": rating if rating in PhoneNumber.Quality.values else PhoneNumber.Quality.UNKNOWN,
        "messaging_limit_tier": str(item.get("whatsapp_business_manager_messaging_limit")
                                    or item.get("messaging_limit_tier") or "")[:32],
        "status": str(item.get("status") or "")[:32],
        "name_status": str(item.get("name_status") or "")[:32],
        "account_mode": str(item.get("account_mode") or "")[:16],
    }


def phone_numbers_sync(waba: WABA, *, page_size: int = 100) -> PhoneSyncResult:
    """Copy /{waba_id}/phone_numbers (every page) into PhoneNumber rows, record rating/tier/status
    changes in the history and raise or resolve the quality alerts."""
    client = graph_client_for(waba, context={"waba_id": waba.waba_id, "action": "phone_numbers_sync"})
    items = client.get_paged(f"/{waba.waba_id}/phone_numbers", {"fields": PHONE_FIELDS, "limit": page_size})
    result = PhoneSyncResult()
    now = timezone.now()
    valid = []
    for item in items:
        phone_id = str(item.get("id") or "")
        try:
            validate_phone_number_id(phone_id)
        except ValidationError:
            result.skipped.append(phone_id)
            continue
        valid.append((phone_id, _phone_values(item)))
    ids = [phone_id for phone_id, _ in valid]
    known = {p.phone_number_id: p for p in PhoneNumber.objects.filter(phone_number_id__in=ids)}
    open_keys = set(Alert.objects.filter(status__in=Alert.UNRESOLVED, phone_number__phone_number_id__in=ids)
                    .values_list("dedupe_key", flat=True))
    # The usual poll changes nothing: those numbers get one bulk "seen" update instead of a locked
    # read-modify-write each (the bench: bench/accounts_bench.py).
    unchanged = [known[pid] for pid, values in valid if _settled(known.get(pid), waba, values, open_keys)]
    if unchanged:
        PhoneNumber.objects.filter(pk__in=[p.pk for p in unchanged]).update(last_synced_at=now)
        Alert.objects.filter(phone_number__in=unchanged, status__in=Alert.UNRESOLVED).update(last_seen_at=now)
        result.updated += len(unchanged)
    settled = {p.phone_number_id for p in unchanged}
    for phone_id, values in valid:
        if phone_id not in settled:
            _phone_apply(waba, phone_id, values, now, result)
    log.info("phone_numbers_sync", waba_id=waba.waba_id, created=result.created, updated=result.updated,
             changes=len(result.changes))
    return result


def _desired_alerts(phone_id: str, values: dict) -> set[str]:
    """The rating/status alert keys a number in this state should have open (tier alerts depend on
    history, and only change when the tier does)."""
    keys = set()
    if values["quality_rating"] == PhoneNumber.Quality.YELLOW:
        keys.add(f"quality_yellow:{phone_id}")
    if values["quality_rating"] == PhoneNumber.Quality.RED:
        keys.add(f"quality_red:{phone_id}")
    if values["status"] in RISKY_STATUSES:
        keys.add(f"number_status:{phone_id}")
    return keys


def _settled(phone: PhoneNumber | None, waba: WABA, values: dict, open_keys: set[str]) -> bool:
    if phone is None or phone.waba_id != waba.pk:
        return False
    if any(getattr(phone, attr) != value for attr, value in values.items()):
        return False
    pid = phone.phone_number_id
    have = {k for k in open_keys if k.endswith(f":{pid}") and not k.startswith("tier_lowered:")}
    return have == _desired_alerts(pid, values)


def _phone_apply(waba: WABA, phone_id: str, values: dict, now, result: PhoneSyncResult) -> None:
    with transaction.atomic():
        # Locked so two overlapping polls see each change once (one history row, one alert).
        phone = PhoneNumber.objects.select_for_update().filter(phone_number_id=phone_id).first()
        if phone is None:
            phone = PhoneNumber.objects.create(phone_number_id=phone_id, waba=waba, last_synced_at=now, **values)
            previous = {f: "" for f in TRACKED}
            result.created += 1
        else:
            previous = {f: getattr(phone, attr) for f, attr in TRACKED.items()}
            for attr, value in values.items():
                setattr(phone, attr, value)
            phone.waba = waba
            phone.last_synced_at = now
            phone.save()
            result.updated += 1
        for change_field, attr in TRACKED.items():
            if values[attr] and values[attr] != previous[change_field]:
                result.changes.append(PhoneNumberChange.objects.create(
                    phone_number=phone, field=change_field, old_value=previous[change_field],
                    new_value=values[attr], observed_at=now))
        phone_alerts_evaluate(phone, old_tier=previous[PhoneNumberChange.Field.TIER])


def phone_alerts_evaluate(phone: PhoneNumber, old_tier: str = "") -> None:
    pid = phone.phone_number_id
    label = str(phone)
    rating = phone.quality_rating
    Q = PhoneNumber.Quality
    if rating == Q.YELLOW:
        alert_raise(f"quality_yellow:{pid}", kind="quality_yellow", severity=Alert.Severity.WARNING,
                    waba=phone.waba, phone_number=phone, title=f"Quality rating YELLOW on {label}",
                    detail="Quality dropped to YELLOW: recipients are blocking or reporting messages. Review "
                           "opt-in and message relevance before the rating reaches RED.")
    if rating == Q.RED:
        alert_raise(f"quality_red:{pid}", kind="quality_red", severity=Alert.Severity.CRITICAL,
                    waba=phone.waba, phone_number=phone, title=f"Quality rating RED on {label}",
                    detail="Quality is RED: pause non-essential sends (marketing, broadcasts) now; the messaging "
                           "limit may be lowered or the number restricted.")
    if rating in (Q.GREEN, Q.RED):
        alert_resolve(f"quality_yellow:{pid}")
    if rating in (Q.GREEN, Q.YELLOW):
        alert_resolve(f"quality_red:{pid}")

    tier, tier_key = phone.messaging_limit_tier, f"tier_lowered:{pid}"
    lowered = Alert.objects.filter(dedupe_key=tier_key, status__in=Alert.UNRESOLVED).first()
    # The condition is "below the tier before the first drop", so 10K→2K→1K stays one alert.
    origin = lowered.data.get("from", "") if lowered else old_tier
    if origin and 0 <= meta.tier_rank(tier) < meta.tier_rank(origin):
        alert_raise(tier_key, kind="tier_lowered", severity=Alert.Severity.WARNING, waba=phone.waba,
                    phone_number=phone, title=f"Messaging limit lowered on {label}",
                    detail=f"The messaging limit went from {origin} to {tier}: fewer business-initiated "
                           "conversations per 24 hours.", data={"from": origin, "to": tier})
    elif lowered is not None and meta.tier_rank(tier) >= meta.tier_rank(origin):
        alert_resolve(tier_key)

    status_key = f"number_status:{pid}"
    if phone.status in RISKY_STATUSES:
        alert_raise(status_key, kind="number_status", severity=Alert.Severity.CRITICAL, waba=phone.waba,
                    phone_number=phone, title=f"{label} is {phone.status}",
                    detail=f"Meta reports the number's status as {phone.status}: sends from it will fail.")
    elif phone.status:
        alert_resolve(status_key)


def phone_quality_poll(waba_id: int) -> PhoneSyncResult | None:
    waba = WABA.objects.select_related("app").filter(pk=waba_id).first()
    if waba is None:
        return None
    try:
        return phone_numbers_sync(waba)
    except NoActiveToken:
        return None
    except GraphAPIError as error:
        # Already logged and recorded by the client; the token check raises its own alert.
        log.warning("phone_quality_poll_failed", waba_id=waba.waba_id, error_code=error.code,
                    error_subcode=error.subcode)
        return None


# --- Alerts ------------------------------------------------------------------------------------------
def alert_raise(dedupe_key: str, *, kind: str, title: str, detail: str = "", severity: str = Alert.Severity.WARNING,
                waba=None, phone_number=None, data: dict | None = None) -> tuple[Alert, bool]:
    """Open an alert for a condition unless one is already open (or acknowledged) for it."""
    now = timezone.now()
    with transaction.atomic():
        existing = Alert.objects.select_for_update().filter(dedupe_key=dedupe_key, status__in=Alert.UNRESOLVED).first()
        if existing is not None:
            Alert.objects.filter(pk=existing.pk).update(last_seen_at=now, detail=detail,
                                                        data=data if data is not None else existing.data)
            return existing, False
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    dedupe_key=dedupe_key, kind=kind, title=title[:200], detail=detail, severity=severity,
                    waba=waba, phone_number=phone_number, data=data or {}, opened_at=now, last_seen_at=now)
        except IntegrityError:  # another worker opened it a moment ago
            return Alert.objects.get(dedupe_key=dedupe_key, status__in=Alert.UNRESOLVED), False
    log.warning("alert_opened", alert_id=alert.pk, kind=kind, dedupe_key=dedupe_key)
    _notify_on_commit(alert.pk, "opened")
    return alert, True


def _notify_on_commit(alert_id: int, event: str) -> None:
    """Enqueue the notification after commit. A broker outage must not fail the rotation or the poll
    that raised the alert: the alert is stored and on the Alerts page either way."""
    from accounts.tasks import alert_notify

    def enqueue():
        try:
            alert_notify.delay(alert_id, event)
        except Exception as exc:  # noqa: BLE001
            log.error("alert_notify_enqueue_failed", alert_id=alert_id, notify_event=event, error=type(exc).__name__)

    transaction.on_commit(enqueue)


def alert_resolve(dedupe_key: str) -> int:
    now = timezone.now()
    ids = list(Alert.objects.filter(dedupe_key=dedupe_key, status__in=Alert.UNRESOLVED).values_list("pk", flat=True))
    if not ids:
        return 0
    count = Alert.objects.filter(pk__in=ids, status__in=Alert.UNRESOLVED).update(
        status=Alert.Status.RESOLVED, resolved_at=now)
    for pk in ids:
        log.info("alert_resolved", alert_id=pk, dedupe_key=dedupe_key)
        _notify_on_commit(pk, "resolved")
    return count


def alert_acknowledge(alert_id: int, user) -> Alert | None:
    updated = Alert.objects.filter(pk=alert_id, status=Alert.Status.OPEN).update(
        status=Alert.Status.ACKNOWLEDGED, acknowledged_at=timezone.now(), acknowledged_by=user)
    alert = Alert.objects.filter(pk=alert_id).first()
    if updated:
        log.info("alert_acknowledged", alert_id=alert_id, user=user.get_username())
    return alert


def alert_notify(alert_id: int, event: str = "opened") -> dict:
    """E-mail settings.ALERT_EMAILS and POST to settings.ALERT_WEBHOOK_URL (each optional)."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return {}
    subject = f"[wabadesk] {'Resolved: ' if event == 'resolved' else ''}{alert.title}"
    body = f"{alert.detail}\n\nSeverity: {alert.severity}\nStatus: {alert.status}\nOpened: {alert.opened_at:%Y-%m-%d %H:%M} UTC\n"
    outcome, errors = {}, []
    recipients = list(settings.ALERT_EMAILS)
    if recipients:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            outcome["email"] = len(recipients)
        except Exception as exc:  # noqa: BLE001 — a mail outage must not lose the alert
            errors.append(f"e-mail: {type(exc).__name__}")
    url = settings.ALERT_WEBHOOK_URL
    if url:
        payload = {"event": event, "id": alert.pk, "kind": alert.kind, "severity": alert.severity,
                   "status": alert.status, "title": alert.title, "detail": alert.detail,
                   "waba_id": alert.waba.waba_id if alert.waba_id else None,
                   "phone_number_id": alert.phone_number.phone_number_id if alert.phone_number_id else None,
                   "opened_at": alert.opened_at.isoformat(),
                   "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None}
        try:
            response = requests.post(url, json=payload, timeout=5)
            response.raise_for_status()
            outcome["webhook"] = response.status_code
        except requests.RequestException as exc:
            errors.append(f"webhook: {type(exc).__name__}")
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now(), notify_error="; ".join(errors)[:300])
    if errors:
        log.warning("alert_notify_failed", alert_id=alert.pk, errors=errors)
    return outcome


# --- "Identify this ID" ------------------------------------------------------------------------------
@dataclass
class Identification:
    value: str
    kind: str  # phone_number, waba, app, other, unknown, invalid
    title: str
    advice: str = ""
    meta_type: str = ""
    local: object = None
    numbers: list = field(default_factory=list)
    error: str = ""


def id_identify(raw: str, waba: WABA | None = None) -> Identification:
    """Ask Meta what an ID is (GET /{id}?metadata=1&fields=id) and say which ID /messages needs."""
    from accounts.models import App

    value = (raw or "").strip()
    if not digits_only(value):
        try:
            validate_phone_number_id(value)
        except ValidationError as error:
            return Identification(value, "invalid", "Not an ID", advice=" ".join(error.messages))
    local_phone = PhoneNumber.objects.select_related("waba").filter(phone_number_id=value).first()
    local_waba = WABA.objects.filter(waba_id=value).first()
    local_app = App.objects.filter(app_id=value).first()
    if waba is None:
        waba = local_waba or (local_phone.waba if local_phone else None) or next(
            (w for w in WABA.objects.all() if waba_active_token(w)), None)
    if waba is None:
        return Identification(value, "unknown", "Cannot ask Meta",
                              advice="No WABA has an active token to ask Meta with. Add a token first.")
    try:
        body = graph_client_for(waba, context={"action": "identify"}, max_retries=1).get(
            f"/{value}", {"metadata": "1", "fields": "id"})
    except NoActiveToken as error:
        return Identification(value, "unknown", "Cannot ask Meta", advice=str(error))
    except GraphAPIError as error:
        if error.code == 100 and error.subcode == 33:
            guess = {16: " Its 16 digits look like a WABA ID.", 15: " Its 15 digits look like a Phone Number ID."}
            return Identification(
                value, "unknown", "Unknown to Meta (error 100/33)", error=str(error),
                advice=("Meta says the object does not exist — but 100/33 also masks missing permissions: the "
                        "token may not be assigned to the WABA that owns it, or lack a scope."
                        + guess.get(len(value), "")))
        return Identification(value, "unknown", "Meta could not answer", error=str(error),
                              advice="Check the token's health on the Accounts page.")
    meta_type = str((body.get("metadata") or {}).get("type") or "")
    if meta_type == "whatsapp_business_phone_number":
        return Identification(value, "phone_number", "Phone Number ID", meta_type=meta_type, local=local_phone,
                              advice=f"Use it for sending: POST /{value}/messages."
                              + ("" if local_phone else " It is not synced here yet: sync the WABA's numbers."))
    if meta_type == "whatsapp_business_account":
        numbers = list(PhoneNumber.objects.filter(waba__waba_id=value))
        return Identification(value, "waba", "WABA ID (WhatsApp Business Account)", meta_type=meta_type,
                              local=local_waba, numbers=numbers,
                              advice="Do not send to /{WABA ID}/messages (error 100/33): use one of its Phone "
                                     "Number IDs instead" + (":" if numbers else " — sync its numbers to list them."))
    if meta_type == "application":
        return Identification(value, "app", "App ID", meta_type=meta_type, local=local_app,
                              advice="An App ID is used for /debug_token and webhook subscriptions, never for "
                                     "/messages: use a Phone Number ID.")
    return Identification(value, "other", f"Something else ({meta_type or 'no type reported'})", meta_type=meta_type,
                          advice="This is not an ID /messages accepts: use a 15-digit Phone Number ID.")
