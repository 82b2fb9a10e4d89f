"""Validators for Meta's IDs. The messages name the mistake, because mixing up the 16-digit WABA ID
and the 15-digit Phone Number ID is the classic cause of error 100/33 on /messages."""

import re

from django.core.exceptions import ValidationError

WABA_ID_DIGITS = 16
PHONE_NUMBER_ID_DIGITS = 15


def _shape_problem(value: str, what: str) -> str | None:
    """A message for values that are not an ID at all (a phone number, spaces, letters)."""
    if value == "":
        return f"Enter the {what}."
    if value.startswith("+") or (re.fullmatch(r"[\d\s\-()+]+", value) and not value.isdigit()):
        return (f"This looks like a phone number, not a {what}: Meta's IDs are digits only "
                "(no +, spaces or dashes). Find it in WhatsApp Manager → API Setup.")
    if not value.isdigit():
        return f"A {what} has digits only; “{value[:40]}” contains other characters."
    return None


def validate_waba_id(value) -> None:
    value = str(value or "").strip()
    problem = _shape_problem(value, "WABA ID")
    if problem:
        raise ValidationError(problem, code="invalid")
    if len(value) == PHONE_NUMBER_ID_DIGITS:
        raise ValidationError(
            "This is a 15-digit Phone Number ID; a WABA ID has 16 digits "
            "(WhatsApp Manager → Account tools → the WhatsApp Business Account ID).",
            code="phone_number_id_given",
        )
    if len(value) != WABA_ID_DIGITS:
        raise ValidationError(f"A WABA ID has 16 digits; this one has {len(value)}.", code="length")


def validate_phone_number_id(value) -> None:
    value = str(value or "").strip()
    problem = _shape_problem(value, "Phone Number ID")
    if problem:
        raise ValidationError(problem, code="invalid")
    if len(value) == WABA_ID_DIGITS:
        raise ValidationError(
            "This is a 16-digit WABA ID; a Phone Number ID has 15 digits. Sending to /{WABA ID}/messages "
            "fails with error 100/33 — use the Phone Number ID listed under the WABA's phone numbers.",
            code="waba_id_given",
        )
    if len(value) != PHONE_NUMBER_ID_DIGITS:
        raise ValidationError(f"A Phone Number ID has 15 digits; this one has {len(value)}.", code="length")


def validate_app_id(value) -> None:
    value = str(value or "").strip()
    if not value.isdigit() or not 10 <= len(value) <= 20:
        raise ValidationError("An App ID has 10–20 digits (App Dashboard → Settings → Basic).", code="invalid")
