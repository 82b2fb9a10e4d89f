"""Drive the sandbox's state over HTTP (tests, the demo, the benchmarks)."""

from __future__ import annotations

import time

import requests


class SandboxControl:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def _call(self, method: str, action: str, body: dict | None = None) -> dict:
        response = self.session.request(method, f"{self.base_url}/_sandbox/{action}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._call("POST", "reset")

    def state(self) -> dict:
        return self._call("GET", "state")

    def merge(self, **data) -> None:
        """Add or update: apps, tokens, wabas, phone_numbers, templates, inbound, rate_limits."""
        self._call("POST", "state", data)

    def add_app(self, app_id: str, secret: str, name: str = "wabadesk test app") -> None:
        self.merge(apps={app_id: {"secret": secret, "name": name}})

    def add_token(self, token: str, *, app_id: str, type: str = "SYSTEM_USER",
                  scopes=("whatsapp_business_messaging", "whatsapp_business_management"),
                  expires_at: int = 0, **extra) -> None:
        self.merge(tokens={token: {"app_id": app_id, "type": type, "scopes": list(scopes),
                                   "expires_at": expires_at, "issued_at": int(time.time()), **extra}})

    def add_waba(self, waba_id: str, name: str = "Test WABA", **extra) -> None:
        self.merge(wabas={waba_id: {"name": name, **extra}})

    def add_phone_number(self, phone_id: str, *, waba_id: str, display: str = "+1 555 010 0001",
                         quality_rating: str = "GREEN", messaging_limit: str = "TIER_1K", **extra) -> None:
        self.merge(phone_numbers={phone_id: {"waba_id": waba_id, "display_phone_number": display,
                                             "verified_name": extra.pop("verified_name", "Test Business"),
                                             "quality_rating": quality_rating,
                                             "messaging_limit": messaging_limit, **extra}})

    def set_templates(self, waba_id: str, templates: list[dict]) -> None:
        self.merge(templates={waba_id: templates})

    def set_inbound(self, wa_id: str, timestamp: float) -> None:
        self.merge(inbound={wa_id: timestamp})

    def set_rate_limit(self, key: str, per_second: int, code: int = 130429, retry_after: float = 1, status: int = 429):
        self.merge(rate_limits={key: {"per_second": per_second, "code": code, "retry_after": retry_after,
                                      "status": status}})

    def add_fault(self, *, method: str = "POST", path: str = ".*", times: int = 1, **error) -> None:
        """Make the next `times` matching calls fail: code/status/subcode/retry_after, or drop/delay."""
        self._call("POST", "faults", {"method": method, "path": path, "times": times, **error})

    def messages(self) -> list[dict]:
        return self._call("GET", "messages")["messages"]

    def calls(self) -> list[dict]:
        return self._call("GET", "calls")["calls"]

    def clear_calls(self) -> None:
        self._call("DELETE", "calls")
