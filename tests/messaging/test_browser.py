"""In Chromium: an operator replies to a contact, and runs a small broadcast."""

import pytest

from messaging.models import Message, Template
from tests.conftest import login

pytestmark = [pytest.mark.browser]


def test_an_operator_composes_a_reply_inside_the_window(world, make_contact, operator_user, page):
    make_contact("+14155550101", name="Ana")
    login(page, "operator")
    page.goto("/messaging/compose/?to=%2B14155550101")
    assert "open" in page.locator("#window-state").inner_text()
    page.fill("#compose-form textarea[name=text]", "Hi Ana, your parcel is on its way.")
    page.click("#compose-form button[type=submit]")
    page.wait_for_url("**/messaging/messages/**")
    assert "queued" in page.locator(".flash").inner_text()
    assert page.locator(".message-row").first.inner_text().count("Hi Ana, your parcel") == 1
    assert [m["text"] for m in world.sandbox.messages()] == ["Hi Ana, your parcel is on its way."]


def test_with_the_window_closed_only_templates_are_offered(world, make_contact, operator_user, page):
    make_contact("+14155550102", window_open=False)
    login(page, "operator")
    page.goto("/messaging/compose/?to=%2B14155550102")
    assert "templates only" in page.locator("#window-state").inner_text()
    assert page.locator("#compose-form textarea[name=text]").count() == 0
    page.select_option("#compose-form select[name=template]", label="order_update (en_US)")
    page.fill("#compose-form textarea[name=parameters]", "Bo\nA-17")
    page.click("#compose-form button[type=submit]")
    page.wait_for_url("**/messaging/messages/**")
    assert world.sandbox.messages()[0]["template"] == "order_update"
    assert Message.objects.get().payload["template"]["components"][0]["parameters"][1]["text"] == "A-17"


def test_an_operator_previews_and_runs_a_small_broadcast(world, make_contact, operator_user, page):
    make_contact("+14155550101")
    make_contact("+14155550102", window_open=False)
    make_contact("+14155550103", consent="opted_out")
    login(page, "operator")
    page.goto("/messaging/broadcasts/new/")
    page.select_option("select[name=template]", label="order_update (en_US)")
    page.select_option("select[name=state]", value="")
    page.click("button[value=preview]")
    page.locator("#preview-counts").wait_for()
    assert page.locator("[data-count=send]").inner_text() == "2"
    assert page.locator("[data-count=no_consent]").inner_text() == "1"
    page.click("button[value=start]")
    page.wait_for_url("**/messaging/broadcasts/*/")
    page.locator("#broadcast-status", has_text="done").wait_for()
    page.locator("[data-count=sent]", has_text="2").wait_for()
    assert page.locator("[data-count=skipped]").inner_text() == "1"
    assert "no_consent" in page.locator("#recipients").inner_text()
    assert sorted(m["to"] for m in world.sandbox.messages()) == ["14155550101", "14155550102"]
    assert Template.objects.get(name="order_update").broadcasts.count() == 1
