"""The one Graph API client every part of wabadesk uses.

- Base URL and version come from settings (`GRAPH_API_BASE_URL`, `GRAPH_API_VERSION`); the
  sandbox in tests and the demo, graph.facebook.com in production.
- Every error body becomes a `GraphAPIError` carrying status, code, subcode, type, message and
  fbtrace_id; a network failure becomes a `GraphNetworkError`.
- Only what can safely be repeated is retried: HTTP 429/5xx and codes 4/17/32, with exponential
  backoff and jitter, honouring Retry-After; a network error before any response only on an
  idempotent call. A POST /messages whose response was lost is never repeated here, because Meta
  has no idempotency key and the message may have been delivered.
- Each error is logged once as a structured event (with its subcode) and recorded in the
  diagnostics error log. Tokens never appear in either: only the path is logged, never the
  query string (debug_token carries secrets there).
"""

from __future__ import annotations

import functools
import json as jsonlib
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
import structlog
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

log = structlog.get_logger(__name__)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 80007, 130429})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

# The transport: requests' HTTPAdapter (urllib3's connection pool, certifi's CAs, proxies), given
# a request we prepare ourselves. Session.request costs 0.62 ms of CPU per POST, this 0.38 ms
# (bench/README.md): the Session re-parses and re-quotes URLs we built from settings, merges
# settings through typing.Protocol checks, and handles cookies, hooks and redirects, none of which
# the Graph API uses. A redirect is answered as the error it would be here.
_adapter = HTTPAdapter()
_HEADERS = requests.utils.default_headers()  # User-Agent, Accept-Encoding (gzip), Accept, Connection


@functools.lru_cache(maxsize=16)
def _environment(base_url: str) -> dict:
    """proxies / verify / cert as requests would take them from the environment (HTTPS_PROXY,
    REQUESTS_CA_BUNDLE...) for this base URL: read once, not on every call."""
    return requests.Session().merge_environment_settings(base_url, {}, None, None, None)


def _prepared(method: str, url: str, params: dict | None, payload: Any, headers: dict) -> requests.PreparedRequest:
    request = requests.PreparedRequest()
    request.method = method
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None}, doseq=True)  # as requests does
    request.url = f"{url}?{query}" if query else url
    request.headers = CaseInsensitiveDict({**_HEADERS, **headers})
    if payload is not None:
        request.body = jsonlib.dumps(payload).encode()
        request.headers["Content-Type"] = "application/json"
    if request.body is not None or method not in ("GET", "HEAD"):
        # Without a Content-Length the adapter would send the body chunked.
        request.headers["Content-Length"] = str(len(request.body or b""))
    return request


@dataclass
class GraphAPIError(Exception):
    """A Graph API error body (or a transport failure) in one shape."""

    status: int
    code: int | None
    message: str
    subcode: int | None = None
    type: str = ""
    fbtrace_id: str = ""
    error_data: dict = field(default_factory=dict)
    retry_after: float | None = None
    method: str = ""
    endpoint: str = ""
    body: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.message)

    def __str__(self):
        sub = f"/{self.subcode}" if self.subcode else ""
        return f"Graph API error {self.code}{sub} (HTTP {self.status}): {self.message}"

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 429 or self.code in RATE_LIMIT_CODES

    @property
    def retryable(self) -> bool:
        return self.is_rate_limit or self.status in RETRYABLE_STATUSES

    def as_body(self) -> dict:
        """The error as Meta's envelope, for storage and escalation bundles."""
        if self.body:
            return self.body
        error = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode:
            error["error_subcode"] = self.subcode
        if self.error_data:
            error["error_data"] = self.error_data
        error["fbtrace_id"] = self.fbtrace_id
        return {"error": error}

    @classmethod
    def from_response(cls, response: requests.Response, method: str, endpoint: str) -> "GraphAPIError":
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            error = {"message": f"HTTP {response.status_code} without a Graph error body", "code": None}
            body = {}
        return cls(
            status=response.status_code,
            code=_int_or_none(error.get("code")),
            subcode=_int_or_none(error.get("error_subcode")),
            type=str(error.get("type") or ""),
            message=str(error.get("message") or ""),
            fbtrace_id=str(error.get("fbtrace_id") or ""),
            error_data=error.get("error_data") if isinstance(error.get("error_data"), dict) else {},
            retry_after=_retry_after(response),
            method=method,
            endpoint=endpoint,
            body=body,
        )


