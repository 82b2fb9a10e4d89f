"""E.164 as the reference states it: `+` and 7–15 digits; each common mistake refused with its reason."""

import pytest
from django.core.exceptions import ValidationError

from consent.validators import e164_plausibility_note, validate_e164


@pytest.mark.parametrize("phone", ["+15551234567", "+442071234567", "+1234567", "+123456789012345"])
def test_valid_numbers_are_returned_unchanged(phone):
    assert validate_e164(phone) == phone


@pytest.mark.parametrize("phone, code, reason", [
    ("15551234567", "missing_plus", "missing the + prefix (did you mean +15551234567?)"),
    ("+1 555 123 4567", "spaces", "spaces are not allowed (did you mean +15551234567?)"),
    ("+1-555-123-4567", "dashes", "dashes are not allowed (did you mean +15551234567?)"),
    ("00442071234567", "00_prefix", "the 00 prefix is not valid E.164: replace 00 with + (did you mean +442071234567?)"),
    ("+123456", "too_short", "too short: 6 digits"),
    ("+1234567890123456", "too_long", "too long: 16 digits"),
    ("+1(555)1234567", "characters", "only the digits 0-9 may follow the leading +"),
    # Other scripts' digits look like digits to str.isdigit() and to \d, and would make a second contact.
    ("+١٥٥٥١٢٣٤٥٦٧", "characters", "only the digits 0-9 may follow the leading +"),
    ("+１５５５１２３４５６７", "characters", "only the digits 0-9 may follow the leading +"),
    ("+15551234567\n", "spaces", "spaces are not allowed"),
    ("", "required", "A phone number is required"),
])
def test_invalid_numbers_are_refused_with_the_specific_reason(phone, code, reason):
    with pytest.raises(ValidationError) as refused:
        validate_e164(phone)
    assert refused.value.code == code
    assert reason in refused.value.messages[0]


def test_plausibility_is_only_a_note():
    assert validate_e164("+0123456789") == "+0123456789"  # the reference rule is the law
    assert e164_plausibility_note("+0123456789") != ""
    assert e164_plausibility_note("+442071234567") == ""
