"""Paste an error: valid bodies, webhook shapes, bare codes, invalid JSON and unknown codes."""

import json

import pytest
from django.urls import reverse

from diagnostics.diagnosis import DiagnosisInputError, diagnose, parse_pasted

URL = reverse("diagnostics:diagnose")
EXPIRED = {"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException",
                     "code": 190, "error_subcode": 463, "fbtrace_id": "AbC123xyz"}}
WEBHOOK = {"object": "whatsapp_business_account", "entry": [{"id": "1029384756102938", "changes": [{"field": "messages",
           "value": {"messaging_product": "whatsapp", "statuses": [{"id": "wamid.X", "status": "failed",
                     "timestamp": "1700000000", "recipient_id": "14155550101", "errors": [
                         {"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                          "error_data": {"details": "More than 24 hours have passed"}}]}]}}]}]}


def test_a_graph_error_body_is_parsed_with_its_subcode():
    [error] = parse_pasted(json.dumps(EXPIRED))
    assert (error.code, error.subcode, error.fbtrace_id, error.source) == (190, 463, "AbC123xyz", "graph")


def test_a_webhook_status_error_is_found_inside_a_whole_delivery():
    [error] = parse_pasted(json.dumps(WEBHOOK))
    assert (error.code, error.title, error.recipient_id, error.source) == (131047, "Re-engagement message",
                                                                        "14155550101", "webhook")
    assert error.details == "More than 24 hours have passed"


def test_debug_token_style_subcode_and_bare_codes_are_understood():
    [error] = parse_pasted('{"data": {"is_valid": false, "error": {"code": 190, "subcode": 460, "message": "x"}}}')
    assert (error.code, error.subcode) == (190, 460)
    assert [(e.code, e.subcode) for e in parse_pasted("190/463")] == [(190, 463)]
    assert [(e.code, e.subcode) for e in parse_pasted(" 131047 ")] == [(131047, None)]


@pytest.mark.parametrize("text, reason", [
    ("", "Paste a Graph API error body"),
    ('{"error": {"code": 190,', "not valid JSON"),
    ("Error validating access token", "not valid JSON"),
    ('{"messages": [{"id": "wamid.1"}]}', "contains no error"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
])
def test_unreadable_input_gets_a_specific_reason(text, reason):
    with pytest.raises(DiagnosisInputError, match=reason):
        parse_pasted(text)


def test_an_unknown_subcode_is_explained_by_its_code():
    d = diagnose(190, 12345)
    assert d.entry.key == "190" and d.match == "code"
    assert "12345 is not in wabadesk's catalogue" in d.subcode_meaning


def test_pasting_an_expired_token_error_shows_the_diagnosis_and_the_rotate_link(support_client):
    response = support_client.post(URL, {"body": json.dumps(EXPIRED)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Access token expired" in html and "463 — the token has expired." in html
    assert 'href="/accounts/"' in html and "Rotate or replace the access token" in html
    assert "AbC123xyz" in html


def test_a_pasted_webhook_failure_links_to_that_contact(support_client):
    html = support_client.post(URL, {"body": json.dumps(WEBHOOK)}).content.decode()
    assert "Re-engagement message (24-hour window closed)" in html
    assert "/contacts/?q=%2B14155550101" in html and "/messaging/templates/" in html


def test_typing_a_code_and_subcode_works_and_links_from_the_message_log_too(support_client):
    typed = support_client.post(URL, {"body": "", "code": "100", "subcode": "33"}).content.decode()
    assert "Object does not exist or cannot be loaded" in typed
    linked = support_client.get(URL, {"code": "100", "subcode": "2500"}).content.decode()
    assert "Required parameter missing" in linked


def test_invalid_json_is_answered_clearly_without_an_error_page(support_client):
    response = support_client.post(URL, {"body": '{"error": {"code": 190'}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "This is not valid JSON" in html


def test_an_unknown_code_is_answered_clearly(support_client):
    html = support_client.post(URL, {"body": '{"error": {"code": 987654, "message": "Mystery"}}'}).content.decode()
    assert "Unknown code 987654" in html and "not in wabadesk's catalogue" in html and "Mystery" in html
    bad_link = support_client.get(URL, {"code": "abc"}).content.decode()
    assert "must be numbers" in bad_link


def test_nothing_given_is_answered_too(support_client):
    html = support_client.post(URL, {"body": "", "code": ""}).content.decode()
    assert "Paste an error body or type a code." in html
