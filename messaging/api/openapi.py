"""The OpenAPI 3 document of the public API (served at /v24.0/openapi.json, no login).

The error table lives here once, as `ERROR_REASONS`: the docs page and the document both read it.
"""

from __future__ import annotations

from django.conf import settings

# (HTTP status, code, error_subcode, error_data.reason, when) — every error the API can answer.
ERROR_REASONS = [
    (401, 190, None, "key_missing", "No Authorization header"),
    (401, 190, 467, "key_unknown", "The key is wrong, malformed or was never issued (or not 'Bearer <key>')"),
    (401, 190, 460, "key_revoked", "The key was revoked in the dashboard"),
    (401, 190, 463, "key_expired", "The key is past its expiry date"),
    (401, 190, 467, "signature_missing", "The key requires signed requests and the signature headers are absent"),
    (401, 190, 467, "signature_invalid", "The HMAC signature does not match (or the timestamp is not a number)"),
    (401, 190, 467, "signature_expired", "The signed timestamp is more than 5 minutes away from server time"),
    (401, 190, 467, "signature_replayed", "This exact signed request was already received"),
    (403, 200, None, "ip_not_allowed", "The caller's IP address is not in the key's allowlist"),
    (403, 200, None, "scope_missing", "The key lacks the scope of the endpoint (send or read)"),
    (429, 4, None, "rate_limited", "The key's per-minute request limit is used up; wait Retry-After seconds"),
    (400, 100, None, "invalid_json", "The body is not a JSON object"),
    (400, 100, 2500, "missing_parameter", "A required parameter is missing (error_data.parameter names it)"),
    (400, 100, None, "invalid_parameter", "A parameter has the wrong type or value (error_data.parameter)"),
    (400, 100, None, "unsupported_type", "type is neither text nor template"),
    (400, 100, None, "invalid_recipient", "to is not a valid E.164 phone number"),
    (404, 100, 33, "unknown_phone_number", "The Phone Number ID is not one of ours (a 16-digit WABA ID is a "
                                           "common mistake)"),
    (404, 100, 33, "not_found", "No message this key sent has this id"),
    (404, 100, None, "unknown_path", "No endpoint at this path"),
    (405, 100, None, "method_not_allowed", "The path exists but not for this HTTP method (see Allow)"),
    (409, 100, None, "idempotency_key_reused", "The Idempotency-Key was used before with a different request "
                                                  "(also once its 24 h replay is over)"),
    (409, 131000, None, "idempotency_in_flight", "A request with this Idempotency-Key is still being processed"),
    (422, 131000, None, "recipient_blacklisted", "The recipient is on the tenant blacklist: no message was "
                                                 "stored, Meta was not called; final"),
    (400, 131000, None, "no_consent", "The recipient has not opted in (or opted out); final"),
    (400, 131000, None, "template_not_approved", "The template is unknown or not APPROVED; final"),
    (400, 131000, None, "meta_error", "Meta refused the message for good (error_data.meta_code)"),
    (400, 131026, None, "window_closed", "Free-form text outside the 24-hour customer service window: send an "
                                         "approved template instead"),
    (500, 131000, None, "meta_error", "Meta failed transiently (error_data.meta_code); retry with the same "
                                      "Idempotency-Key"),
    (500, 131000, None, "no_active_token", "The number's WABA has no valid access token (an administrator must "
                                           "fix it)"),
    (500, 131000, None, "internal_error", "Unexpected failure; retry with the same Idempotency-Key"),
]

STATUS_TEXT = {400: "Parameter error or final send failure", 401: "Invalid key or signature (code 190)",
               403: "Permission denied (code 200)", 404: "Not found (code 100)",
               409: "Idempotency conflict", 422: "Recipient blacklisted (code 131000)",
               429: "Rate limit exceeded (code 4); see Retry-After", 500: "Meta or transient failure (code 131000)"}


