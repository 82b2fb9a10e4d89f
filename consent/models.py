from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from consent.validators import validate_e164

# Meta's customer service window: free-form messages only within 24 h of the contact's last message.
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Window:
    """The 24-hour window at one instant. Open exactly while now < last_inbound + 24 h."""

    is_open: bool
    closes_at: datetime | None  # when it closes (or closed); None: the contact never wrote
    closed_since: datetime | None  # set only when closed after having been open
    seconds_left: int

    @property
    def label(self) -> str:
        if self.is_open:
            hours, rest = divmod(self.seconds_left, 3600)
            return f"open · {hours}h {rest // 60:02d}m left"
        return "closed · templates only"


class TrigramIndex(GinIndex):
    """A pg_trgm GIN index on PostgreSQL; on SQLite (`make run`) the same expression as a plain index."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = [e.get_source_expressions()[0] if isinstance(e, OpClass) else e for e in self.expressions]
        return models.Index(*plain, name=self.name).create_sql(model, schema_editor, **kwargs)


class SortIndex(models.Index):
    """A (col DESC NULLS LAST, id DESC) index; SQLite cannot say NULLS LAST in an index, so it gets plain DESC."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = [models.OrderBy(e.expression, descending=e.descending) if isinstance(e, models.OrderBy) else e
                 for e in self.expressions]
        return models.Index(*plain, name=self.name).create_sql(model, schema_editor, using=using, **kwargs)


class Contact(models.Model):
    class ConsentState(models.TextChoices):
        NONE = "none", "No consent"
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"

    # Unique via a constraint, not unique=True: that would add a second (LIKE-pattern) index that no
    # query uses and every import pays for.
    phone = models.CharField(max_length=16, validators=[validate_e164])
    name = models.CharField(max_length=255, blank=True, default="")
    wa_id = models.CharField("WhatsApp ID", max_length=32, blank=True, default="")
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # Kept in step with the latest ConsentEvent by consent.services (same transaction); never edited directly.
    consent_state = models.CharField(max_length=10, choices=ConsentState.choices, default=ConsentState.NONE)
    consent_channel = models.CharField(max_length=20, blank=True, default="")
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["phone"], name="contact_phone_unique")]
        indexes = [
            # Live search: Django's icontains is UPPER(col::text) LIKE UPPER(%s); these trigram indexes
            # are on exactly that expression, so PostgreSQL can use them for any fragment of 3+ chars.
            TrigramIndex(OpClass(Upper("phone"), name="gin_trgm_ops"), name="contact_phone_trgm"),
            TrigramIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="contact_name_trgm"),
            # Keyset pagination: every sort is (column, id) so a page is an index range scan.
            models.Index(fields=["name", "id"], name="contact_name_id"),
            # "Last message, recent first" with never-wrote contacts last: the index has that exact order.
            SortIndex(models.F("last_inbound_at").desc(nulls_last=True), models.F("id").desc(),
                         name="contact_inbound_desc"),
            models.Index(fields=["consent_state", "id"], name="contact_state_id"),
            # "Window open" (and any filter on recent writers), newest first: only contacts who ever
            # wrote are in it, so a page never walks the never-wrote rows a big import adds, and
            # importing such contacts costs this index nothing.
            models.Index(fields=["id"], condition=models.Q(last_inbound_at__isnull=False), name="contact_wrote_id"),
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.name else self.phone

    def window(self, now: datetime | None = None) -> Window:
        """The 24-hour window, computed here and nowhere else."""
        now = now or timezone.now()
        if self.last_inbound_at is None:
            return Window(is_open=False, closes_at=None, closed_since=None, seconds_left=0)
        closes_at = self.last_inbound_at + WINDOW
        if now < closes_at:
            return Window(is_open=True, closes_at=closes_at, closed_since=None,
                          seconds_left=int((closes_at - now).total_seconds()))
        return Window(is_open=False, closes_at=closes_at, closed_since=closes_at, seconds_left=0)


class ConsentEvent(models.Model):
    """Append-only consent history. The contact's current state follows the latest event."""

    class Kind(models.TextChoices):
        # The values sort opt_in < opt_out on purpose: "latest by (occurred_at, kind)" then makes an
        # opt-out win over an opt-in recorded at the very same instant (see LATEST_FIRST).
        OPT_IN = "opt_in", "Opt-in"
        OPT_OUT = "opt_out", "Opt-out"

    class Channel(models.TextChoices):
        WEBSITE_FORM = "website_form", "Website form"
        WHATSAPP_KEYWORD = "whatsapp_keyword", "WhatsApp keyword"
        PAPER = "paper", "Paper form"
        IMPORT = "import", "Import"
        API = "api", "API"
        OPERATOR = "operator", "Operator"
        OTHER = "other", "Other"

    # The one precedence of consent events: the first row in this order decides the state.
    LATEST_FIRST = ("-occurred_at", "-kind", "-id")

    # No index of its own: consentevent_latest starts with contact.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # Who or what recorded it, as text: the operator's name at the time, or a system label ("import", "webhook").
    recorded_by_label = models.CharField(max_length=150, blank=True, default="")
    note = models.TextField(blank=True, default="")
    # Makes re-delivered imports and webhooks idempotent: the same fact twice is stored once.
    dedupe_key = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-kind", "-id"]
        indexes = [models.Index(fields=["contact", "-occurred_at", "-kind", "-id"], name="consentevent_latest")]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="consentevent_dedupe_unique")]

    def __str__(self):
        return f"{self.kind} via {self.channel} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.get("force_insert"):
            raise ValueError("Consent events are append-only: record a new event instead of editing one.")
        super().save(*args, **kwargs)


STATE_OF_KIND = {ConsentEvent.Kind.OPT_IN: Contact.ConsentState.OPTED_IN,
                 ConsentEvent.Kind.OPT_OUT: Contact.ConsentState.OPTED_OUT}


class WebhookReceipt(models.Model):
    """One processed webhook item (an inbound message id or a status callback), so Meta's redeliveries
    of the same callback change nothing twice."""

    key = models.CharField(max_length=255, unique=True)
    received_at = models.DateTimeField(default=timezone.now)


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    bytes_done = models.BigIntegerField(default=0)
    rows_seen = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")  # a file-level refusal (empty, header, encoding, size)
    errors_file = models.FileField(upload_to="imports/", blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with every committed batch: a running job whose heartbeat stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    STALLED_AFTER = timedelta(minutes=5)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import #{self.pk} {self.original_name} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.bytes_done / self.size)) if self.size else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @classmethod
    def stalled_q(cls, now: datetime | None = None) -> models.Q:
        """Running, but no batch committed for STALLED_AFTER (nor started then, before the first
        batch): its worker died. The redelivered task starts it again from the first line (the
        import is idempotent)."""
        before = (now or timezone.now()) - cls.STALLED_AFTER
        return models.Q(status=cls.Status.RUNNING) & (
            models.Q(heartbeat_at__lt=before) | models.Q(heartbeat_at__isnull=True, started_at__lt=before))

    def stalled(self, now: datetime | None = None) -> bool:
        """`stalled_q` for this job, as the progress page shows it."""
        beat = self.heartbeat_at or self.started_at
        return self.status == self.Status.RUNNING and beat is not None and \
            beat < (now or timezone.now()) - self.STALLED_AFTER
