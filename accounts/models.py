from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts import meta
from accounts.fields import EncryptedTextField
from accounts.roles import CAPABILITIES
from accounts.validators import validate_app_id, validate_phone_number_id, validate_waba_id
from config.logging import mask


class Capability(models.Model):
    """Holder of the role permissions (no table): `accounts.browse`, `accounts.operate`, …"""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())


class App(models.Model):
    """A Meta app: its secret verifies webhook signatures and authenticates /debug_token."""

    app_id = models.CharField("App ID", max_length=20, unique=True, validators=[validate_app_id])
    name = models.CharField(max_length=200, blank=True)
    app_secret = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "app_id"]

    def __str__(self):
        return f"{self.name or 'App'} ({self.app_id})"

    @property
    def app_secret_masked(self) -> str:
        return mask(self.app_secret)


class WABA(models.Model):
    """A WhatsApp Business Account (16-digit ID)."""

    waba_id = models.CharField("WABA ID", max_length=16, unique=True, validators=[validate_waba_id])
    name = models.CharField(max_length=200, blank=True)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="wabas")
    # A user token is only a warning on a test WABA; in production it is the classic 463 outage.
    is_production = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "waba_id"]
        verbose_name = "WABA"
        verbose_name_plural = "WABAs"

    def __str__(self):
        return f"{self.name or 'WABA'} ({self.waba_id})"


class PhoneNumber(models.Model):
    class Quality(models.TextChoices):
        GREEN = "GREEN"
        YELLOW = "YELLOW"
        RED = "RED"
        UNKNOWN = "UNKNOWN"

    phone_number_id = models.CharField("Phone Number ID", max_length=15, unique=True,
                                       validators=[validate_phone_number_id])
    waba = models.ForeignKey(WABA, on_delete=models.CASCADE, related_name="phone_numbers")
    display_phone_number = models.CharField(max_length=32, blank=True)
    verified_name = models.CharField(max_length=200, blank=True)
    quality_rating = models.CharField(max_length=8, choices=Quality.choices, default=Quality.UNKNOWN)
    messaging_limit_tier = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32, blank=True)
    name_status = models.CharField(max_length=32, blank=True)
    account_mode = models.CharField(max_length=16, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_second = models.PositiveIntegerField(default=80)

    class Meta:
        ordering = ["display_phone_number", "phone_number_id"]

    def __str__(self):
        label = self.display_phone_number or self.phone_number_id
        return f"{label} ({self.verified_name})" if self.verified_name else label


class PhoneNumberChange(models.Model):
    """History of a number's quality rating, messaging limit tier and status, as seen by syncs."""

    class Field(models.TextChoices):
        QUALITY = "quality_rating", "Quality rating"
        TIER = "messaging_limit_tier", "Messaging limit tier"
        STATUS = "status", "Status"

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="history")
    field = models.CharField(max_length=32, choices=Field.choices)
    old_value = models.CharField(max_length=32, blank=True)
    new_value = models.CharField(max_length=32)
    observed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-observed_at", "-id"]

    def __str__(self):
        return f"{self.phone_number.phone_number_id} {self.field}: {self.old_value or '—'} → {self.new_value}"


class AccessToken(models.Model):
    """A Graph API access token for one WABA. Exactly one is active per WABA.

    Lifecycle: pending (pasted, checked, awaiting confirmation) → active → retired.
    """

    class Type(models.TextChoices):
        SYSTEM_USER = "SYSTEM_USER", "System User"
        USER = "USER", "User"
        PAGE = "PAGE", "Page"
        APP = "APP", "App"
        UNKNOWN = "UNKNOWN", "Unknown"

    waba = models.ForeignKey(WABA, on_delete=models.CASCADE, related_name="tokens")
    token = EncryptedTextField()
    last4 = models.CharField(max_length=4, blank=True, editable=False)
    token_type = models.CharField(max_length=16, choices=Type.choices, default=Type.UNKNOWN)
    scopes = models.JSONField(default=list, blank=True)
    is_valid = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty = never expires.")
    issued_at = models.DateTimeField(null=True, blank=True)
    app_id = models.CharField(max_length=20, blank=True, help_text="The app the token was issued for.")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.IntegerField(null=True, blank=True)
    last_error_subcode = models.IntegerField(null=True, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-activated_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["waba"], condition=Q(active=True), name="one_active_token_per_waba"),
        ]

    def __str__(self):
        return f"{self.get_token_type_display()} token {self.masked} for {self.waba.waba_id}"

    def save(self, *args, **kwargs):
        # last4 is what pages and the audit log may show without decrypting.
        self.last4 = (self.token or "")[-4:]
        super().save(*args, **kwargs)

    @property
    def masked(self) -> str:
        return "•" * 8 + self.last4 if self.last4 else ""

    @property
    def state(self) -> str:
        if self.active:
            return "active"
        return "retired" if self.retired_at or self.activated_at else "pending"

    @property
    def missing_scopes(self) -> list[str]:
        return [s for s in meta.REQUIRED_SCOPES if s not in (self.scopes or [])]


class RotationAudit(models.Model):
    """Every rotation attempt that reached a decision: who, when, which WABA, masked old/new."""

    class Outcome(models.TextChoices):
        ROTATED = "rotated", "Rotated"
        REFUSED = "refused", "Refused"

    waba = models.ForeignKey(WABA, on_delete=models.CASCADE, related_name="rotations")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    old_token_masked = models.CharField(max_length=16, blank=True)
    new_token_masked = models.CharField(max_length=16, blank=True)
    new_token_type = models.CharField(max_length=16, blank=True)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome} {self.old_token_masked or '—'} → {self.new_token_masked}"


class Alert(models.Model):
    """A condition someone must act on. One open (or acknowledged) alert per `dedupe_key`."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Severity(models.TextChoices):
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    UNRESOLVED = (Status.OPEN, Status.ACKNOWLEDGED)

    kind = models.CharField(max_length=32, db_index=True)
    dedupe_key = models.CharField(max_length=120, db_index=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    waba = models.ForeignKey(WABA, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="alerts")
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=Q(status__in=["open", "acknowledged"]),
                                    name="one_unresolved_alert_per_condition"),
        ]

    def __str__(self):
        return f"[{self.status}] {self.title}"
