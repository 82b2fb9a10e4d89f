"""The public API's HTTP layer: every path under /v{version}/ goes through `dispatch`.

One dispatcher (not one Django route per endpoint) so that an unknown path is a Graph-shaped 404,
a known path with the wrong method a Graph-shaped 405, and any exception a 131000/500: no input
can reach a Django HTML page or a stack trace.
"""

from __future__ import annotations

import re

import structlog
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from messaging.api import errors, payloads, selectors, services
from messaging.api.auth import authenticate
from messaging.api.models import SCOPE_READ, SCOPE_SEND
from messaging.api.openapi import openapi_document

log = structlog.get_logger(__name__)
VERSION_RE = re.compile(r"^\d{1,2}\.\d\Z")


def send(request, version: str, phone_number_id: str):
    api_key = authenticate(request, SCOPE_SEND)
    # The send path always refuses blacklisted numbers (no row, Meta not called); the flag is
    # accepted for compatibility and answered identically: 422/131000 recipient_blacklisted.
    filter_blacklist = payloads.parse_bool(request.GET.get("filter_blacklist"), "filter_blacklist")
    body = payloads.parse_send_request(request.body)
    key = payloads.idempotency_key(request)
    fingerprint = payloads.fingerprint(phone_number_id, filter_blacklist, body) if key else ""
    outcome = services.api_send_once(api_key, phone_number_id, body, key, fingerprint, errors.trace_id(request))
    if outcome.error is not None:
        raise outcome.error  # answered (and logged) by dispatch, with the fbtrace_id already kept
    response = JsonResponse(outcome.body, status=outcome.status)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def message_status(request, version: str, message_id: str):
    api_key = authenticate(request, SCOPE_READ)
    message_row = selectors.message_for_public_id(message_id, api_key)
    if message_row is None:
        raise errors.not_found(message_id)
    return JsonResponse(selectors.message_status_body(message_row))


def openapi(request, version: str):
    return JsonResponse(openapi_document(request.build_absolute_uri("/")[:-1]), json_dumps_params={"indent": 1})


# (pattern, {method: view}); a path may match several patterns (e.g. /messages/messages).
ROUTES = [
    (re.compile(r"^(?P<phone_number_id>[^/]+)/messages/?\Z"), {"POST": send}),
    (re.compile(r"^messages/(?P<message_id>[^/]+)/?\Z"), {"GET": message_status}),
    (re.compile(r"^openapi\.json\Z"), {"GET": openapi}),
]


def route(method: str, rest: str):
    """The view for (method, path) and its kwargs, or an ApiError (404 unknown / 405 wrong method)."""
    allowed: list[str] = []
    for pattern, views in ROUTES:
        match = pattern.match(rest)
        if not match:
            continue
        if method in views:
            return views[method], match.groupdict()
        allowed.extend(m for m in views if m not in allowed)
    if allowed:
        raise errors.method_not_allowed(method, allowed)
    raise errors.unknown_path(f"/{rest}"[:200])


@login_not_required
@csrf_exempt
def dispatch(request, version: str, rest: str = ""):
    try:
        if not VERSION_RE.match(version):
            raise errors.unknown_path(f"/v{version}/"[:60])
        view, kwargs = route(request.method, rest)
        return view(request, version, **kwargs)
    except errors.ApiError as exc:
        log.info("public_api_error", method=request.method, path=request.path[:200], status=exc.status,
                 error_code=exc.code, error_subcode=exc.subcode, reason=exc.error_data.get("reason"))
        return exc.response(request)
    except RequestDataTooBig:
        return errors.invalid_parameter("(#100) The request body is too large", "invalid_json").response(request)
    except Exception:
        log.exception("public_api_unhandled_error", path=request.path[:200], method=request.method)
        return errors.transient().response(request)
