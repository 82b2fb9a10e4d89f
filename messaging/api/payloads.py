"""The Cloud API request body of POST /messages, checked before anything is stored.

Accepted: {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+15551234567",
"type": "text", "text": {"body": "…", "preview_url": false}} or "type": "template" with
{"template": {"name": "…", "language": {"code": "en_US"}, "components": [...]}}.
Like the Cloud API, `to` may be given without "+" (digits only); it is then read as +digits.
Every mistake is a 100/400 naming the parameter, in Meta's "(#100) …" wording.
"""

from __future__ import annotations

import hashlib
import json

from accounts.validators import digits_only
from messaging.api import errors

TEXT_MAX = 4096
IDEMPOTENCY_KEY_MAX = 255


def _require(value, name: str, kind=str):
    if value is None or value == "" or value == {}:
        raise errors.invalid_parameter(f"(#100) The parameter {name} is required", "missing_parameter",
                                       subcode=2500, parameter=name)
    if not isinstance(value, kind) or isinstance(value, bool):
        expected = {str: "a string", dict: "an object", list: "a list"}[kind]
        raise errors.invalid_parameter(f"(#100) Param {name} must be {expected}", "invalid_parameter", parameter=name)
    return value


def parse_json(raw: bytes) -> dict:
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.invalid_parameter("(#100) The request body is not valid JSON", "invalid_json") from None
    if not isinstance(body, dict):
        raise errors.invalid_parameter("(#100) The request body must be a JSON object", "invalid_json")
    return body


def parse_send_request(raw: bytes) -> dict:
    body = parse_json(raw)
    product = _require(body.get("messaging_product"), "messaging_product")
    if product != "whatsapp":
        raise errors.invalid_parameter("(#100) Param messaging_product must be 'whatsapp'", parameter="messaging_product")
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise errors.invalid_parameter("(#100) Param recipient_type must be 'individual'", parameter="recipient_type")
    to = _require(body.get("to"), "to").strip()
    if len(to) > 32:
        raise errors.invalid_parameter("(#100) Param to is not a phone number", "invalid_recipient", parameter="to")
    kind = _require(body.get("type"), "type")
    request = {"to_input": body["to"], "to": f"+{to}" if digits_only(to) else to, "type": kind}
    if kind == "text":
        text = _require(body.get("text"), "text", dict)
        message = _require(text.get("body"), "text['body']")
        if len(message) > TEXT_MAX:
            raise errors.invalid_parameter(f"(#100) Param text['body'] must be at most {TEXT_MAX} characters",
                                           parameter="text['body']")
        request["text"] = {"body": message}
    elif kind == "template":
        template = _require(body.get("template"), "template", dict)
        name = _require(template.get("name"), "template['name']")
        language = _require(template.get("language"), "template['language']", dict)
        code = _require(language.get("code"), "template['language']['code']")
        components = template.get("components")
        if components is not None and not isinstance(components, list):
            raise errors.invalid_parameter("(#100) Param template['components'] must be a list",
                                           parameter="template['components']")
        if components and not all(isinstance(c, dict) for c in components):
            raise errors.invalid_parameter("(#100) Each of template['components'] must be an object",
                                           parameter="template['components']")
        request["template"] = {"name": name, "language": {"code": code}, "components": components or []}
    else:
        raise errors.invalid_parameter(f"(#100) Param type must be one of text, template (got {kind[:40]!r})",
                                       "unsupported_type", parameter="type")
    return request


def parse_bool(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise errors.invalid_parameter(f"(#100) Param {name} must be true or false", parameter=name)


def idempotency_key(request) -> str | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > IDEMPOTENCY_KEY_MAX or not value.isprintable():
        raise errors.invalid_parameter(f"(#100) Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable "
                                       "characters", parameter="Idempotency-Key")
    return value


def fingerprint(phone_number_id: str, filter_blacklist: bool, request: dict) -> str:
    """What "the same request" means for an Idempotency-Key: same path, flag and (parsed) body."""
    canonical = json.dumps([phone_number_id, filter_blacklist, request], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
