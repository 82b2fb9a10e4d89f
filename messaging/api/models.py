"""API keys for the public send API, and the idempotency records of its writes."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.db import models
from django.utils import timezone

SCOPE_SEND = "send"
SCOPE_READ = "read"
SCOPES = [(SCOPE_SEND, "send — POST /messages"), (SCOPE_READ, "read — GET /messages/{id}")]


class ApiKey(models.Model):
    """One key. Only its SHA-256 is stored; `prefix` (shown in the list) finds the row."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=20, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    allowed_ips = models.TextField(blank=True, help_text="CIDRs or addresses, one per line; empty = any")
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    require_signature = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def state(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"

    def networks(self) -> list:
        return [ipaddress.ip_network(line.strip(), strict=False) for line in self.allowed_ips.splitlines() if line.strip()]

    def ip_allowed(self, ip: str | None) -> bool:
        networks = self.networks()
        if not networks:
            return True
        try:
            address = ipaddress.ip_address(ip or "")
        except ValueError:
            return False
        return any(address.version == net.version and address in net for net in networks)


class IdempotencyRecord(models.Model):
    """The first response to (API key, Idempotency-Key), replayed for 24 h.

    The unique constraint is the lock: of concurrent identical requests exactly one INSERT wins;
    the others find the row in flight (409) or done (replay).
    """

    IN_FLIGHT = "in_flight"
    DONE = "done"
    STATES = [(IN_FLIGHT, "in flight"), (DONE, "done")]

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=STATES, default=IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="publicapi_idempotency_unique")]

    def __str__(self):
        return f"{self.key} ({self.state})"
