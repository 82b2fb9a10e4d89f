"""“Identify this ID”: Meta says what an ID is, and the page says which ID /messages needs."""

import pytest
from django.urls import reverse

from tests.accounts.conftest import APP_ID, PHONE_ID, WABA_ID

pytestmark = pytest.mark.django_db
URL = reverse("accounts:identify")


def identify(client, value):
    response = client.post(URL, {"id": value}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_a_phone_number_id_is_the_one_to_send_with(admin_client, world):
    html = identify(admin_client, PHONE_ID)
    assert 'data-kind="phone_number"' in html and "whatsapp_business_phone_number" in html
    assert f"POST /{PHONE_ID}/messages" in html


def test_a_waba_id_is_not_for_messages_and_its_numbers_are_listed(admin_client, world):
    html = identify(admin_client, WABA_ID)
    assert 'data-kind="waba"' in html and "whatsapp_business_account" in html
    assert "100/33" in html and PHONE_ID in html


def test_an_app_id_is_recognised(admin_client, world):
    assert 'data-kind="app"' in identify(admin_client, APP_ID)


def test_an_id_meta_does_not_know_explains_that_100_33_can_mask_permissions(admin_client, world):
    html = identify(admin_client, "1999999999999999")
    assert 'data-kind="unknown"' in html and "100/33" in html
    assert "masks missing permissions" in html and "look like a WABA ID" in html


def test_a_phone_number_typed_instead_of_an_id_is_explained(admin_client, world):
    assert "looks like a phone number" in identify(admin_client, "+1 555 010 0001")


def test_the_tool_asks_meta_with_metadata(admin_client, world):
    world.sandbox.clear_calls()
    identify(admin_client, PHONE_ID)
    assert [c["path"] for c in world.sandbox.calls()] == [f"/{PHONE_ID}"]


@pytest.mark.parametrize("fixture, status", [("operator_client", 403), ("support_client", 200), ("admin_client", 200)])
def test_identify_is_for_support_and_admins(request, world, fixture, status):
    assert request.getfixturevalue(fixture).get(URL).status_code == status


def test_the_full_page_renders_with_the_result(admin_client, world):
    html = admin_client.get(URL, {"id": PHONE_ID}).content.decode()
    assert "<h1>Identify an ID</h1>" in html and "Phone Number ID" in html
