"""The Graph API client against the sandbox over real HTTP: one test per error family.

Each asserts what a caller relies on: the parsed code and subcode, and whether the call was
retried (counted at the sandbox).
"""

import logging
import threading
import time

import pytest

from accounts.graph import GraphAPIError, GraphClient, GraphNetworkError, backoff_delay
from diagnostics.models import GraphErrorEvent

pytestmark = pytest.mark.django_db

APP_ID, APP_SECRET = "555000111222333", "app0secret0value0123"
TOKEN = "EAAGoodSystemUserToken1234567890"
WABA_ID = "1234567890123456"
PHONE_ID = "123456789012345"
TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+15551234567",
        "type": "text", "text": {"body": "Hello"}}


@pytest.fixture
def world(sandbox):
    sandbox.add_app(APP_ID, APP_SECRET)
    sandbox.add_token(TOKEN, app_id=APP_ID)
    sandbox.add_waba(WABA_ID)
    sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID)
    sandbox.set_inbound("15551234567", time.time() - 60)
    return sandbox


def error_of(call) -> GraphAPIError:
    with pytest.raises(GraphAPIError) as info:
        call()
    return info.value


def test_success_returns_the_wamid(world):
    body = GraphClient(TOKEN).send_message(PHONE_ID, TEXT)
    assert body["messages"][0]["id"].startswith("wamid.")
    assert body["contacts"][0]["wa_id"] == "15551234567"


def test_paged_listing_follows_every_page(world):
    for n in range(30):
        world.add_phone_number(f"1000000000000{n:02d}", waba_id=WABA_ID)
    numbers = GraphClient(TOKEN).get_paged(f"/{WABA_ID}/phone_numbers", {"limit": 7})
    assert len(numbers) == 31


@pytest.mark.parametrize(
    "token_state, subcode",
    [({"invalid_subcode": 460}, 460), ({"expires_at": 1_600_000_000, "type": "USER"}, 463), ({"invalid_subcode": 467}, 467)],
)
def test_invalid_token_is_190_with_its_subcode_and_not_retried(world, token_state, subcode):
    world.add_token("EAABrokenToken000000001", app_id=APP_ID, **token_state)
    world.clear_calls()
    error = error_of(lambda: GraphClient("EAABrokenToken000000001").send_message(PHONE_ID, TEXT))
    assert (error.status, error.code, error.subcode, error.type) == (401, 190, subcode, "OAuthException")
    assert error.fbtrace_id
    assert not error.retryable
    assert len(world.calls()) == 1