class GraphNetworkError(GraphAPIError):
    """No HTTP response was received (connection refused, reset, timeout).

    For a POST the request may or may not have reached Meta: `outcome_unknown` is True then.
    """

    @property
    def outcome_unknown(self) -> bool:
        return self.method not in IDEMPOTENT_METHODS


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter (attempt 0 → ~base), capped; Retry-After wins when larger."""
    base = settings.GRAPH_API_BACKOFF_BASE
    delay = min(settings.GRAPH_API_BACKOFF_CAP, base * (2**attempt)) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, settings.GRAPH_API_BACKOFF_CAP)


class GraphClient:
    """A Graph API client bound to one access token.

    `max_retries` is the number of repeats after the first try; senders that do their own
    retrying (the Celery send task) pass 0.
    """

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str | None = None,
        version: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        context: dict | None = None,
    ):
        self._token = token
        self.base_url = (base_url or settings.GRAPH_API_BASE_URL).rstrip("/")
        self.version = version or settings.GRAPH_API_VERSION
        self.timeout = timeout if timeout is not None else settings.GRAPH_API_TIMEOUT
        self.max_retries = settings.GRAPH_API_MAX_RETRIES if max_retries is None else max_retries
        self.context = context or {}

    def __repr__(self):  # never show the token, even in a traceback's locals
        return f"<GraphClient {self.base_url}/{self.version}>"

    # -- the calls wabadesk makes ----------------------------------------------------------------
    def get(self, path: str, params: dict | None = None, **kwargs) -> dict:
        return self.request("GET", path, params=params, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> dict:
        return self.request("POST", path, json=json, **kwargs)

    def get_object(self, object_id: str, fields: str = "id,name") -> dict:
        return self.get(f"/{object_id}", {"fields": fields})

    def debug_token(self, input_token: str, app_id: str, app_secret: str) -> dict:
        """GET /debug_token with the app access token; returns the `data` object."""
        body = self.get(
            "/debug_token",
            {"input_token": input_token, "access_token": f"{app_id}|{app_secret}"},
            authenticate=False,
        )
        return body.get("data", {})

    def get_paged(self, path: str, params: dict | None = None, max_pages: int = 100) -> list[dict]:
        """Follows `paging.cursors.after` until the last page (forgetting it is a classic bug)."""
        params = dict(params or {})
        items: list[dict] = []
        for _ in range(max_pages):
            body = self.get(path, params)
            items.extend(body.get("data", []))
            after = body.get("paging", {}).get("cursors", {}).get("after")
            if not after or not body.get("paging", {}).get("next"):
                break
            params["after"] = after
        return items

    def send_message(self, phone_number_id: str, payload: dict) -> dict:
        return self.post(f"/{phone_number_id}/messages", payload)

    # -- transport -------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        authenticate: bool = True,
    ) -> dict:
        method = method.upper()
        endpoint = f"/{self.version}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {self._token}"} if authenticate and self._token else {}
        attempt = 0
        while True:
            try:
                response = _adapter.send(_prepared(method, self.url(path), params, json, headers),
                                         timeout=self.timeout, **_environment(self.base_url))
            except requests.RequestException as exc:
                error = GraphNetworkError(
                    status=0,
                    code=None,
                    message=f"No response from the Graph API: {type(exc).__name__}",
                    method=method,
                    endpoint=endpoint,
                )
                if method in IDEMPOTENT_METHODS and attempt < self.max_retries:
                    self._wait(error, attempt)
                    attempt += 1
                    continue
                self._report(error)
                raise error from None
            if 200 <= response.status_code < 300:  # a 3xx is not followed: it is an error here
                try:
                    return response.json()
                except ValueError:
                    return {}
            error = GraphAPIError.from_response(response, method, endpoint)
            if error.retryable and attempt < self.max_retries:
                self._wait(error, attempt)
                attempt += 1
                continue
            self._report(error)
            raise error

    def _wait(self, error: GraphAPIError, attempt: int) -> None:
        delay = backoff_delay(attempt, error.retry_after)
        log.info(
            "graph_api_retry",
            method=error.method,
            endpoint=error.endpoint,
            status=error.status,
            error_code=error.code,
            error_subcode=error.subcode,
            attempt=attempt + 1,
            delay_s=round(delay, 3),
        )
        time.sleep(delay)

    def _report(self, error: GraphAPIError) -> None:
        log.warning(
            "graph_api_error",
            method=error.method,
            endpoint=error.endpoint,
            status=error.status,
            error_code=error.code,
            error_subcode=error.subcode,
            error_type=error.type,
            error_message=error.message,
            fbtrace_id=error.fbtrace_id,
            **self.context,
        )
        from diagnostics.services import graph_error_record

        graph_error_record(error, context=self.context)
