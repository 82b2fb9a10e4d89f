"""In Chromium: an admin creates an API key with htmx, copies it from the one-time panel, uses it,
then revokes it (with the confirmation dialog)."""

import pytest
import requests

from tests.conftest import login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_uses_and_revokes_a_key(page, live_server, django_user_model):
    make_user(django_user_model, "admin")
    login(page, "admin")
    page.goto("/api-keys/")
    page.fill("#id_name", "Browser-made key")
    page.check("input[name=scopes][value=read]")
    page.click("button:has-text('Create key')")
    raw = page.locator("#created-key").inner_text().strip()
    assert raw.startswith("wbd_")
    assert page.url.endswith("/api-keys/")  # swapped in place by htmx, no navigation
    row = page.locator("tbody tr", has_text="Browser-made key")
    assert "active" in row.inner_text() and raw not in row.inner_text()

    status = requests.get(f"{live_server.url}/v24.0/messages/wbd.1", headers={"Authorization": f"Bearer {raw}"},
                          timeout=10)
    assert status.status_code == 404 and status.json()["error"]["code"] == 100  # authenticated, no such message

    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_selector("tbody tr:has-text('Browser-made key') .badge.fail")
    assert "revoked" in page.locator("#keys").inner_text()
    assert page.locator("#created-key").count() == 0  # shown once: gone after the next swap
    refused = requests.get(f"{live_server.url}/v24.0/messages/wbd.1", headers={"Authorization": f"Bearer {raw}"},
                           timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["error_data"]["reason"] == "key_revoked"
