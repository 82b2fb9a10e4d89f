from django import forms

from diagnostics.diagnosis import MAX_INPUT_CHARS


class PasteErrorForm(forms.Form):
    body = forms.CharField(
        label="Graph error JSON (or webhook status)", required=False, max_length=MAX_INPUT_CHARS,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": '{"error": {"message": "…", "code": 190, "error_subcode": 463}}',
                                     "spellcheck": "false"}),
    )
    code = forms.IntegerField(label="…or code", required=False, min_value=0)
    subcode = forms.IntegerField(label="subcode", required=False, min_value=0)

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and data.get("code") is None:
            raise forms.ValidationError("Paste an error body or type a code.")
        if data.get("subcode") is not None and data.get("code") is None and not (data.get("body") or "").strip():
            raise forms.ValidationError("A subcode needs its code.")
        return data


class ChecklistForm(forms.Form):
    """The inputs of a checklist run. The Phone Number ID is typed (with suggestions) on purpose:
    support often checks the ID a customer's integration uses, which may be the wrong one."""

    waba_id = forms.ChoiceField(label="WABA")
    phone_number_id = forms.CharField(label="Phone Number ID", max_length=32,
                                      widget=forms.TextInput(attrs={"list": "known-numbers", "autocomplete": "off"}))
    recipient = forms.CharField(label="Recipient (E.164, optional)", max_length=64, required=False,
                                widget=forms.TextInput(attrs={"placeholder": "+15551234567", "list": "known-contacts"}))
    template = forms.ChoiceField(label="Template (optional)", required=False)
    text = forms.CharField(label="Message text (when no template)", required=False, max_length=4096,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, wabas=(), templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["waba_id"].choices = [(w.waba_id, f"{w.name} ({w.waba_id})") for w in wabas]
        self.fields["template"].choices = [("", "— none: free-form text —")] + [
            (f"{t.name}|{t.language}", f"{t.name} ({t.language}) · {t.category} · {t.status}") for t in templates]

    def template_name_language(self) -> tuple[str, str]:
        name, _, language = (self.cleaned_data.get("template") or "").partition("|")
        return name, language
