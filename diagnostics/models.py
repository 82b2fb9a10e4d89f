from django.conf import settings
from django.db import models
from django.utils import timezone


class GraphErrorEvent(models.Model):
    """One Graph API error met anywhere in wabadesk (client calls, sends, beat tasks)."""

    # A default rather than auto_now_add: the demo and imports record errors at their real time.
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    http_status = models.PositiveSmallIntegerField(default=0)
    code = models.IntegerField(null=True, db_index=True)
    subcode = models.IntegerField(null=True)
    type = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    fbtrace_id = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=8, blank=True)
    endpoint = models.CharField(max_length=255, blank=True)
    body = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["code", "subcode", "occurred_at"])]

    def __str__(self):
        sub = f"/{self.subcode}" if self.subcode else ""
        return f"{self.code}{sub} {self.method} {self.endpoint}"

    @property
    def group_key(self) -> str:
        return group_key(self.code, self.subcode)

    @property
    def object_id(self) -> str:
        """The Graph object the call addressed: /v24.0/{id}/messages → id."""
        parts = [p for p in self.endpoint.split("/") if p]
        if parts and parts[0].startswith("v") and "." in parts[0]:
            parts = parts[1:]
        return parts[0] if parts else ""


def group_key(code, subcode) -> str:
    """URL-safe key of an error group: "190.463", "131047", or "none" for network failures."""
    if code is None:
        return "none"
    return f"{code}.{subcode}" if subcode is not None else str(code)


class ChecklistRun(models.Model):
    """One run of the debugging checklist, kept so support can look at it later.

    The inputs are stored as values, not foreign keys: a run stays readable after a WABA, number or
    template is removed, and it records what was actually checked (a typed ID may match no row).
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    class Result(models.TextChoices):
        PASS = "pass"
        WARN = "warn"
        FAIL = "fail"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    result = models.CharField(max_length=10, choices=Result.choices, blank=True)
    waba_id = models.CharField(max_length=32)
    phone_number_id = models.CharField(max_length=32)
    recipient = models.CharField(max_length=64, blank=True)
    template_name = models.CharField(max_length=512, blank=True)
    template_language = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    # One dict per finished item, in checklist order: key, group, title, status, summary, evidence, fix.
    items = models.JSONField(default=list, blank=True)
    # What earlier items learnt for later ones (sanitised /debug_token data, the resolved object…).
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Checklist #{self.pk} {self.phone_number_id} {self.result or self.status}"

    @property
    def failed_items(self) -> list[dict]:
        return [i for i in self.items if i.get("status") == "fail"]


class EscalationBundle(models.Model):
    """What a Meta support ticket needs, built once and kept (copy as text / download as JSON)."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    run = models.ForeignKey(ChecklistRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="bundles")
    # SET_NULL: pruning the error log must not delete a bundle already sent to Meta.
    event = models.ForeignKey(GraphErrorEvent, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="bundles")
    title = models.CharField(max_length=255)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title
