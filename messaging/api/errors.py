"""Graph-API-shaped errors: the only error bodies the public API ever answers with.

The table (../shared/reference/public-api-errors.txt) is the law:
  190 OAuthException 401 · 200 OAuthException 403 · 4 OAuthException 429 (+ Retry-After)
  100 GraphMethodException 400/404/405/409 · 131000 GraphMethodException 400/409/422/500
  131026 GraphMethodException 400
Every body carries `error_data.reason`, a stable machine-readable word (documented in OpenAPI).
"""

from __future__ import annotations

import re
import secrets

from django.http import JsonResponse

AUTH_CODES = frozenset({190, 200, 4})
_TRACE_RE = re.compile(r"[^A-Za-z0-9._:\-]")


def trace_id(request) -> str:
    """X-Request-Id echoed (sanitised, 64 chars at most) for correlation, else a fresh id (one per request)."""
    cached = getattr(request, "_fbtrace_id", None)
    if cached:
        return cached
    given = _TRACE_RE.sub("", request.headers.get("X-Request-Id", ""))[:64]
    request._fbtrace_id = given or "A" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
    return request._fbtrace_id


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, *, subcode: int | None = None,
                 reason: str | None = None, retry_after: int | None = None, headers: dict | None = None,
                 **data):
        super().__init__(message)
        self.status, self.code, self.message, self.subcode = status, code, message, subcode
        self.retry_after, self.headers = retry_after, headers or {}
        self.error_data = {k: v for k, v in {"reason": reason, **data}.items() if v is not None}

    @property
    def type(self) -> str:
        return "OAuthException" if self.code in AUTH_CODES else "GraphMethodException"

    def body(self, fbtrace_id: str) -> dict:
        error = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.error_data:
            error["error_data"] = self.error_data
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    def response(self, request) -> JsonResponse:
        fbtrace = trace_id(request)
        response = JsonResponse(self.body(fbtrace), status=self.status)
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        if self.code == 190:
            response["WWW-Authenticate"] = 'Bearer realm="wabadesk"'
        for name, value in self.headers.items():
            response[name] = value
        response["X-FB-Trace-Id"] = fbtrace
        # Logged once as `public_api_error` (with code and reason) by the dispatcher; this keeps Django
        # from adding a "Bad Request"/"Unauthorized" warning line for every client mistake.
        response._has_been_logged = True
        return response


# --- the errors, one constructor each (messages are English, never contain a secret) -------------
def auth_failed(message: str, reason: str, subcode: int | None = None) -> ApiError:
    return ApiError(401, 190, message, subcode=subcode, reason=reason)


def permission_denied(message: str, reason: str, **data) -> ApiError:
    return ApiError(403, 200, message, reason=reason, **data)


def rate_limited(retry_after: int, limit: int) -> ApiError:
    return ApiError(429, 4, f"(#4) Rate limit exceeded: this API key may make {limit} requests per minute",
                    reason="rate_limited", retry_after=retry_after, limit_per_minute=limit)


def invalid_parameter(message: str, reason: str = "invalid_parameter", subcode: int | None = None, **data) -> ApiError:
    return ApiError(400, 100, message, subcode=subcode, reason=reason, **data)


def not_found(object_id: str, verb: str = "get") -> ApiError:
    # Meta's wording for an unknown object (100/33), with the HTTP status the table gives "not found".
    return ApiError(404, 100, f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
                              "loaded due to missing permissions, or does not support this operation",
                    subcode=33, reason="not_found")


def unknown_path(path: str) -> ApiError:
    return ApiError(404, 100, f"(#100) Unknown path components: {path}", reason="unknown_path")


def method_not_allowed(method: str, allowed: list[str]) -> ApiError:
    return ApiError(405, 100, f"Unsupported {method.lower()} request on this path", reason="method_not_allowed",
                    headers={"Allow": ", ".join(allowed)})


def idempotency_reused() -> ApiError:
    return ApiError(409, 100, "This Idempotency-Key was already used with a different request body",
                    reason="idempotency_key_reused")


def idempotency_in_flight() -> ApiError:
    return ApiError(409, 131000, "A request with this Idempotency-Key is still being processed; retry shortly",
                    reason="idempotency_in_flight")


def transient() -> ApiError:
    return ApiError(500, 131000, "Something went wrong while processing the request; retry with the same "
                                 "Idempotency-Key", reason="internal_error")
