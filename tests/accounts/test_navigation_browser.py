"""In Chromium: each role logs in and sees the navigation of its role, and no more."""

import pytest

from tests.conftest import login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "operator": ["Contacts", "Templates", "Messages", "Blacklist", "Alerts"],
    "support": ["Contacts", "Templates", "Messages", "Blacklist", "Diagnostics", "Alerts"],
    "admin": ["Accounts", "Contacts", "Templates", "Messages", "Blacklist", "Diagnostics", "Alerts", "API keys"],
}


@pytest.mark.parametrize("role", EXPECTED)
def test_each_role_sees_its_navigation(page, django_user_model, role):
    make_user(django_user_model, role)
    login(page, role)
    assert page.locator("nav.mainnav a").all_inner_texts() == EXPECTED[role]
    assert role in page.locator(".who").inner_text()
    # htmx was served by the app itself (nothing from a CDN) and is running.
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version.startsWith('2')")


def test_a_forbidden_page_is_refused_even_when_typed_in(page, django_user_model):
    make_user(django_user_model, "operator")
    login(page, "operator")
    response = page.goto("/diagnostics/")
    assert response.status == 403
    assert "Not allowed" in page.content()


def test_wrong_password_is_refused(page, django_user_model):
    make_user(django_user_model, "operator")
    login(page, "operator", password="not-the-password")
    assert "didn't match" in page.content()
    assert page.url.endswith("/login/")
