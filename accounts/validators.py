"""Validators for Meta's IDs. The messages name the mistake, because mixing up the 16-digit WABA ID
and the 15-digit Phone Number ID is the classic cause of error 100/33 on /messages."""

import re

from django.core.exceptions import ValidationError

WABA_ID_DIGITS = 16
PHONE_NUMBER_ID_DIGITS = 15


def digits_only(value: str) -> bool:
    """A non-empty string of 0-9. (str.isdigit() alone also takes other scripts' digits, such as
    Arabic-Indic or full-width ones, which no Meta ID or E.164 number contains.)"""
    return value.isascii() and value.isdigit()


def _shape_problem(value: str, what: str) -> str | None:
    """A message for values that are not an ID at all (a phone number, spaces, letters)."""
    if value == "":
        return f"Enter the {what}."
    if value.startswith("+") or (re.fullmatch(r"[0-9\s\-()+]+", value) and not digits_only(value)):
        return (f"This looks like a phone number, not a {what}: Meta's IDs are digits only "
                "(no +, spaces or dashes). Find it in WhatsApp Manager → API Setup.")
    if not digits_only(value):
        return f"A {what} has digits only; “{value[:40]}” contains other characters."
    return None


def _validate_id(value, what: str, digits: int, mixup_digits: int, mixup_message: str, mixup_code: str) -> None:
    """Digits only, exactly `digits` long; the other ID's length gets a message naming the mix-up."""
    value = str(value or "").strip()
    problem = _shape_problem(value, what)
    if problem:
        raise ValidationError(problem, code="invalid")
    if len(value) == mixup_digits:
        raise ValidationError(mixup_message, code=mixup_code)
    if len(value) != digits:
        raise ValidationError(f"A {what} has {digits} digits; this one has {len(value)}.", code="length")


def validate_waba_id(value) -> None:
    _validate_id(
        value, "WABA ID", WABA_ID_DIGITS, PHONE_NUMBER_ID_DIGITS,
        "This is a 15-digit Phone Number ID; a WABA ID has 16 digits "
        "(WhatsApp Manager → Account tools → the WhatsApp Business Account ID).",
        "phone_number_id_given",
    )


def validate_phone_number_id(value) -> None:
    _validate_id(
        value, "Phone Number ID", PHONE_NUMBER_ID_DIGITS, WABA_ID_DIGITS,
        "This is a 16-digit WABA ID; a Phone Number ID has 15 digits. Sending to /{WABA ID}/messages "
        "fails with error 100/33 — use the Phone Number ID listed under the WABA's phone numbers.",
        "waba_id_given",
    )


def validate_app_id(value) -> None:
    value = str(value or "").strip()
    if not digits_only(value) or not 10 <= len(value) <= 20:
        raise ValidationError("An App ID has 10–20 digits (App Dashboard → Settings → Basic).", code="invalid")