def test_missing_bearer_prefix_is_190_without_subcode(world, settings):
    # The client always adds "Bearer "; a raw header is what a hand-rolled integration sends.
    import requests

    response = requests.post(f"{settings.GRAPH_API_BASE_URL}/v24.0/{PHONE_ID}/messages", json=TEXT,
                             headers={"Authorization": TOKEN}, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190
    assert "error_subcode" not in response.json()["error"]


def test_no_token_at_all_is_190_without_subcode(world):
    error = error_of(lambda: GraphClient(None).send_message(PHONE_ID, TEXT))
    assert (error.code, error.subcode) == (190, None)


def test_waba_id_used_for_messages_is_100_33(world):
    error = error_of(lambda: GraphClient(TOKEN).send_message(WABA_ID, TEXT))
    assert (error.status, error.code, error.subcode) == (400, 100, 33)
    assert "does not exist" in error.message
    assert not error.retryable


def test_missing_required_field_is_100_2500(world):
    payload = {k: v for k, v in TEXT.items() if k != "to"}
    error = error_of(lambda: GraphClient(TOKEN).send_message(PHONE_ID, payload))
    assert (error.code, error.subcode) == (100, 2500)
    assert "to" in error.message


def test_missing_scope_is_200(world):
    world.add_token("EAAManagementOnly00000001", app_id=APP_ID, scopes=["whatsapp_business_management"])
    error = error_of(lambda: GraphClient("EAAManagementOnly00000001").send_message(PHONE_ID, TEXT))
    assert (error.status, error.code) == (403, 200)
    assert "whatsapp_business_messaging" in error.message


def test_free_form_outside_the_window_is_131047(world):
    world.set_inbound("15551234567", time.time() - 25 * 3600)
    error = error_of(lambda: GraphClient(TOKEN).send_message(PHONE_ID, TEXT))
    assert error.code == 131047
    assert "24 hours" in error.error_data["details"]


def test_a_blocked_number_gets_368(world):
    world.add_phone_number(PHONE_ID, waba_id=WABA_ID, blocked=True)
    error = error_of(lambda: GraphClient(TOKEN).send_message(PHONE_ID, TEXT))
    assert error.code == 368
    assert not error.retryable


@pytest.mark.parametrize("code", [4, 17, 32])
def test_rate_limits_are_retried_then_succeed(world, code):
    world.add_fault(path="/messages$", times=2, status=400, code=code, message="limit", retry_after=0)
    world.clear_calls()
    body = GraphClient(TOKEN, max_retries=3).send_message(PHONE_ID, TEXT)
    assert body["messages"][0]["id"]
    assert len(world.calls()) == 3


def test_http_429_with_retry_after_is_honoured(world, settings):
    settings.GRAPH_API_BACKOFF_BASE = 0.0
    world.add_fault(path="/messages$", times=1, status=429, code=4, retry_after=1)
    started = time.monotonic()
    GraphClient(TOKEN, max_retries=1).send_message(PHONE_ID, TEXT)
    assert time.monotonic() - started >= 0.95


def test_rate_limit_gives_up_after_max_retries(world):
    world.add_fault(path="/messages$", times=5, status=429, code=17, retry_after=0)
    world.clear_calls()
    error = error_of(lambda: GraphClient(TOKEN, max_retries=2).send_message(PHONE_ID, TEXT))
    assert error.code == 17 and error.is_rate_limit and error.retry_after == 0
    assert len(world.calls()) == 3


def test_parameter_errors_are_not_retried(world):
    world.clear_calls()
    error_of(lambda: GraphClient(TOKEN, max_retries=3).send_message(WABA_ID, TEXT))
    assert len(world.calls()) == 1


def test_server_errors_are_retried(world):
    world.add_fault(method="GET", path="/phone_numbers$", times=1, status=503, code=2, message="Service temporarily unavailable")
    assert GraphClient(TOKEN, max_retries=1).get_paged(f"/{WABA_ID}/phone_numbers")


def test_a_lost_post_response_is_not_repeated(world):
    """Meta has no idempotency key: the message may have been delivered, so no blind resend."""
    world.add_fault(path="/messages$", times=1, drop=True)
    error = error_of(lambda: GraphClient(TOKEN, max_retries=3).send_message(PHONE_ID, TEXT))
    assert isinstance(error, GraphNetworkError) and error.outcome_unknown
    assert len(world.messages()) == 1  # delivered once, never twice


def test_a_network_error_on_a_get_is_retried(world):
    world.add_fault(method="GET", path="/phone_numbers$", times=1, drop=True)
    assert GraphClient(TOKEN, max_retries=1).get_paged(f"/{WABA_ID}/phone_numbers")


def test_timeout_is_a_network_error(world):
    world.add_fault(method="GET", path=f"/{PHONE_ID}$", times=1, delay=1.5)
    error = error_of(lambda: GraphClient(TOKEN, timeout=0.3, max_retries=0).get_object(PHONE_ID, "quality_rating"))
    assert isinstance(error, GraphNetworkError) and not error.outcome_unknown


def test_debug_token_reports_type_scopes_and_expiry(world):
    world.add_token("EAAUserToken000000000009", app_id=APP_ID, type="USER", expires_at=int(time.time()) + 3600)
    data = GraphClient(None).debug_token("EAAUserToken000000000009", APP_ID, APP_SECRET)
    assert data["is_valid"] is True and data["type"] == "USER" and data["app_id"] == APP_ID
    assert set(data["scopes"]) == {"whatsapp_business_messaging", "whatsapp_business_management"}
    system_user = GraphClient(None).debug_token(TOKEN, APP_ID, APP_SECRET)
    assert system_user["type"] == "SYSTEM_USER" and system_user["expires_at"] == 0  # 0 = never


def test_debug_token_of_an_expired_token_is_invalid_with_463(world):
    world.add_token("EAAExpired0000000000001", app_id=APP_ID, type="USER", expires_at=int(time.time()) - 5)
    data = GraphClient(None).debug_token("EAAExpired0000000000001", APP_ID, APP_SECRET)
    assert data["is_valid"] is False and data["error"]["subcode"] == 463


def test_every_error_is_recorded_with_its_subcode_and_logged_without_the_token(world, caplog):
    world.add_token("EAAExpired0000000000002", app_id=APP_ID, expires_at=1_600_000_000)
    with caplog.at_level(logging.INFO):
        error_of(lambda: GraphClient("EAAExpired0000000000002", context={"phone_number_id": PHONE_ID}).send_message(PHONE_ID, TEXT))
    event = GraphErrorEvent.objects.get()
    assert (event.code, event.subcode, event.http_status) == (190, 463, 401)
    assert event.endpoint == f"/v24.0/{PHONE_ID}/messages" and event.context == {"phone_number_id": PHONE_ID}
    records = [r for r in caplog.records if "graph_api_error" in str(r.msg)]
    assert records and records[0].msg["error_subcode"] == 463
    assert "EAAExpired0000000000002" not in caplog.text


def test_debug_token_errors_never_log_the_app_secret(world, caplog):
    with caplog.at_level(logging.INFO):
        error_of(lambda: GraphClient(None).debug_token(TOKEN, APP_ID, "wrong0secret0value"))
    assert "wrong0secret0value" not in caplog.text
    assert "wrong0secret0value" not in str(GraphErrorEvent.objects.values_list("endpoint", "body", "context"))


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.GRAPH_API_BACKOFF_BASE, settings.GRAPH_API_BACKOFF_CAP = 1.0, 30.0
    for attempt, nominal in [(0, 1), (1, 2), (2, 4), (3, 8)]:
        delay = backoff_delay(attempt)
        assert 0.8 * nominal <= delay <= 1.2 * nominal
    assert backoff_delay(10) <= 30.0
    assert backoff_delay(0, retry_after=7) >= 7


@pytest.fixture
def fresh_environment():
    from accounts import graph

    graph._environment.cache_clear()
    yield
    graph._environment.cache_clear()


def test_proxy_settings_from_the_environment_are_honoured(world, monkeypatch, fresh_environment):
    """Read once per base URL (not on every call), but still read: a proxy set for the process is used."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(GraphNetworkError):
        GraphClient(TOKEN, max_retries=0).get(f"/{PHONE_ID}")
    monkeypatch.delenv("HTTP_PROXY")  # the sandbox's control client reads it too
    assert world.calls() == []  # the request went to the proxy, not to the sandbox


@pytest.fixture
def redirecting_server(world):
    """A base URL that answers every call with a redirect to the sandbox (as an http:// URL in
    front of an https:// API would)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(301)
            self.send_header("Location", world.base_url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_redirect_is_an_error_not_an_empty_success(world, redirecting_server):
    """A POST is not re-sent to wherever a 3xx points (requests would even turn it into a GET): the
    send fails with the status, and the operator sees the base URL is wrong."""
    error = error_of(lambda: GraphClient(TOKEN, base_url=redirecting_server, max_retries=2)
                     .send_message(PHONE_ID, TEXT))
    assert error.status == 301 and "without a Graph error body" in error.message
    assert world.calls() == []  # not followed
