"""Sanitising what diagnostics shows and exports (checklist evidence, escalation bundles).

`config.logging.mask` is the one masking helper; this module applies it to nested data. Known
secrets (the token in use, the app secret) are also replaced wherever they appear verbatim, so a
secret echoed inside an error message or a URL cannot slip through.
"""

from __future__ import annotations

from config.logging import _SECRET_KEYS, mask, redact_text


def sanitize(value, secrets: tuple[str, ...] | list[str] = ()):
    secrets = [s for s in secrets if s and len(s) >= 6]
    return _walk(value, secrets)


def _walk(value, secrets):
    if isinstance(value, dict):
        return {k: (mask(str(v)) if str(k).lower() in _SECRET_KEYS and isinstance(v, str) and v and not
                    _is_masked(v) else _walk(v, secrets)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, secrets) for v in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def redact(text: str, secrets=()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, mask(secret))
    return redact_text(text)


def _is_masked(value: str) -> bool:
    return value.startswith("•")


def app_access_token_shown(app_id: str) -> str:
    """How the `app_id|app_secret` credential of /debug_token is shown: the secret never is."""
    return f"{app_id}|{mask('x' * 12)}"
