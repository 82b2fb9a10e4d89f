"""Roles are enforced on the server: a page outside a role's rights is a 403, not a hidden link."""

import pytest
from django.urls import reverse

from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# One page of each app, and the roles that may open it.
PAGES = {
    "accounts:overview": {"admin"},
    "accounts:alert_list": {"operator", "support", "admin"},
    "consent:contact_list": {"operator", "support", "admin"},
    "messaging:template_list": {"operator", "support", "admin"},
    "messaging:message_list": {"operator", "support", "admin"},
    "messaging:blacklist": {"operator", "support", "admin"},
    "diagnostics:home": {"support", "admin"},
    "publicapi:key_list": {"admin"},
}
ROLES = ["operator", "support", "admin"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", PAGES)
def test_each_role_gets_exactly_its_pages(client, django_user_model, role, url_name):
    client.force_login(make_user(django_user_model, role))
    response = client.get(reverse(url_name))
    assert response.status_code == (200 if role in PAGES[url_name] else 403)


@pytest.mark.parametrize("url_name", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_user_without_a_role_sees_no_data(client, django_user_model):
    client.force_login(make_user(django_user_model, None))
    assert client.get(reverse("consent:contact_list")).status_code == 403
    home = client.get(reverse("home"))
    assert home.status_code == 200 and b"no role yet" in home.content


@pytest.mark.parametrize(
    "role, visible, hidden",
    [
        ("operator", ["Contacts", "Templates", "Blacklist", "Alerts"], ["Diagnostics", "API keys", ">Accounts<"]),
        ("support", ["Contacts", "Diagnostics"], ["API keys", ">Accounts<"]),
        ("admin", [">Accounts<", "Contacts", "Diagnostics", "API keys"], []),
    ],
)
def test_navigation_mirrors_the_role(client, django_user_model, role, visible, hidden):
    client.force_login(make_user(django_user_model, role))
    html = client.get(reverse("consent:contact_list")).content.decode()
    nav = html[html.index('<nav class="mainnav"'):html.index("</nav>")]
    for label in visible:
        assert label in nav
    for label in hidden:
        assert label not in nav


def test_pages_carry_htmx_and_the_csrf_header(operator_client):
    html = operator_client.get(reverse("consent:contact_list")).content.decode()
    assert "django_htmx/htmx-2.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "cdn" not in html.lower()
