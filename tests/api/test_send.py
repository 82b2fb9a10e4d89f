"""POST /v{version}/{phone_number_id}/messages: the Cloud API body in, the Cloud API body out, through
the one send path (and every refusal of it in the table's terms)."""

from messaging.models import Message
from sandbox import demo
from tests.api.conftest import (BLACKLISTED, CLOSED, NO_CONSENT, OPEN, URL, auth, graph_error, meta_sends, post,
                                template_body, text_body)


def test_a_text_message_is_accepted_with_the_cloud_api_body(client, world, key):
    response = post(client, key, text_body())
    assert response.status_code == 200, response.content
    body = response.json()
    message = Message.objects.get()
    assert body == {"messaging_product": "whatsapp", "contacts": [{"input": OPEN, "wa_id": OPEN[1:]}],
                    "messages": [{"id": message.wamid or f"wbd.{message.pk}", "message_status": "accepted"}]}
    assert message.source == "api" and message.kind == "text"
    sent = world.messages()
    assert len(sent) == 1 and sent[0]["to"] == OPEN[1:] and sent[0]["text"] == "Your order has shipped"


def test_a_template_message_is_sent_and_any_version_prefix_works(client, world, key):
    response = post(client, key, template_body(), url=f"/v21.0/{demo.PHONE_MAIN}/messages")
    assert response.status_code == 200, response.content
    sent = world.messages()
    assert [m["template"] for m in sent] == ["order_update"]


def test_digits_without_plus_are_read_as_e164_like_the_cloud_api(client, world, key):
    response = post(client, key, text_body(to=OPEN[1:]))
    assert response.status_code == 200, response.content
    assert response.json()["contacts"] == [{"input": OPEN[1:], "wa_id": OPEN[1:]}]


def test_the_status_of_a_message_can_be_read_by_either_id(client, world, key):
    message_id = post(client, key, text_body()).json()["messages"][0]["id"]
    message = Message.objects.get()
    for public_id in {message_id, f"wbd.{message.pk}"}:
        response = client.get(f"/v24.0/messages/{public_id}", **auth(key))
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == f"wbd.{message.pk}" and body["wamid"] == message.wamid
        assert body["status"] == "sent" and body["to"] == OPEN and body["phone_number_id"] == demo.PHONE_MAIN


def test_a_key_reads_only_the_messages_it_sent(client, world, make_key):
    from messaging.services import message_send

    sender, reader = make_key(), make_key(scopes=("read",))
    wamid = post(client, sender, text_body()).json()["messages"][0]["id"]
    sent = Message.objects.get()
    reply = message_send(phone_number_id=demo.PHONE_MAIN, to=OPEN, text="A reply from the dashboard")
    for public_id in (wamid, f"wbd.{sent.pk}"):
        assert client.get(f"/v24.0/messages/{public_id}", **auth(sender)).status_code == 200
        # Another key learns nothing, not even that the message exists: the answer to an unknown id.
        error = graph_error(client.get(f"/v24.0/messages/{public_id}", **auth(reader)), 404, 100, "not_found")
        assert error["error_subcode"] == 33 and f"'{public_id}' does not exist" in error["message"]
    # A message the API did not send (a dashboard reply, a broadcast) is no key's to read.
    graph_error(client.get(f"/v24.0/messages/wbd.{reply.pk}", **auth(sender)), 404, 100, "not_found")


def test_an_unknown_message_id_is_100_404(client, world, key):
    error = graph_error(client.get("/v24.0/messages/wamid.nope", **auth(key)), 404, 100, "not_found")
    assert error["error_subcode"] == 33
    graph_error(client.get("/v24.0/messages/wbd.999999", **auth(key)), 404, 100, "not_found")


# --- refusals of the send path ------------------------------------------------------------------
def test_blacklisted_recipient_with_filter_blacklist_is_422_and_nothing_is_stored_or_sent(client, world, key):
    response = post(client, key, text_body(to=BLACKLISTED), url=f"{URL}?filter_blacklist=true")
    error = graph_error(response, 422, 131000, "recipient_blacklisted")
    assert error["message"] == "Recipient is on the tenant blacklist"
    assert Message.objects.count() == 0
    assert meta_sends(world) == []


def test_blacklisted_recipient_is_refused_without_the_flag_too(client, world, key):
    graph_error(post(client, key, template_body(to=BLACKLISTED)), 422, 131000, "recipient_blacklisted")
    assert Message.objects.count() == 0 and meta_sends(world) == []


