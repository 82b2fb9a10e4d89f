"""The message log: global and per contact, filtered by status and error code, failures linked to
their diagnosis."""

import re

from django.urls import reverse

from messaging.models import Message

URL = reverse("messaging:message_list")


def log(world, contact, key, status, code=None, subcode=None):
    return Message.objects.create(idempotency_key=key, phone_number=world.phone, contact=contact, to=contact.phone,
                                  kind="template", status=status, error_code=code, error_subcode=subcode,
                                  payload={"template": {"name": "order_update"}}, error_message="boom" if code else "")


def test_filter_by_status_and_error_code_and_link_each_failure(world, make_contact, operator_client):
    ana, bo = make_contact("+14155550101"), make_contact("+14155550102")
    log(world, ana, "k1", "read")
    log(world, ana, "k2", "failed", 131047)
    log(world, bo, "k3", "failed", 100, 33)
    page = operator_client.get(URL, {"status": "failed"}).content.decode()
    assert page.count('class="message-row"') == 2
    assert f'{reverse("diagnostics:diagnose")}?code=100&amp;subcode=33' in page
    assert f'{reverse("diagnostics:diagnose")}?code=131047"' in page
    page = operator_client.get(URL, {"error_code": "100"}).content.decode()
    assert page.count('class="message-row"') == 1 and "+14155550102" in page


def test_the_log_of_one_contact(world, make_contact, operator_client):
    ana, bo = make_contact("+14155550101"), make_contact("+14155550102")
    log(world, ana, "k1", "sent")
    log(world, bo, "k2", "sent")
    page = operator_client.get(URL, {"contact": ana.pk}).content.decode()
    assert page.count('class="message-row"') == 1 and "+14155550101" in page
    assert "/messaging/compose/?to=%2B14155550101" in page


def test_the_composer_offers_only_templates_when_the_window_is_closed(world, make_contact, operator_client):
    make_contact("+14155550101", window_open=False)
    page = operator_client.get(reverse("messaging:compose"), {"to": "+14155550101"}).content.decode()
    assert "templates only" in page and 'name="text"' not in page
    # Posting free-form anyway is refused by the send path, with the explanation.
    page = operator_client.post(reverse("messaging:compose"), {
        "phone_number_id": world.phone.phone_number_id, "to": "+14155550101", "text": "hello?"}).content.decode()
    assert "Write a text or pick a template" in page
    assert not Message.objects.exists()


def test_the_composer_shows_why_a_send_was_refused(world, make_contact, operator_client):
    make_contact("+14155550101", consent="opted_out")
    page = operator_client.post(reverse("messaging:compose"), {
        "phone_number_id": world.phone.phone_number_id, "to": "+14155550101", "text": "hello"}).content.decode()
    assert "Not sent: +14155550101 has no active consent (opted_out)" in page


def test_an_edited_form_sent_again_under_its_old_key_is_refused_then_sent_as_a_new_message(world, make_contact,
                                                                                            operator_client):
    make_contact("+14155550101")
    url = reverse("messaging:compose")
    form = {"phone_number_id": world.phone.phone_number_id, "to": "+14155550101", "idempotency_key": "form-1"}
    operator_client.post(url, {**form, "text": "See you at 3 pm"})
    # Back, edit, Send: the page still carries the key of the message already sent.
    page = operator_client.post(url, {**form, "text": "See you at 4 pm"}).content.decode()
    assert "Not sent: This idempotency key was already used for a different message" in page
    assert [m.summary for m in Message.objects.all()] == ["See you at 3 pm"]
    # Having read that, the person sends again: the form now carries a new key.
    new_key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    assert new_key != "form-1"
    operator_client.post(url, {**form, "idempotency_key": new_key, "text": "See you at 4 pm"})
    assert sorted(m.summary for m in Message.objects.all()) == ["See you at 3 pm", "See you at 4 pm"]
