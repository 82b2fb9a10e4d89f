import re

from django.conf import settings
from django.db import models

MARKETING_WORDS = (
    "offer", "sale", "discount", "% off", "percent off", "limited time", "buy now", "shop now", "deal",
    "promo", "coupon", "free gift", "exclusive", "save ", "hurry", "don't miss", "last chance",
    "double points", "special price", "new arrivals",
)
_VARIABLE_RE = re.compile(r"\{\{\s*([\w]+)\s*\}\}")


class Template(models.Model):
    """A message template as Meta knows it, copied by `template_sync`."""

    class Category(models.TextChoices):
        MARKETING = "MARKETING"
        UTILITY = "UTILITY"
        AUTHENTICATION = "AUTHENTICATION"

    class Status(models.TextChoices):
        APPROVED = "APPROVED"
        PENDING = "PENDING"
        REJECTED = "REJECTED"
        PAUSED = "PAUSED"
        DISABLED = "DISABLED"

    waba_id = models.CharField(max_length=32, db_index=True)
    template_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=20, choices=Category.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    rejected_reason = models.CharField(max_length=255, blank=True)
    components = models.JSONField(default=list)
    parameter_format = models.CharField(max_length=20, default="POSITIONAL")
    quality_score = models.CharField(max_length=20, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [models.UniqueConstraint(fields=["waba_id", "name", "language"], name="template_unique_per_waba")]

    def __str__(self):
        return f"{self.name} ({self.language})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    def text(self) -> str:
        return "\n".join(c.get("text", "") for c in self.components if c.get("text"))

    def variables(self) -> list[str]:
        """The {{n}} (or {{name}}) placeholders in order of first appearance."""
        seen: list[str] = []
        for name in _VARIABLE_RE.findall(self.text()):
            if name not in seen:
                seen.append(name)
        return seen

    def marketing_words(self) -> list[str]:
        """Words that make a UTILITY template read like marketing: Meta re-categorises or blocks
        such templates, and sending marketing as utility is the commonest road to a 368 block."""
        if self.category != self.Category.UTILITY:
            return []
        text = self.text().lower()
        return [w.strip() for w in MARKETING_WORDS if w in text]

    def render_component(self, component: dict) -> list[tuple[str, bool]]:
        """A component's text split into (chunk, is_variable) pieces, for highlighting."""
        pieces, last = [], 0
        text = component.get("text", "")
        for m in _VARIABLE_RE.finditer(text):
            pieces.append((text[last:m.start()], False))
            pieces.append((m.group(0), True))
            last = m.end()
        pieces.append((text[last:], False))
        return [p for p in pieces if p[0]]


class BlacklistEntry(models.Model):
    """A number this business never messages, whatever its consent says."""

    phone = models.CharField(max_length=16, unique=True)
    reason = models.CharField(max_length=255, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at"]
        verbose_name_plural = "blacklist entries"

    def __str__(self):
        return self.phone


class BlacklistChange(models.Model):
    """History of the blacklist; kept after an entry is removed."""

    class Action(models.TextChoices):
        ADDED = "added"
        REMOVED = "removed"
        REASON_CHANGED = "reason_changed"

    phone = models.CharField(max_length=16, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    reason = models.CharField(max_length=255, blank=True)
    previous_reason = models.CharField(max_length=255, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]


class Message(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        DELIVERED = "delivered"
        READ = "read"
        FAILED = "failed"
        # The POST went out but its response was lost: Meta may or may not have the message.
        # Resolved by a status webhook (biz_opaque_callback_data) or by reconciliation.
        UNKNOWN = "unknown"
        CANCELLED = "cancelled"

    class Kind(models.TextChoices):
        TEXT = "text"
        TEMPLATE = "template"

    # Order of progress: a status never moves to a lower rank (a late "delivered" after "read").
    RANK = {"queued": 0, "sending": 1, "unknown": 1, "sent": 2, "delivered": 3, "read": 4}
    FINAL = {"failed", "cancelled"}

    idempotency_key = models.CharField(max_length=128)  # unique: see Meta
    phone_number = models.ForeignKey("accounts.PhoneNumber", on_delete=models.PROTECT, related_name="messages")
    contact = models.ForeignKey("consent.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="messages")
    to = models.CharField(max_length=16)  # searched with icontains, which no btree serves
    kind = models.CharField(max_length=10, choices=Kind.choices)
    template = models.ForeignKey(Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    payload = models.JSONField(default=dict)
    # Not indexed on purpose: every message changes status three times in seconds, so an index on it
    # fills with dead entries, blocks HOT updates, and lured the planner into scanning all of them to
    # claim 20 rows by id (5 ms a claim). Claims go by primary key; the log filters via created_at.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    skipped_reason = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    wamid = models.CharField(max_length=128, null=True, blank=True)  # unique: see Meta
    error_code = models.IntegerField(null=True, blank=True, db_index=True)
    error_subcode = models.IntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    fbtrace_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=20, default="dashboard")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    broadcast = models.ForeignKey("Broadcast", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="messages")
    # The public API key that sent it: only that key may read it back. Not indexed: reads go by id
    # or wamid, and keys are revoked, never deleted.
    api_key = models.ForeignKey("publicapi.ApiKey", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every message is updated two to four times within seconds, and an update that changes an
        # indexed column writes an entry in every index. So: no index nobody reads (unique=True on a
        # CharField adds a second, LIKE-only index on PostgreSQL; constraints don't), and free room in
        # each page (fillfactor 80, migration 0004), so that status-only updates (the claim, the
        # delivered/read webhooks) are HOT: no index entry at all.
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="message_idempotency_key_unique"),
            models.UniqueConstraint(fields=["wamid"], name="message_wamid_unique"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.to} ({self.status})"

    @property
    def summary(self) -> str:
        if self.kind == self.Kind.TEXT:
            return self.payload.get("text", {}).get("body", "")
        return f"template {self.payload.get('template', {}).get('name', '')}"


class Broadcast(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        CANCELLED = "cancelled"

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="broadcasts")
    phone_number = models.ForeignKey("accounts.PhoneNumber", on_delete=models.PROTECT, related_name="broadcasts")
    segment = models.JSONField(default=dict)  # the contact filters it was started with
    parameters = models.JSONField(default=list)  # body {{n}} values, the same for every recipient
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Broadcast #{self.pk} · {self.template.name}"


class BroadcastRecipient(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending"
        QUEUED = "queued"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("consent.Contact", null=True, on_delete=models.SET_NULL, related_name="+")
    phone = models.CharField(max_length=16)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING, db_index=True)
    reason = models.CharField(max_length=64, blank=True)
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["broadcast", "phone"], name="broadcast_recipient_once")]
