"""Encryption at rest for secrets (access tokens, app secrets).

`EncryptedTextField` stores a Fernet token in the column and gives the plaintext to Python.
Keys come from `settings.FIELD_ENCRYPTION_KEYS`, newest first: the first key encrypts, every key
decrypts, so the key itself can be rotated (`manage.py rotate_field_key` re-encrypts all rows).
Encryption is randomised, so these columns cannot be filtered on; look rows up by other fields.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: secrets cannot be stored.")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes); "
            "generate one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        ) from exc


def field_cipher() -> MultiFernet:
    # Cached per key list, yet follows a settings override (tests rotate keys).
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return field_cipher().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return field_cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # Never echo the value: it is a secret, even when encrypted.
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS "
            "(was a key removed before `manage.py rotate_field_key` ran?)."
        ) from None


def reencrypt(ciphertext: str) -> str:
    """The same secret encrypted with the first (newest) key."""
    return field_cipher().rotate(ciphertext.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; the model attribute is the plaintext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