def test_free_form_text_outside_the_window_is_131026_use_a_template(client, world, key):
    error = graph_error(post(client, key, text_body(to=CLOSED)), 400, 131026, "window_closed")
    assert "template" in error["message"]
    assert meta_sends(world) == []
    # The template is the way out.
    assert post(client, key, template_body(to=CLOSED)).status_code == 200


def test_no_consent_is_131000_400_with_reason_no_consent(client, world, key):
    graph_error(post(client, key, template_body(to=NO_CONSENT)), 400, 131000, "no_consent")
    assert Message.objects.count() == 0 and meta_sends(world) == []


def test_a_template_that_is_not_approved_is_131000_400(client, world, key):
    graph_error(post(client, key, template_body(name="loyalty_points")), 400, 131000, "template_not_approved")


def test_an_unknown_phone_number_id_is_100_404_subcode_33(client, world, key):
    error = graph_error(post(client, key, text_body(), url="/v24.0/109283746509999/messages"), 404, 100,
                        "unknown_phone_number")
    assert error["error_subcode"] == 33
    # The classic mistake: the 16-digit WABA ID where the Phone Number ID belongs.
    error = graph_error(post(client, key, text_body(), url=f"/v24.0/{demo.WABA_ID}/messages"), 404, 100,
                        "unknown_phone_number")
    assert "WABA" in error["error_data"]["details"]


def test_an_invalid_recipient_is_100_400(client, world, key):
    error = graph_error(post(client, key, text_body(to="+1 555 000 1001")), 400, 100, "invalid_recipient")
    assert "+1 555 000 1001" in error["error_data"]["details"]


def test_a_transient_meta_failure_is_131000_500(client, world, key, settings):
    # Meta fails with 1 (unknown error, HTTP 500) and the send path's retry budget is spent by the time
    # we answer (one attempt here; eager in tests, so the answer waits for it).
    settings.MESSAGING_MAX_ATTEMPTS = 1
    world.add_fault(path="/messages$", times=50, code=1, status=500, message="An unknown error occurred",
                    type="OAuthException")
    error = graph_error(post(client, key, template_body()), 500, 131000, "meta_error")
    assert error["error_data"]["meta_code"] == 1


def test_a_final_meta_refusal_is_131000_400_with_metas_code(client, world, key):
    world.merge(phone_numbers={demo.PHONE_MAIN: {"blocked": True}})
    error = graph_error(post(client, key, template_body()), 400, 131000, "meta_error")
    assert error["error_data"]["meta_code"] == 368


# --- parameter errors ---------------------------------------------------------------------------
def test_parameter_errors_are_100_400_naming_the_parameter(client, world, key):
    cases = [
        ("not json", "invalid_json", None),
        ("[1, 2]", "invalid_json", None),
        ({"to": OPEN, "type": "text", "text": {"body": "x"}}, "missing_parameter", "messaging_product"),
        ({**text_body(), "messaging_product": "sms"}, "invalid_parameter", "messaging_product"),
        ({**text_body(), "to": 15550001001}, "invalid_parameter", "to"),
        ({**text_body(), "type": "image"}, "unsupported_type", "type"),
        ({**text_body(), "text": {}}, "missing_parameter", "text"),
        ({**template_body(), "template": {"name": "order_update"}}, "missing_parameter", "template['language']"),
    ]
    for body, reason, parameter in cases:
        error = graph_error(post(client, key, body), 400, 100, reason)
        if parameter:
            assert error["error_data"]["parameter"] == parameter
    graph_error(post(client, key, text_body(), url=f"{URL}?filter_blacklist=maybe"), 400, 100, "invalid_parameter")
    assert Message.objects.count() == 0 and meta_sends(world) == []


def test_unknown_paths_and_wrong_methods_are_graph_shaped(client, world, key):
    graph_error(client.get("/v24.0/nothing/here", **auth(key)), 404, 100, "unknown_path")
    graph_error(client.get("/vX/whatever"), 404, 100, "unknown_path")
    response = client.get(URL, **auth(key))
    graph_error(response, 405, 100, "method_not_allowed")
    assert response["Allow"] == "POST"
    graph_error(client.delete("/v24.0/messages/wbd.1", **auth(key)), 405, 100, "method_not_allowed")
    graph_error(client.put(URL, data="{}", content_type="application/json", **auth(key)), 405, 100)
