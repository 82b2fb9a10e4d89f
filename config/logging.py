"""Structured logging: JSON in production, readable lines in development.

Secrets must never reach a log line. Callers log masked values; `redact_secrets` is the second
line of defence and masks anything shaped like a Graph token or an `app_id|app_secret` pair.
"""

import logging.config
import re

import structlog
from django.conf import settings

# Meta access tokens start with "EAA"; API keys of our public API start with "wbd_".
_TOKEN_RE = re.compile(r"\b(EAA[A-Za-z0-9]{8,}|wbd_[A-Za-z0-9_\-]{8,})")
_APP_SECRET_RE = re.compile(r"\b(\d{6,})\|[A-Za-z0-9]{8,}")
_SECRET_KEYS = {"token", "access_token", "input_token", "app_secret", "secret", "api_key", "authorization", "password"}


def mask(value: str | None, keep: int = 4) -> str:
    """The only way a secret is shown: bullets and its last `keep` characters."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep * 2:
        return "•" * len(value)
    return "•" * 8 + value[-keep:]


def redact_text(text: str) -> str:
    text = _TOKEN_RE.sub(lambda m: mask(m.group(1)), text)
    return _APP_SECRET_RE.sub(lambda m: f"{m.group(1)}|{mask('x' * 12)}", text)


def redact_secrets(logger, method_name, event_dict):
    for key, value in list(event_dict.items()):
        if key.lower() in _SECRET_KEYS and value:
            event_dict[key] = mask(str(value))
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def configure(logging_settings: dict) -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.LOG_FORMAT == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    config = {
        **logging_settings,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    redact_secrets,
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": PRE_CHAIN,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    }
    config["root"] = {**config.get("root", {}), "handlers": ["console"]}
    logging.config.dictConfig(config)
    structlog.configure(
        processors=[*PRE_CHAIN, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
