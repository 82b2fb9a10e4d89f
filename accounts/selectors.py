"""Reads for the accounts app: active tokens, Graph clients, token health, alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts import meta
from accounts.graph import GraphClient
from accounts.models import AccessToken, Alert, App, PhoneNumber

EXPIRY_WARNING = timedelta(days=7)


class NoActiveToken(Exception):
    """The WABA has no active access token: nothing can be sent or synced for it."""

    def __init__(self, waba):
        self.waba = waba
        super().__init__(f"WABA {waba.waba_id} has no active access token: add one on the Accounts page.")


def waba_active_token(waba) -> AccessToken | None:
    return AccessToken.objects.filter(waba=waba, active=True).first()


def graph_client_for(waba, **client_kwargs) -> GraphClient:
    token = waba_active_token(waba)
    if token is None:
        raise NoActiveToken(waba)
    client_kwargs.setdefault("context", {"waba_id": waba.waba_id})
    return GraphClient(token.token, **client_kwargs)


def app_secrets() -> list[str]:
    """Decrypted secrets of every App (the webhook tries each when checking a signature)."""
    return [app.app_secret for app in App.objects.all() if app.app_secret]


def banner_alerts():
    """Phone numbers whose quality rating is RED: every page shows a banner for them."""
    return list(PhoneNumber.objects.filter(quality_rating=PhoneNumber.Quality.RED))


# --- Token health ---------------------------------------------------------------------------------
HEALTHY, WARNING, FAILING = "healthy", "warning", "failing"


@dataclass
class Reason:
    level: str  # WARNING or FAILING
    code: str  # invalid, scope_missing, user_token, expiring, expired, stale, no_token
    text: str


@dataclass
class TokenHealth:
    token: AccessToken | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def status(self) -> str:
        levels = {r.level for r in self.reasons}
        return FAILING if FAILING in levels else WARNING if WARNING in levels else HEALTHY

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def stale_after() -> timedelta:
    """A check older than this is 'stale' (the hourly validation has not run for a while)."""
    return timedelta(hours=settings.TOKEN_CHECK_STALE_HOURS)


def token_health(token: AccessToken | None, *, production: bool = True, now=None) -> TokenHealth:
    """Healthy / warning / failing, with every reason, from what the last check stored."""
    now = now or timezone.now()
    health = TokenHealth(token)
    add = health.reasons.append
    if token is None:
        add(Reason(FAILING, "no_token", "No active token: nothing can be sent. Add one with “Rotate token”."))
        return health
    if not token.is_valid:
        if token.last_error_code == 190 or token.last_error_subcode:
            what = meta.describe_190(token.last_error_subcode)
        else:
            what = "invalid token (Meta reports is_valid = false)"
        add(Reason(FAILING, "invalid", f"{what[0].upper()}{what[1:]}. Paste a new token."))
    missing = token.missing_scopes
    if missing:
        add(Reason(FAILING, "scope_missing", f"Scope missing: {', '.join(missing)}. {meta.APP_REVIEW_HINT}"))
    if token.token_type == AccessToken.Type.USER and production:
        add(Reason(WARNING, "user_token", f"User token in production. {meta.SYSTEM_USER_FIX}"))
    if token.expires_at:
        if token.expires_at <= now:
            if token.is_valid:  # not yet re-checked; the expiry alone already says it
                add(Reason(FAILING, "expired", f"Expired on {token.expires_at:%Y-%m-%d %H:%M} UTC (190/463)."))
        elif token.expires_at - now <= EXPIRY_WARNING:
            days = (token.expires_at - now).total_seconds() / 86400
            add(Reason(WARNING, "expiring",
                       f"Expires within 7 days ({token.expires_at:%Y-%m-%d %H:%M} UTC, in {days:.1f} days)."))
    if token.last_checked_at is None or now - token.last_checked_at > stale_after():
        when = f"{token.last_checked_at:%Y-%m-%d %H:%M} UTC" if token.last_checked_at else "never"
        add(Reason(WARNING, "stale", f"Last check is stale ({when}): is the Celery beat scheduler running?"))
    return health


def waba_token_health(waba, now=None) -> TokenHealth:
    return token_health(waba_active_token(waba), production=waba.is_production, now=now)


def alerts_unresolved():
    return Alert.objects.filter(status__in=Alert.UNRESOLVED)
