import ipaddress

from django import forms

from messaging.api.models import SCOPES


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Who uses it, e.g. 'CRM production'")
    scopes = forms.MultipleChoiceField(choices=SCOPES, widget=forms.CheckboxSelectMultiple, initial=["send"])
    allowed_ips = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "placeholder": "203.0.113.0/24\n2001:db8::/32"}),
        label="IP allowlist", help_text="Addresses or CIDR ranges, one per line. Empty: any address.")
    rate_limit_per_minute = forms.IntegerField(min_value=1, max_value=1_000_000, initial=600,
                                               label="Requests per minute")
    require_signature = forms.BooleanField(required=False, label="Require HMAC-signed requests")
    expires_at = forms.DateTimeField(required=False, label="Expires at (UTC)",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     help_text="Empty: never")

    def clean_allowed_ips(self):
        lines = [line.strip() for line in self.cleaned_data["allowed_ips"].splitlines() if line.strip()]
        problems = []
        for number, line in enumerate(lines, 1):
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError:
                problems.append(f"line {number}: '{line[:60]}' is not an IP address or CIDR range (e.g. 203.0.113.0/24)")
        if problems:
            raise forms.ValidationError(problems)
        return "\n".join(lines)
