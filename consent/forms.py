from django import forms
from django.utils import timezone

from consent.models import Contact, ConsentEvent
from consent.selectors import SORT_LABELS
from consent.services import CLOCK_SKEW

ANY = [("", "Any")]


class ContactFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Phone fragment or name", "autocomplete": "off"}))
    state = forms.ChoiceField(required=False, label="Consent", choices=ANY + list(Contact.ConsentState.choices))
    channel = forms.ChoiceField(required=False, label="Channel", choices=ANY + list(ConsentEvent.Channel.choices))
    window = forms.ChoiceField(required=False, label="24-h window",
                               choices=ANY + [("open", "Open"), ("closed", "Closed")])
    blacklisted = forms.ChoiceField(required=False, label="Blacklist",
                                    choices=ANY + [("yes", "Blacklisted"), ("no", "Not blacklisted")])
    sort = forms.ChoiceField(required=False, label="Sort", choices=list(SORT_LABELS.items()))

    FILTERS = ("q", "state", "channel", "window", "blacklisted")

    def filters(self) -> dict:
        """The valid filters (an invalid choice is ignored rather than failing the page)."""
        self.is_valid()  # cleaned_data then holds only the valid fields
        return {k: self.cleaned_data.get(k) or "" for k in self.FILTERS}

    def sort_value(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or "newest"


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentEvent.Kind.choices, widget=forms.HiddenInput)
    channel = forms.ChoiceField(required=False, choices=[("", "— where did it come from? —")]
                                + list(ConsentEvent.Channel.choices))
    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    # A paper form signed last week and typed in today must not outrank a STOP sent in between.
    occurred_at = forms.DateTimeField(required=False, label="Given at",
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean_occurred_at(self):
        when = self.cleaned_data.get("occurred_at")
        if when and when > timezone.now() + CLOCK_SKEW:
            raise forms.ValidationError("That time is in the future: when did the person give or withdraw consent?")
        return when

    def clean(self):
        data = super().clean()
        if data.get("kind") == ConsentEvent.Kind.OPT_IN and not data.get("channel"):
            self.add_error("channel", "An opt-in needs its channel: where did the person agree?")
        elif data.get("kind") == ConsentEvent.Kind.OPT_OUT and not data.get("channel"):
            data["channel"] = ConsentEvent.Channel.OPERATOR
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", error_messages={"empty": "The file is empty (0 bytes)."}, widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))
