from django import forms

from consent.forms import ContactFilterForm
from messaging.models import BlacklistEntry, Message, Template


class BlacklistAddForm(forms.Form):
    numbers = forms.CharField(
        label="Numbers (one per line, E.164 such as +14155550123)",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "+14155550123\n+447700900123"}),
    )
    reason = forms.CharField(max_length=255, required=False)


class BlacklistReasonForm(forms.ModelForm):
    class Meta:
        model = BlacklistEntry
        fields = ["reason"]


class TemplateFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Template.Status.choices])
    category = forms.ChoiceField(required=False, choices=[("", "Any category"), *Template.Category.choices])
    language = forms.CharField(required=False, max_length=16)


class MessageFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Recipient")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Message.Status.choices])
    error_code = forms.IntegerField(required=False, label="Error code")


def _phone_choices():
    from accounts.models import PhoneNumber

    return [(p.phone_number_id, f"{p.display_phone_number or p.phone_number_id} · {p.verified_name}")
            for p in PhoneNumber.objects.order_by("display_phone_number")]


class ComposeForm(forms.Form):
    """A reply to one contact. With the window closed only templates are offered (see the view)."""

    phone_number_id = forms.ChoiceField(label="From")
    to = forms.CharField(label="To", max_length=32)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    template = forms.ModelChoiceField(queryset=Template.objects.none(), required=False)
    parameters = forms.CharField(required=False, label="Template values ({{1}}, {{2}}… one per line)",
                                 widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, window_open=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone_number_id"].choices = _phone_choices()
        self.fields["template"].queryset = Template.objects.filter(status=Template.Status.APPROVED)
        if not window_open:
            del self.fields["text"]

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Write a text or pick a template.")
        return data


class BroadcastForm(ContactFilterForm):
    """A template, the number it goes from, and the segment: the contacts list's own search and filters."""

    template = forms.ModelChoiceField(queryset=Template.objects.none(), help_text="Only APPROVED templates.")
    phone_number_id = forms.ChoiceField(label="From")
    parameters = forms.CharField(required=False, label="Template values ({{1}}, {{2}}… one per line)",
                                 widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"state": "opted_in"})
        super().__init__(*args, **kwargs)
        del self.fields["sort"]
        self.fields["phone_number_id"].choices = _phone_choices()
        self.fields["template"].queryset = Template.objects.filter(status=Template.Status.APPROVED)

    def segment(self) -> dict:
        """The filters given (for consent.selectors.contact_filter, and stored with the broadcast)."""
        return {name: value for name, value in self.filters().items() if value}


def parameter_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
