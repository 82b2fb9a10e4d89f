"""Whatever arrives under /v…/, the answer is a Graph-shaped JSON error, never a Django page or a trace."""

import json

import pytest

from tests.api.conftest import URL, auth

HOSTILE_PATHS = ["/v24.0", "/v24.0/", "/v24.0/%0A", "/v24.0/messages/%00", "/v99.9/x/y/z", "/v/messages",
                 "/v24.0/" + "a" * 5000, "/v24.0/../admin/", "/v24.0/messages/<script>", "/v1.0/openapi.json/x"]
HOSTILE_BODIES = [b"", b"\xff\xfe\x00", b"[" * 100_000, b'{"to": ' + b"1" * 10_000 + b"}", b"null", b'"x"',
                  json.dumps({"messaging_product": "whatsapp", "to": {"$gt": ""}, "type": "text"}).encode(),
                  json.dumps({"messaging_product": "whatsapp", "to": "+15550001001", "type": "template",
                              "template": {"name": "x", "language": {"code": "en"}, "components": "no"}}).encode()]


def _assert_graph_json(response):
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    if response.status_code >= 400:
        assert set(body["error"]) >= {"message", "type", "code", "fbtrace_id"}
        assert "Traceback" not in response.content.decode()
    return body


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "head", "options"])
def test_every_method_on_every_hostile_path_is_graph_json(client, key, method):
    for path in HOSTILE_PATHS:
        response = getattr(client, method)(path, **auth(key))
        if method == "head":
            assert response.status_code in (404, 405)
            continue
        _assert_graph_json(response)


def test_hostile_bodies_are_100_400(client, key):
    for body in HOSTILE_BODIES:
        response = client.post(URL, data=body, content_type="application/json", **auth(key))
        assert response.status_code == 400, body[:40]
        assert _assert_graph_json(response)["error"]["code"] == 100


def test_a_body_over_the_upload_limit_is_100_400(client, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(URL, data=b"{" + b" " * 2000 + b"}", content_type="application/json", **auth(key))
    assert response.status_code == 400 and _assert_graph_json(response)["error"]["code"] == 100


def test_an_unexpected_failure_is_131000_500_without_details(client, key, monkeypatch):
    # The one stand-in in this suite: a bug inside our own code (not an HTTP call) must still be Graph-shaped.
    from messaging.api import payloads

    def broken(raw):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(payloads, "parse_send_request", broken)
    response = client.post(URL, data="{}", content_type="application/json", **auth(key))
    assert response.status_code == 500
    error = _assert_graph_json(response)["error"]
    assert error["code"] == 131000 and error["error_data"]["reason"] == "internal_error"
    assert "secret" not in response.content.decode() and "ZeroDivision" not in response.content.decode()
