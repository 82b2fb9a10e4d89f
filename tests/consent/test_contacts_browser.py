"""In Chromium: an operator searches and filters the contacts list live, opens a contact and records
an opt-out, which lands in the history with their name."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import Contact
from consent.services import consent_record
from tests.conftest import login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contacts():
    now = timezone.now()
    ana = Contact.objects.create(phone="+15551230001", name="Ana Silva", last_inbound_at=now - timedelta(hours=1))
    bob = Contact.objects.create(phone="+442071230002", name="Bob Stone")
    Contact.objects.create(phone="+15559990003", name="Cy Twombly")
    consent_record(ana, "opt_in", "website_form", "test", occurred_at=now - timedelta(days=2))
    consent_record(bob, "opt_in", "paper", "test", occurred_at=now - timedelta(days=2))
    return ana, bob


def rows(page):
    return page.locator("#contacts tbody tr td.mono").all_inner_texts()


def test_search_filter_and_record_an_opt_out(page, django_user_model, contacts):
    user = make_user(django_user_model, "operator", "olga")
    user.first_name, user.last_name = "Olga", "Operator"
    user.save()
    login(page, "olga")
    page.goto("/contacts/")
    assert len(rows(page)) == 3
    # The open window counts down in the list, without a reload.
    countdown = page.locator("#contacts [data-window-closes]")
    assert countdown.count() == 1
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=3000)
    assert "left" in countdown.inner_text()

    # Live search by phone fragment: no submit, the table updates as you type.
    page.fill("#id_q", "4420")
    expect(page.locator("#contacts tbody tr")).to_have_count(1)
    assert rows(page) == ["+442071230002"]
    assert "q=4420" in page.url  # the URL follows, so the view can be shared or reloaded

    # Name search, then a consent filter on top of nothing.
    page.fill("#id_q", "")
    expect(page.locator("#contacts tbody tr")).to_have_count(3)
    page.select_option("#id_state", "opted_in")
    expect(page.locator("#contacts tbody tr")).to_have_count(2)
    assert sorted(rows(page)) == ["+15551230001", "+442071230002"]
    page.select_option("#id_window", "open")
    expect(page.locator("#contacts tbody tr")).to_have_count(1)
    assert rows(page) == ["+15551230001"]

    # Open Ana and record an opt-out (the confirmation dialog is accepted).
    page.click("text=+15551230001")
    page.wait_for_load_state("networkidle")
    assert page.locator("#consent-state").inner_text() == "Opted in"
    page.fill("#id_note", "Asked us to stop on the phone")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button[value=opt_out]")
    expect(page.locator("#consent-state")).to_have_text("Opted out")
    first_event = page.locator("#timeline li").first.inner_text()
    assert "Opt-out" in first_event and "Olga Operator" in first_event and "Asked us to stop on the phone" in first_event
    assert Contact.objects.get(phone="+15551230001").consent_state == "opted_out"


def test_an_opt_in_without_a_channel_is_refused_in_place(page, django_user_model, contacts):
    make_user(django_user_model, "operator", "olga")
    login(page, "olga")
    bob = contacts[1]
    page.goto(f"/contacts/{bob.pk}/")
    page.click("button[value=opt_in]")
    expect(page.locator("#channel-error")).to_contain_text("needs its channel")
    assert bob.consent_events.count() == 1
