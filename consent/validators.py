"""Phone validation: strict E.164, the one rule every app uses.

The law is the reference rule `^\\+\\d{7,15}$` (graph-api-error-reference.txt, "Validate phone numbers").
Meta answers a malformed number with 100 or 131047 and a message that never mentions the format, so
each common mistake is refused here with its own reason instead.
"""

import re

from django.core.exceptions import ValidationError

from accounts.validators import digits_only

E164_RE = re.compile(r"\+[0-9]{7,15}")  # ASCII digits: \d would take any script's digits
EXAMPLE = "+15551234567"


def validate_e164(value) -> str:
    """Return `value` if it is strict E.164, else raise ValidationError naming the mistake."""
    if value is None or str(value) == "":
        raise ValidationError("A phone number is required, in E.164 format like %s." % EXAMPLE, code="required")
    value = str(value)
    if E164_RE.fullmatch(value):
        return value
    compact = re.sub(r"[\s\-().]", "", value)
    if any(ch.isspace() for ch in value):
        reason, code = "spaces are not allowed", "spaces"
    elif "-" in value:
        reason, code = "dashes are not allowed", "dashes"
    elif value.startswith("00"):
        reason, code = "the 00 prefix is not valid E.164: replace 00 with +", "00_prefix"
    elif digits_only(value):
        reason, code = "missing the + prefix", "missing_plus"
    elif not value.startswith("+") or not digits_only(value[1:]):
        reason, code = "only the digits 0-9 may follow the leading + (no letters, brackets or dots)", "characters"
    elif len(value) - 1 < 7:
        reason, code = f"too short: {len(value) - 1} digits, E.164 needs 7 to 15 after the +", "too_short"
    else:
        reason, code = f"too long: {len(value) - 1} digits, E.164 allows at most 15 after the +", "too_long"
    hint = ""
    if code in ("spaces", "dashes", "00_prefix", "missing_plus"):
        fixed = "+" + compact[2:] if compact.startswith("00") else compact if compact.startswith("+") else "+" + compact
        if E164_RE.fullmatch(fixed):
            hint = f" (did you mean {fixed}?)"
    raise ValidationError(f"{value!r} is not an E.164 phone number: {reason}{hint}.", code=code)


def e164_plausibility_note(value: str) -> str:
    """An advisory note (never a refusal) when a valid E.164 number matches no known numbering plan."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return "No country uses this country code."
    if not phonenumbers.is_possible_number(parsed):
        return "Unusual length for this country: check the number."
    return ""
