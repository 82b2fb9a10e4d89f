"""The sandbox answers like the Graph API, from state that tests and the demo set over HTTP."""

import time

import pytest
import requests

from sandbox.demo import sandbox_state

TOKEN = "EAASandboxToken00000001"


@pytest.fixture
def api(sandbox, settings):
    sandbox.add_app("1", "secret0000000001")
    sandbox.add_token(TOKEN, app_id="1")
    sandbox.add_waba("1111111111111111")
    sandbox.add_phone_number("222222222222222", waba_id="1111111111111111")

    def call(method, path, **kwargs):
        return requests.request(method, f"{settings.GRAPH_API_BASE_URL}/v24.0{path}",
                                headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5, **kwargs)

    return call


def template_send(name, language="en_US"):
    return {"messaging_product": "whatsapp", "to": "15550001111", "type": "template",
            "template": {"name": name, "language": {"code": language}}}


def test_templates_are_checked_by_name_language_and_status(api, sandbox):
    sandbox.set_templates("1111111111111111", [
        {"name": "ok", "status": "APPROVED"}, {"name": "p", "status": "PAUSED"}, {"name": "d", "status": "DISABLED"},
    ])
    assert api("POST", "/222222222222222/messages", json=template_send("ok")).status_code == 200
    assert api("POST", "/222222222222222/messages", json=template_send("ok", "es_ES")).json()["error"]["code"] == 132001
    assert api("POST", "/222222222222222/messages", json=template_send("p")).json()["error"]["code"] == 132015
    assert api("POST", "/222222222222222/messages", json=template_send("d")).json()["error"]["code"] == 132016


def test_the_window_opens_with_an_inbound_message(api, sandbox):
    text = {"messaging_product": "whatsapp", "to": "+15550001111", "type": "text", "text": {"body": "hi"}}
    assert api("POST", "/222222222222222/messages", json=text).json()["error"]["code"] == 131047
    sandbox.set_inbound("+15550001111", time.time())
    assert api("POST", "/222222222222222/messages", json=text).status_code == 200
    assert sandbox.messages()[0]["to"] == "15550001111"


def test_biz_opaque_callback_data_is_recorded(api, sandbox):
    api("POST", "/222222222222222/messages", json={**template_send("x"), "biz_opaque_callback_data": "key-1"})
    sandbox.set_templates("1111111111111111", [{"name": "x"}])
    api("POST", "/222222222222222/messages", json={**template_send("x"), "biz_opaque_callback_data": "key-1"})
    assert [m["biz_opaque_callback_data"] for m in sandbox.messages()] == ["key-1"]


def test_a_rate_limit_in_state_answers_429_with_retry_after(api, sandbox):
    sandbox.set_templates("1111111111111111", [{"name": "x"}])
    sandbox.set_rate_limit("222222222222222", per_second=3, code=130429, retry_after=2)
    statuses = [api("POST", "/222222222222222/messages", json=template_send("x")) for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
    assert statuses[3].headers["Retry-After"] == "2" and statuses[3].json()["error"]["code"] == 130429


def test_quality_changes_show_in_the_next_read(api, sandbox):
    assert api("GET", "/222222222222222", params={"fields": "quality_rating"}).json()["quality_rating"] == "GREEN"
    sandbox.add_phone_number("222222222222222", waba_id="1111111111111111", quality_rating="RED")
    assert api("GET", "/222222222222222", params={"fields": "quality_rating"}).json()["quality_rating"] == "RED"


def test_metadata_tells_what_kind_of_object_an_id_is(api):
    assert api("GET", "/222222222222222", params={"metadata": "1"}).json()["metadata"]["type"] == "whatsapp_business_phone_number"
    assert api("GET", "/1111111111111111", params={"metadata": "1"}).json()["metadata"]["type"] == "whatsapp_business_account"
    unknown = api("GET", "/999999999999999").json()["error"]
    assert (unknown["code"], unknown["error_subcode"]) == (100, 33)


def test_a_token_limited_to_other_wabas_sees_a_masked_100_33(api, sandbox, settings):
    sandbox.add_token("EAALimitedToken000001", app_id="1", waba_ids=["3333333333333333"])
    response = requests.get(f"{settings.GRAPH_API_BASE_URL}/v24.0/1111111111111111/phone_numbers",
                            headers={"Authorization": "Bearer EAALimitedToken000001"}, timeout=5)
    assert response.json()["error"]["error_subcode"] == 33


def test_error_bodies_have_meta_s_envelope(api):
    error = api("POST", "/222222222222222/messages", json={}).json()["error"]
    assert set(error) >= {"message", "type", "code", "error_subcode", "fbtrace_id"}


def test_the_demo_state_is_consistent():
    state = sandbox_state()
    waba_id = next(iter(state["wabas"]))
    assert len(waba_id) == 16
    assert all(len(pid) == 15 and p["waba_id"] == waba_id for pid, p in state["phone_numbers"].items())
    assert {t["app_id"] for t in state["tokens"].values()} == set(state["apps"])


def test_reset_forgets_everything(sandbox, api):
    sandbox.reset()
    assert api("GET", "/222222222222222").json()["error"]["code"] == 190
