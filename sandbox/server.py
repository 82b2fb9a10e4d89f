"""The Graph API sandbox: a real HTTP server that answers like Meta's Graph API.

It serves the calls wabadesk makes (`/debug_token`, `/{id}`, `/{waba_id}/phone_numbers`,
`/{waba_id}/message_templates`, `/{phone_number_id}/messages`) from in-memory state, and every
error it returns arises from that state with Meta's real body shape: an expired user token gets
190/463, a WABA ID used for /messages gets 100/33, a closed window gets 131047 and so on.

Tests, the demo and the benchmarks set the state over HTTP under `/_sandbox/` (see
`sandbox.control.SandboxControl`). It depends on nothing but the standard library, so it starts
fast and can be run beside any wabadesk process.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MESSAGING_SCOPE = "whatsapp_business_messaging"
MANAGEMENT_SCOPE = "whatsapp_business_management"
WINDOW_SECONDS = 24 * 3600
_VERSION_RE = re.compile(r"^/v\d+\.\d+(?=/)")
_DIGITS_RE = re.compile(r"^\d{7,15}$")

PHONE_FIELDS = (
    "id", "display_phone_number", "verified_name", "quality_rating", "code_verification_status",
    "status", "name_status", "account_mode", "platform_type", "throughput",
    "whatsapp_business_manager_messaging_limit", "messaging_limit_tier",
)


class GraphError(Exception):
    """An error the sandbox answers with, in Meta's envelope."""

    def __init__(self, status, code, message, subcode=None, type_="OAuthException", details=None, retry_after=None):
        super().__init__(message)
        self.status, self.code, self.message, self.subcode = status, code, message, subcode
        self.type, self.details, self.retry_after = type_, details, retry_after

    def body(self) -> dict:
        error = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")
        return {"error": error}


def _not_found(object_id: str, verb: str = "get") -> GraphError:
    return GraphError(
        400, 100,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API documentation "
        "at https://developers.facebook.com/docs/graph-api",
        subcode=33, type_="GraphMethodException",
    )


def _missing(param: str) -> GraphError:
    return GraphError(400, 100, f"(#100) The parameter {param} is required", subcode=2500)


