from django.db import models


class GraphErrorEvent(models.Model):
    """One Graph API error met anywhere in wabadesk (client calls, sends, beat tasks)."""

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
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
