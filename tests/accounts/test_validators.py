"""IDs are validated on input, and the message names the mistake."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import PhoneNumber
from accounts.validators import validate_phone_number_id, validate_waba_id


def message(validator, value):
    with pytest.raises(ValidationError) as info:
        validator(value)
    return " ".join(info.value.messages)


def test_a_waba_id_where_a_phone_number_id_belongs_is_named_as_such():
    text = message(validate_phone_number_id, "1234567890123456")
    assert "This is a 16-digit WABA ID; a Phone Number ID has 15 digits" in text
    assert "100/33" in text


def test_a_phone_number_id_where_a_waba_id_belongs_is_named_as_such():
    assert "This is a 15-digit Phone Number ID; a WABA ID has 16 digits" in message(validate_waba_id, "123456789012345")


@pytest.mark.parametrize("value", ["+15550100001", "1 555 010 0001", "555-010-0001"])
def test_a_phone_number_is_not_a_phone_number_id(value):
    assert "looks like a phone number" in message(validate_phone_number_id, value)


@pytest.mark.parametrize("value, expected", [("12345", "has 15 digits; this one has 5"), ("", "Enter the Phone Number ID"),
                                             ("abc123", "digits only"),
                                             ("１２３４５６７８９０１２３４５", "digits only")])  # full-width digits
def test_other_mistakes_get_their_own_message(value, expected):
    assert expected in message(validate_phone_number_id, value)


def test_valid_ids_pass():
    validate_phone_number_id("123456789012345")
    validate_waba_id("1234567890123456")


@pytest.mark.django_db
def test_the_model_refuses_a_waba_id_as_phone_number_id(world):
    phone = PhoneNumber(phone_number_id=world.waba.waba_id[:15], waba=world.waba)
    phone.full_clean()  # 15 digits: fine
    phone.phone_number_id = world.waba.waba_id
    with pytest.raises(ValidationError, match="16-digit WABA ID"):
        phone.full_clean()


@pytest.mark.django_db
def test_the_admin_form_refuses_a_phone_number_id_as_waba_id(client, django_user_model, world):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    response = client.post("/admin/accounts/waba/add/", {"waba_id": "123456789012345", "name": "Oops",
                                                          "app": world.app.pk, "is_production": "on"})
    assert response.status_code == 200
    assert "This is a 15-digit Phone Number ID; a WABA ID has 16 digits" in response.content.decode()