class SandboxState:
    """Everything the sandbox knows. All access goes through `lock`."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.apps: dict[str, dict] = {}
            self.tokens: dict[str, dict] = {}
            self.wabas: dict[str, dict] = {}
            self.phone_numbers: dict[str, dict] = {}
            self.templates: dict[str, list[dict]] = {}
            self.inbound: dict[str, float] = {}
            self.rate_limits: dict[str, dict] = {}
            self.faults: list[dict] = []
            self.sent: list[dict] = []
            self.calls: list[dict] = []
            self._windows: dict[str, deque] = {}

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "apps": self.apps, "tokens": self.tokens, "wabas": self.wabas,
                "phone_numbers": self.phone_numbers, "templates": self.templates, "inbound": self.inbound,
                "rate_limits": self.rate_limits, "faults": self.faults,
            }

    def merge(self, data: dict) -> None:
        """Add or update apps, tokens, WABAs, numbers, templates (per WABA), inbound times, limits."""
        with self.lock:
            for key in ("apps", "tokens", "wabas", "phone_numbers", "rate_limits"):
                for item_id, item in (data.get(key) or {}).items():
                    target = getattr(self, key)
                    target[str(item_id)] = {**target.get(str(item_id), {}), **item}
            for waba_id, templates in (data.get("templates") or {}).items():
                self.templates[str(waba_id)] = [dict(t) for t in templates]
            for wa_id, ts in (data.get("inbound") or {}).items():
                self.inbound[str(wa_id).lstrip("+")] = float(ts)

    # -- checks ----------------------------------------------------------------------------------
    def authenticate(self, header: str | None, query_token: str | None) -> dict:
        if header is None and not query_token:
            raise GraphError(401, 190, "An active access token must be used to query information about the current user.")
        if header is not None:
            if not header.startswith("Bearer "):
                # The classic mistake: the token pasted without the "Bearer " prefix.
                raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
            token_value = header[len("Bearer "):].strip()
        else:
            token_value = query_token
        token = self.tokens.get(token_value)
        if token is None:
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        problem = self.token_problem(token)
        if problem:
            raise GraphError(401, 190, problem[1], subcode=problem[0])
        return token

    @staticmethod
    def token_problem(token: dict) -> tuple[int | None, str] | None:
        subcode = token.get("invalid_subcode")
        if subcode == 460:
            return 460, ("Error validating access token: The session has been invalidated because the user "
                         "changed their password or Facebook has changed the session for security reasons.")
        if subcode == 467:
            return 467, "Error validating access token: The session is invalid because the user logged out."
        expires_at = int(token.get("expires_at") or 0)
        if subcode == 463 or (expires_at and expires_at <= time.time()):
            when = datetime.fromtimestamp(expires_at or time.time(), timezone.utc).strftime("%A, %d-%b-%y %H:%M:%S UTC")
            return 463, f"Error validating access token: Session has expired on {when}."
        if token.get("is_valid") is False:
            return None, "Error validating access token: The user has not authorized application."
        return None

    @staticmethod
    def require_scope(token: dict, scope: str) -> None:
        if scope not in token.get("scopes", []):
            raise GraphError(403, 200, f"(#200) Requires {scope} permission to manage the object")

    @staticmethod
    def require_access(token: dict, waba_id: str, object_id: str, verb: str) -> None:
        # A token limited to some WABAs sees the others as "does not exist" (the masked 100/33).
        allowed = token.get("waba_ids")
        if allowed and waba_id not in allowed:
            raise _not_found(object_id, verb)

    def check_rate(self, key: str) -> None:
        limit = self.rate_limits.get(key)
        if not limit:
            return
        now = time.monotonic()
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= int(limit.get("per_second", 80)):
            code = int(limit.get("code", 130429))
            messages = {
                4: "(#4) Application request limit reached",
                17: "(#17) User request limit reached",
                32: "(#32) Page request limit reached",
                80007: "(#80007) Rate limit issues",
                130429: "(#130429) Rate limit hit: Cloud API message throughput has been reached.",
            }
            raise GraphError(
                int(limit.get("status", 429)), code, messages.get(code, "Rate limit hit"),
                retry_after=limit.get("retry_after", 1),
            )
        window.append(now)

    def take_fault(self, method: str, path: str) -> dict | None:
        for fault in self.faults:
            if fault.get("method", method).upper() == method and re.search(fault.get("path", ".*"), path):
                fault["times"] = int(fault.get("times", 1)) - 1
                if fault["times"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None


class GraphAPI:
    """The Graph endpoints, one method each. Raises GraphError; returns a JSON-able dict."""

    def __init__(self, state: SandboxState):
        self.state = state

    def handle(self, method: str, path: str, query: dict, headers, body: dict | None) -> dict:
        parts = [p for p in path.split("/") if p]
        s = self.state
        if method == "GET" and parts == ["debug_token"]:
            return self.debug_token(query)
        token = s.authenticate(headers.get("Authorization"), query.get("access_token"))
        s.check_rate("*")
        if method == "GET" and len(parts) == 1:
            return self.get_object(token, parts[0], query)
        if method == "GET" and len(parts) == 2 and parts[1] == "phone_numbers":
            return self.list_edge(token, parts[0], "phone_numbers", query)
        if method == "GET" and len(parts) == 2 and parts[1] == "message_templates":
            return self.list_edge(token, parts[0], "message_templates", query)
        if method == "POST" and len(parts) == 2 and parts[1] == "messages":
            return self.send_message(token, parts[0], body)
        if len(parts) >= 1 and parts[0] not in s.phone_numbers and parts[0] not in s.wabas:
            raise _not_found(parts[0], method.lower())
        raise GraphError(400, 100, f"(#100) Unknown path components: /{'/'.join(parts[1:])}")

    def debug_token(self, query: dict) -> dict:
        s = self.state
        input_token = query.get("input_token")
        if not input_token:
            raise GraphError(400, 100, "(#100) The parameter input_token is required")
        access = query.get("access_token", "")
        app_id, _, app_secret = access.partition("|")
        app = s.apps.get(app_id)
        if not app_secret:
            s.authenticate(f"Bearer {access}", None)
        elif app is None or app.get("secret") != app_secret:
            raise GraphError(400, 101, "Error validating client secret.")
        token = s.tokens.get(input_token)
        if token is None:
            return {"data": {"error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
                             "is_valid": False, "scopes": []}}
        data = {
            "app_id": token.get("app_id", ""),
            "type": token.get("type", "SYSTEM_USER"),
            "application": s.apps.get(token.get("app_id", ""), {}).get("name", ""),
            "data_access_expires_at": int(token.get("data_access_expires_at", 0)),
            "expires_at": int(token.get("expires_at") or 0),
            "is_valid": True,
            "issued_at": int(token.get("issued_at", 0)),
            "scopes": list(token.get("scopes", [])),
            "granular_scopes": [
                {"scope": scope, "target_ids": list(token.get("waba_ids", []))} for scope in token.get("scopes", [])
            ],
            "user_id": token.get("user_id", ""),
        }
        problem = s.token_problem(token)
        if problem:
            data["is_valid"] = False
            data["error"] = {"code": 190, "message": problem[1]}
            if problem[0]:
                data["error"]["subcode"] = problem[0]
        return {"data": data}

    def get_object(self, token: dict, object_id: str, query: dict) -> dict:
        s = self.state
        fields = [f for f in query.get("fields", "").split(",") if f]
        if object_id in s.phone_numbers:
            phone = s.phone_numbers[object_id]
            s.require_scope(token, MANAGEMENT_SCOPE)
            s.require_access(token, phone.get("waba_id", ""), object_id, "get")
            result = self._phone_fields(object_id, phone, fields)
            kind = "whatsapp_business_phone_number"
        elif object_id in s.wabas:
            s.require_scope(token, MANAGEMENT_SCOPE)
            s.require_access(token, object_id, object_id, "get")
            waba = s.wabas[object_id]
            full = {"id": object_id, "name": waba.get("name", ""), "currency": waba.get("currency", "USD"),
                    "timezone_id": waba.get("timezone_id", "1"),
                    "message_template_namespace": waba.get("namespace", "")}
            result = self._pick(full, fields)
            kind = "whatsapp_business_account"
        elif object_id in s.apps:
            result = self._pick({"id": object_id, "name": s.apps[object_id].get("name", "")}, fields)
            kind = "application"
        else:
            raise _not_found(object_id)
        if query.get("metadata") == "1":
            result["metadata"] = {"type": kind}
        return result

    @staticmethod
    def _pick(full: dict, fields: list[str]) -> dict:
        if not fields:
            return {k: v for k, v in full.items() if k in ("id", "name")}
        unknown = [f for f in fields if f not in full]
        if unknown:
            raise GraphError(400, 100, f"(#100) Tried accessing nonexisting field ({unknown[0]})")
        return {"id": full["id"], **{f: full[f] for f in fields}}

    def _phone_fields(self, phone_id: str, phone: dict, fields: list[str]) -> dict:
        tier = phone.get("messaging_limit", "TIER_1K")
        full = {
            "id": phone_id,
            "display_phone_number": phone.get("display_phone_number", ""),
            "verified_name": phone.get("verified_name", ""),
            "quality_rating": phone.get("quality_rating", "GREEN"),
            "code_verification_status": phone.get("code_verification_status", "VERIFIED"),
            "status": phone.get("status", "CONNECTED"),
            "name_status": phone.get("name_status", "APPROVED"),
            "account_mode": phone.get("account_mode", "LIVE"),
            "platform_type": "CLOUD_API",
            "throughput": {"level": phone.get("throughput", "STANDARD")},
            "whatsapp_business_manager_messaging_limit": tier,
            "messaging_limit_tier": tier,
        }
        if not fields:
            fields = ["display_phone_number", "verified_name", "quality_rating", "code_verification_status"]
        unknown = [f for f in fields if f not in full]
        if unknown:
            raise GraphError(400, 100, f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                                       "(WhatsAppBusinessPhoneNumber)")
        return {"id": phone_id, **{f: full[f] for f in fields}}

    def list_edge(self, token: dict, waba_id: str, edge: str, query: dict) -> dict:
        s = self.state
        if waba_id not in s.wabas:
            raise _not_found(waba_id)
        s.require_scope(token, MANAGEMENT_SCOPE)
        s.require_access(token, waba_id, waba_id, "get")
        fields = [f for f in query.get("fields", "").split(",") if f]
        if edge == "phone_numbers":
            items = [self._phone_fields(pid, p, fields or list(PHONE_FIELDS[1:]))
                     for pid, p in sorted(s.phone_numbers.items()) if p.get("waba_id") == waba_id]
        else:
            items = [self._template(t) for t in s.templates.get(waba_id, [])]
            if query.get("status"):
                items = [t for t in items if t["status"] == query["status"]]
        limit = max(1, min(int(query.get("limit", 25) or 25), 100))
        offset = int(base64.urlsafe_b64decode(query["after"]).decode()) if query.get("after") else 0
        page = items[offset:offset + limit]
        paging = {"cursors": {"before": base64.urlsafe_b64encode(str(offset).encode()).decode(),
                              "after": base64.urlsafe_b64encode(str(offset + len(page)).encode()).decode()}}
        if offset + limit < len(items):
            paging["next"] = f"/{waba_id}/{edge}?limit={limit}&after={paging['cursors']['after']}"
        return {"data": page, "paging": paging}

    @staticmethod
    def _template(t: dict) -> dict:
        out = {
            "id": str(t.get("id", "")),
            "name": t["name"],
            "language": t.get("language", "en_US"),
            "status": t.get("status", "APPROVED"),
            "category": t.get("category", "UTILITY"),
            "components": t.get("components", []),
            "parameter_format": t.get("parameter_format", "POSITIONAL"),
        }
        if t.get("rejected_reason"):
            out["rejected_reason"] = t["rejected_reason"]
        if t.get("quality_score"):
            out["quality_score"] = {"score": t["quality_score"]}
        return out

    def send_message(self, token: dict, phone_id: str, body: dict | None) -> dict:
        s = self.state
        phone = s.phone_numbers.get(phone_id)
        if phone is None:
            # Most often a 16-digit WABA ID used where the 15-digit Phone Number ID belongs.
            raise _not_found(phone_id, "post")
        s.require_scope(token, MESSAGING_SCOPE)
        s.require_access(token, phone.get("waba_id", ""), phone_id, "post")
        s.check_rate(phone_id)
        body = body if isinstance(body, dict) else {}
        for param in ("messaging_product", "to", "type"):
            if not body.get(param):
                raise _missing(param)
        if body["messaging_product"] != "whatsapp":
            raise GraphError(400, 100, "(#100) Param messaging_product must be 'whatsapp'")
        to = str(body["to"]).lstrip("+")
        if not _DIGITS_RE.match(to):
            raise GraphError(400, 100, "(#100) Invalid parameter", details=f"Invalid phone number: {body['to']}")
        if phone.get("blocked") or phone.get("status") in ("BANNED", "RESTRICTED"):
            raise GraphError(400, 368, "(#368) Temporarily blocked for policies violations",
                             details="This phone number is temporarily blocked from sending messages.")
        kind = body["type"]
        if kind == "text":
            if not (body.get("text") or {}).get("body"):
                raise _missing("text['body']")
            last = s.inbound.get(to)
            if last is None or time.time() - last >= WINDOW_SECONDS:
                raise GraphError(
                    400, 131047, "(#131047) Re-engagement message",
                    details="Message failed to send because more than 24 hours have passed since the customer "
                            "last replied to this number.",
                )
        elif kind == "template":
            template = body.get("template") or {}
            if not template.get("name"):
                raise _missing("template['name']")
            language = (template.get("language") or {}).get("code")
            if not language:
                raise _missing("template['language']['code']")
            self._check_template(phone.get("waba_id", ""), template["name"], language)
        else:
            raise GraphError(400, 131051, "(#131051) Unsupported message type")
        wamid = "wamid." + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        s.sent.append({
            "id": wamid, "phone_number_id": phone_id, "to": to, "type": kind,
            "template": (body.get("template") or {}).get("name"),
            "text": (body.get("text") or {}).get("body"),
            "biz_opaque_callback_data": body.get("biz_opaque_callback_data"),
            "received_at": time.time(),
        })
        return {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": to}],
                "messages": [{"id": wamid, "message_status": "accepted"}]}

    def _check_template(self, waba_id: str, name: str, language: str) -> None:
        for t in self.state.templates.get(waba_id, []):
            if t["name"] == name and t.get("language", "en_US") == language:
                status = t.get("status", "APPROVED")
                if status == "APPROVED":
                    return
                if status == "PAUSED":
                    raise GraphError(400, 132015, "(#132015) Template is paused due to low quality")
                if status == "DISABLED":
                    raise GraphError(400, 132016, "(#132016) Template has been disabled due to low quality")
                break
        raise GraphError(400, 132001, "(#132001) Template name does not exist in the translation",
                         details=f"template name ({name}) does not exist in {language}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they do with Meta
    # Headers and body go out in separate writes: with Nagle on, each response on a kept-alive
    # connection waits ~40 ms for a delayed ACK, capping one sender at ~25 requests/s.
    disable_nagle_algorithm = True
    server_version = "wabadesk-graph-sandbox"

    def log_message(self, format, *args):  # quiet: the sandbox is hit thousands of times a second
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str):
        state: SandboxState = self.server.state
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            if not split.path.startswith("/_sandbox/"):
                return self._send(400, GraphError(400, 100, "(#100) Invalid JSON in the request body").body())
        if split.path.startswith("/_sandbox/"):
            return self._control(method, split.path, body or {})
        path = _VERSION_RE.sub("", split.path)
        with state.lock:
            fault = state.take_fault(method, path)
            state.calls.append({"method": method, "path": path, "at": time.time()})
            if fault and fault.get("code") is not None:
                error = GraphError(int(fault.get("status", 400)), int(fault["code"]), fault.get("message", "Injected error"),
                                   subcode=fault.get("subcode"), type_=fault.get("type", "OAuthException"),
                                   retry_after=fault.get("retry_after"))
                return self._send(error.status, error.body(), retry_after=error.retry_after)
            try:
                status, payload, retry_after = 200, GraphAPI(state).handle(method, path, query, self.headers, body), None
            except GraphError as error:
                status, payload, retry_after = error.status, error.body(), error.retry_after
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault and fault.get("drop"):
            # The request was handled (a message may have been accepted) but the response is lost.
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self._send(status, payload, retry_after=retry_after)

    def _control(self, method: str, path: str, body: dict):
        state: SandboxState = self.server.state
        action = path[len("/_sandbox/"):].strip("/")
        with state.lock:
            if action == "reset" and method == "POST":
                state.reset()
                return self._send(200, {"ok": True})
            if action == "state" and method == "GET":
                return self._send(200, state.snapshot())
            if action == "state" and method == "POST":
                state.merge(body)
                return self._send(200, {"ok": True})
            if action == "faults" and method == "POST":
                state.faults.append(dict(body))
                return self._send(200, {"ok": True, "faults": len(state.faults)})
            if action == "messages" and method == "GET":
                return self._send(200, {"messages": list(state.sent)})
            if action == "calls" and method == "GET":
                return self._send(200, {"calls": list(state.calls)})
            if action == "calls" and method == "DELETE":
                state.calls.clear()
                state.sent.clear()
                return self._send(200, {"ok": True})
        return self._send(404, {"error": f"unknown sandbox control call {method} {path}"})

    def _send(self, status: int, payload: dict, retry_after=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.end_headers()
        self.wfile.write(data)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, state: SandboxState | None = None):
        super().__init__(address, Handler)
        self.state = state or SandboxState()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Start a sandbox on a free port in a background thread (tests and benchmarks)."""
    server = SandboxServer((host, port))
    threading.Thread(target=server.serve_forever, name="graph-sandbox", daemon=True).start()
    return server
