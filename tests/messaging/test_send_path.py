"""THE send path: each refusal with its message, in order, before anything is stored or sent."""

import pytest

from messaging.models import BlacklistEntry, Message
from messaging.services import SendRefused, message_send
from sandbox import demo

ALICE = "+14155550101"


def refusal(**kwargs) -> SendRefused:
    kwargs.setdefault("phone_number_id", demo.PHONE_MAIN)
    with pytest.raises(SendRefused) as caught:
        message_send(**kwargs)
    assert Message.objects.count() == 0, "a refused message is never stored"
    return caught.value


def test_a_wabaid_instead_of_the_phone_number_id_is_refused_naming_the_mistake(world, make_contact):
    make_contact(ALICE)
    refused = refusal(phone_number_id=demo.WABA_ID, to=ALICE, text="hi")
    assert (refused.code, refused.subcode, refused.reason) == (100, 33, "unknown_phone_number")
    assert "16-digit WABA ID" in refused.message


def test_an_unknown_phone_number_id_is_refused(world, make_contact):
    make_contact(ALICE)
    refused = refusal(phone_number_id="109999999999999", to=ALICE, text="hi")
    assert refused.reason == "unknown_phone_number"
    assert "109999999999999 is not one of this workspace's numbers" in refused.message


def test_a_waba_without_an_active_token_is_refused(world, make_contact):
    make_contact(ALICE)
    world.waba.tokens.update(active=False)
    refused = refusal(to=ALICE, text="hi")
    assert (refused.code, refused.reason) == (190, "no_active_token")
    assert "no valid active access token" in refused.message


@pytest.mark.parametrize("bad", ["+1 415 555 0101", "0014155550101", "14155550101", "+1415-555-0101"])
def test_a_recipient_not_in_e164_is_refused_with_the_reason(world, bad):
    refused = refusal(to=bad, text="hi")
    assert (refused.code, refused.reason) == (100, "invalid_recipient")
    assert bad in refused.message


def test_a_blacklisted_recipient_is_final_and_never_reaches_meta(world, make_contact):
    make_contact(ALICE)
    BlacklistEntry.objects.create(phone=ALICE, reason="asked us to stop")
    world.sandbox.clear_calls()
    refused = refusal(to=ALICE, template="order_update", language="en_US")
    assert (refused.code, refused.reason) == (131000, "recipient_blacklisted")
    assert "blacklist" in refused.message
    assert world.sandbox.calls() == []


def test_blacklist_wins_over_an_active_opt_in_and_an_open_window(world, make_contact):
    make_contact(ALICE, consent="opted_in", window_open=True)
    BlacklistEntry.objects.create(phone=ALICE)
    assert refusal(to=ALICE, text="hello").reason == "recipient_blacklisted"


@pytest.mark.parametrize("consent", ["none", "opted_out"])
def test_without_active_consent_nothing_is_queued(world, make_contact, consent):
    make_contact(ALICE, consent=consent)
    refused = refusal(to=ALICE, template="order_update", language="en_US")
    assert (refused.code, refused.reason) == (131000, "no_consent")
    assert "no active consent" in refused.message


def test_an_unknown_contact_has_no_consent(world):
    assert refusal(to=ALICE, template="order_update").reason == "no_consent"


def test_free_form_is_refused_when_the_window_is_closed_with_the_131047_explanation(world, make_contact):
    make_contact(ALICE, window_open=False)
    refused = refusal(to=ALICE, text="Are you still there?")
    assert (refused.code, refused.reason) == (131047, "window_closed")
    assert "24-hour customer service window is closed" in refused.message
    assert "approved template" in refused.message


def test_a_template_is_allowed_when_the_window_is_closed(world, make_contact, send):
    make_contact(ALICE, window_open=False)
    message = send(to=ALICE, template="order_update", language="en_US")
    assert message.status == Message.Status.SENT
    assert world.sandbox.messages()[0]["template"] == "order_update"


@pytest.mark.parametrize("name,code", [("loyalty_points", 132001), ("winback_offer", 132001),
                                       ("feedback_request", 132015), ("old_newsletter", 132016),
                                       ("no_such_template", 132001)])
def test_only_approved_templates_are_sent(world, make_contact, name, code):
    make_contact(ALICE)
    refused = refusal(to=ALICE, template=name)
    assert (refused.code, refused.reason) == (code, "template_not_approved")


def test_free_form_inside_the_window_is_stored_and_sent(world, make_contact, send, operator_user):
    contact = make_contact(ALICE)
    message = send(to=ALICE, text="Your parcel left the depot.", sender=operator_user)
    assert message.status == Message.Status.SENT and message.wamid.startswith("wamid.")
    assert (message.contact, message.kind, message.attempts, message.sender) == (contact, "text", 1, operator_user)
    sent = world.sandbox.messages()
    assert [m["text"] for m in sent] == ["Your parcel left the depot."]
    assert sent[0]["biz_opaque_callback_data"] == message.idempotency_key


def test_the_same_idempotency_key_returns_the_first_message_and_sends_nothing_more(world, make_contact, send):
    make_contact(ALICE)
    first = send(to=ALICE, text="once", idempotency_key="order-42-shipped")
    again = send(to=ALICE, text="once", idempotency_key="order-42-shipped")
    assert again.pk == first.pk
    assert len(world.sandbox.messages()) == 1


def test_the_same_template_message_again_returns_the_first_however_the_template_is_named(world, make_contact, send):
    from messaging.models import Template

    make_contact(ALICE)
    first = send(to=ALICE, template="order_update", idempotency_key="order-42-shipped")
    assert send(to=ALICE, template="order_update", language="en_US", idempotency_key="order-42-shipped") == first
    assert send(to=ALICE, template=Template.objects.get(name="order_update"),
                idempotency_key="order-42-shipped") == first
    assert len(world.sandbox.messages()) == 1


@pytest.mark.parametrize("change", [{"text": "twice"}, {"to": "+14155550102"}, {"template": "order_update"},
                                    {"phone_number_id": demo.PHONE_PROMO}])
def test_an_idempotency_key_used_for_a_different_message_is_refused_and_nothing_is_sent(world, make_contact, send,
                                                                                          change):
    make_contact(ALICE)
    make_contact("+14155550102")
    first = send(to=ALICE, text="once", idempotency_key="order-42-shipped")
    with pytest.raises(SendRefused) as caught:
        send(**{"to": ALICE, "text": "once", "idempotency_key": "order-42-shipped", **change})
    assert (caught.value.code, caught.value.reason) == (100, "idempotency_key_reused")
    assert "already used for a different message" in caught.value.message
    assert list(Message.objects.all()) == [first]
    assert len(world.sandbox.messages()) == 1


def test_template_values_are_sent_as_body_parameters(world, make_contact, send):
    from messaging.services import template_components

    make_contact(ALICE)
    send(to=ALICE, template="order_update", language="en_US", components=template_components(["Ana", "A-17"]))
    message = Message.objects.get()
    params = message.payload["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Ana", "A-17"]


def test_an_active_token_that_meta_declared_invalid_is_refused(world, make_contact):
    make_contact(ALICE)
    world.waba.tokens.update(is_valid=False)
    assert refusal(to=ALICE, template="order_update").reason == "no_active_token"
