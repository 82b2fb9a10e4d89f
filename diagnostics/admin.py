"""Read-only views of the diagnostics records for superusers (the pages are the real interface)."""

from django.contrib import admin

from diagnostics.models import ChecklistRun, EscalationBundle, GraphErrorEvent


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GraphErrorEvent)
class GraphErrorEventAdmin(ReadOnly):
    list_display = ("occurred_at", "code", "subcode", "http_status", "method", "endpoint", "fbtrace_id")
    list_filter = ("code",)
    search_fields = ("fbtrace_id", "endpoint", "message")
    date_hierarchy = "occurred_at"


@admin.register(ChecklistRun)
class ChecklistRunAdmin(ReadOnly):
    list_display = ("pk", "created_at", "created_by", "phone_number_id", "recipient", "status", "result")
    list_filter = ("result", "status")


@admin.register(EscalationBundle)
class EscalationBundleAdmin(ReadOnly):
    list_display = ("pk", "created_at", "created_by", "title")