def _error_response(status: int) -> dict:
    rows = [r for r in ERROR_REASONS if r[0] == status]
    lines = "\n".join(f"- code {c}{f'/{s}' if s else ''} `{reason}`: {when}" for _, c, s, reason, when in rows)
    response = {"description": f"{STATUS_TEXT[status]}\n\n{lines}",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if status == 429:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    return response


def _errors(*statuses: int) -> dict:
    return {str(s): _error_response(s) for s in statuses}


HEADERS = [
    {"name": "X-Request-Id", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Echoed as error.fbtrace_id (letters, digits and ._:- kept, at most 64)"},
    {"name": "X-Wabadesk-Timestamp", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Unix seconds; with X-Wabadesk-Signature (required for keys flagged 'require signature')"},
    {"name": "X-Wabadesk-Signature", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "hex HMAC-SHA256 keyed with the API key over '{timestamp}.{raw body}'; accepted once, "
                    "within 5 minutes"},
]

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["message", "type", "code", "fbtrace_id"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string", "enum": ["OAuthException", "GraphMethodException"]},
                "code": {"type": "integer", "enum": [4, 100, 190, 200, 131000, 131026]},
                "error_subcode": {"type": "integer"},
                "error_data": {"type": "object", "properties": {
                    "reason": {"type": "string", "enum": sorted({r[3] for r in ERROR_REASONS})},
                    "details": {"type": "string"}}},
                "fbtrace_id": {"type": "string"},
            }}},
    },
    "TextMessage": {
        "type": "object", "required": ["messaging_product", "to", "type", "text"],
        "properties": {
            "messaging_product": {"type": "string", "enum": ["whatsapp"]},
            "recipient_type": {"type": "string", "enum": ["individual"]},
            "to": {"type": "string", "description": "E.164 (+15551234567); digits without + are accepted",
                   "pattern": "^\\+?[0-9]{7,15}$", "example": "+15551234567"},
            "type": {"type": "string", "enum": ["text"]},
            "text": {"type": "object", "required": ["body"], "properties": {
                "body": {"type": "string", "minLength": 1, "maxLength": 4096},
                "preview_url": {"type": "boolean"}}},
        },
    },
    "TemplateMessage": {
        "type": "object", "required": ["messaging_product", "to", "type", "template"],
        "properties": {
            "messaging_product": {"type": "string", "enum": ["whatsapp"]},
            "recipient_type": {"type": "string", "enum": ["individual"]},
            "to": {"type": "string", "pattern": "^\\+?[0-9]{7,15}$", "example": "+15551234567"},
            "type": {"type": "string", "enum": ["template"]},
            "template": {"type": "object", "required": ["name", "language"], "properties": {
                "name": {"type": "string", "minLength": 1},
                "language": {"type": "object", "required": ["code"],
                             "properties": {"code": {"type": "string", "minLength": 1, "example": "en_US"}}},
                "components": {"type": "array", "items": {"type": "object"}}}},
        },
    },
    "SendResponse": {
        "type": "object", "required": ["messaging_product", "contacts", "messages"],
        "properties": {
            "messaging_product": {"type": "string", "enum": ["whatsapp"]},
            "contacts": {"type": "array", "items": {"type": "object", "required": ["input", "wa_id"], "properties": {
                "input": {"type": "string"}, "wa_id": {"type": "string"}}}},
            "messages": {"type": "array", "items": {"type": "object", "required": ["id", "message_status"],
                                                    "properties": {
                "id": {"type": "string", "description": "Meta's wamid when already known, else ours ('wbd.<n>'); "
                                                        "both work for GET /messages/{id}"},
                "message_status": {"type": "string", "enum": ["accepted"]}}}},
        },
    },
    "MessageStatus": {
        "type": "object", "required": ["messaging_product", "id", "status", "to", "phone_number_id"],
        "properties": {
            "messaging_product": {"type": "string", "enum": ["whatsapp"]},
            "id": {"type": "string"},
            "wamid": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": ["queued", "sending", "sent", "delivered", "read", "failed",
                                                  "unknown", "cancelled"]},
            "to": {"type": "string"}, "phone_number_id": {"type": "string"}, "type": {"type": "string"},
            "attempts": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "error": {"type": "object", "properties": {
                "code": {"type": "integer", "nullable": True}, "error_subcode": {"type": "integer", "nullable": True},
                "message": {"type": "string"}, "fbtrace_id": {"type": "string"}}},
        },
    },
}


def openapi_document(server_url: str = "") -> dict:
    version = settings.GRAPH_API_VERSION
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "wabadesk public send API",
            "version": version,
            "description": (
                "WhatsApp Cloud API compatible sending. Errors have the Graph API body shape; the HTTP status "
                "drives retries (5xx and 429 are retryable, other 4xx are final). Any version vX.Y in the path "
                "is accepted. Sending is asynchronous: a 200 means the message is stored and queued; poll "
                "GET /messages/{id}, which answers only for messages sent with the same key. Writes accept an "
                "Idempotency-Key: the same key and body within 24 h "
                "replays the first response (header Idempotent-Replayed: true); a different body is 409/100; "
                "a request still in flight is 409/131000. Blacklisted recipients are always refused "
                "(422/131000 recipient_blacklisted), with or without ?filter_blacklist=true."
            ),
        },
        "servers": [{"url": f"{server_url}/{version}"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/{phone_number_id}/messages": {
                "post": {
                    "operationId": "sendMessage",
                    "summary": "Send a text or template message (Cloud API body)",
                    "parameters": [
                        {"name": "phone_number_id", "in": "path", "required": True,
                         "schema": {"type": "string", "pattern": "^[0-9]+$"},
                         "description": "The 15-digit Phone Number ID (not the WABA ID)"},
                        {"name": "filter_blacklist", "in": "query", "required": False, "schema": {"type": "boolean"}},
                        {"name": "Idempotency-Key", "in": "header", "required": False,
                         "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
                        *HEADERS,
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "oneOf": [{"$ref": "#/components/schemas/TextMessage"},
                                  {"$ref": "#/components/schemas/TemplateMessage"}]}}}},
                    "responses": {
                        "200": {"description": "Accepted and queued",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SendResponse"}}}},
                        **_errors(400, 401, 403, 404, 409, 422, 429, 500),
                    },
                },
            },
            "/messages/{message_id}": {
                "get": {
                    "operationId": "getMessage",
                    "summary": "Status of a message (scope read)",
                    "parameters": [{"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}},
                                   HEADERS[0]],
                    "responses": {
                        "200": {"description": "The message",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageStatus"}}}},
                        **_errors(401, 403, 404, 429, 500),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API key 'wbd_…' created in the dashboard"}},
            "schemas": SCHEMAS,
        },
        "x-error-reasons": [
            {"status": s, "code": c, "error_subcode": sub, "reason": r, "when": w} for s, c, sub, r, w in ERROR_REASONS
        ],
    }
