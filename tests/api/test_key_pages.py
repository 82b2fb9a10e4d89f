"""Admins manage API keys in the dashboard: created with htmx, shown once, revoked, documented."""

from messaging.api.models import ApiKey
from tests.api.conftest import graph_error, post


def test_an_admin_creates_a_key_that_is_shown_once_and_works(admin_client):
    response = admin_client.post("/api-keys/", {
        "name": "CRM production", "scopes": ["send", "read"], "allowed_ips": "203.0.113.0/24\n127.0.0.1",
        "rate_limit_per_minute": 120, "require_signature": "",
    }, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    api_key = ApiKey.objects.get()
    raw = html.split('id="created-key" class="mono">')[1].split("<")[0]
    assert raw.startswith(api_key.prefix) and api_key.created_by.username == "admin"
    assert api_key.scopes == ["read", "send"] and api_key.rate_limit_per_minute == 120
    assert "<html" not in html  # an htmx partial, not the page
    # Shown once: the list shows only the prefix from now on.
    listing = admin_client.get("/api-keys/").content.decode()
    assert raw not in listing and f"{api_key.prefix}…" in listing
    # And it authenticates (here: on to a parameter error).
    graph_error(post(admin_client, raw, {"messaging_product": "whatsapp"}), 400, 100, "missing_parameter")


def test_a_bad_ip_allowlist_line_is_named_and_nothing_is_created(admin_client):
    response = admin_client.post("/api-keys/", {"name": "x", "scopes": ["send"], "allowed_ips": "10.0.0.0/8\n10.0.0.300",
                                                "rate_limit_per_minute": 60})
    assert "line 2: &#x27;10.0.0.300&#x27; is not an IP address or CIDR range" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_key_needs_a_scope(admin_client):
    response = admin_client.post("/api-keys/", {"name": "x", "rate_limit_per_minute": 60})
    assert "This field is required" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_an_admin_revokes_a_key_and_it_stops_working(admin_client, key):
    api_key = ApiKey.objects.get()
    response = admin_client.post(f"/api-keys/{api_key.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "revoked" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.state == "revoked" and api_key.revoked_by.username == "admin"
    graph_error(post(admin_client, key, {}), 401, 190, "key_revoked")


def test_operators_cannot_see_or_create_keys(operator_client):
    assert operator_client.get("/api-keys/").status_code == 403
    assert operator_client.post("/api-keys/", {"name": "x", "scopes": ["send"], "rate_limit_per_minute": 1}).status_code == 403
    assert not ApiKey.objects.exists()


def test_the_keys_page_links_the_docs_and_the_docs_list_the_error_table(admin_client):
    page = admin_client.get("/api-keys/").content.decode()
    assert "/v24.0/openapi.json" in page and "/api-keys/docs/" in page
    docs = admin_client.get("/api-keys/docs/").content.decode()
    for reason in ("recipient_blacklisted", "idempotency_in_flight", "window_closed", "rate_limited", "key_revoked"):
        assert reason in docs
