"""Django admin for the accounts models. Secrets are never shown: the token and app secret columns
are excluded from every form and list, and appear only masked (last 4)."""

from django import forms
from django.contrib import admin

from accounts.models import WABA, AccessToken, Alert, App, PhoneNumber, PhoneNumberChange, RotationAudit


class AppForm(forms.ModelForm):
    new_app_secret = forms.CharField(
        label="App secret", required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only. Leave empty to keep the stored secret.")

    class Meta:
        model = App
        fields = ["app_id", "name"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_app_secret"):
            self.add_error("new_app_secret", "The App secret is required (App Dashboard → Settings → Basic).")
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("new_app_secret"):
            self.instance.app_secret = self.cleaned_data["new_app_secret"]
        return super().save(commit)


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    form = AppForm
    list_display = ["app_id", "name", "app_secret_masked", "created_at"]
    readonly_fields = ["app_secret_masked"]
    fields = ["app_id", "name", "app_secret_masked", "new_app_secret"]
    search_fields = ["app_id", "name"]

    @admin.display(description="Stored secret")
    def app_secret_masked(self, obj):
        return obj.app_secret_masked if obj and obj.pk else "—"


@admin.register(WABA)
class WABAAdmin(admin.ModelAdmin):
    list_display = ["waba_id", "name", "app", "is_production", "created_at"]
    search_fields = ["waba_id", "name"]


class PhoneNumberChangeInline(admin.TabularInline):
    model = PhoneNumberChange
    extra = 0
    can_delete = False
    readonly_fields = ["field", "old_value", "new_value", "observed_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ["phone_number_id", "display_phone_number", "verified_name", "waba", "quality_rating",
                    "messaging_limit_tier", "status", "last_synced_at"]
    list_filter = ["quality_rating", "status"]
    search_fields = ["phone_number_id", "display_phone_number", "verified_name"]
    inlines = [PhoneNumberChangeInline]


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are added and rotated through the checked rotation flow, never here."""

    list_display = ["waba", "masked", "token_type", "state", "is_valid", "expires_at", "last_checked_at"]
    list_filter = ["active", "token_type", "is_valid"]
    exclude = ["token"]
    readonly_fields = ["masked", "waba", "token_type", "scopes", "is_valid", "expires_at", "issued_at", "app_id",
                       "last_checked_at", "last_error_code", "last_error_subcode", "last_error_message", "active",
                       "created_by", "created_at", "activated_at", "retired_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting the active token would stop every send; rotate it instead.
        return super().has_delete_permission(request, obj) and not (obj and obj.active)


@admin.register(RotationAudit)
class RotationAuditAdmin(admin.ModelAdmin):
    list_display = ["at", "waba", "actor", "outcome", "old_token_masked", "new_token_masked", "new_token_type"]
    list_filter = ["outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["opened_at", "title", "kind", "severity", "status", "resolved_at"]
    list_filter = ["status", "kind", "severity"]
    search_fields = ["title", "dedupe_key"]
    readonly_fields = ["dedupe_key", "kind", "opened_at", "last_seen_at", "resolved_at", "notified_at", "notify_error"]
