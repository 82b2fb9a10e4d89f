import pytest

from accounts.graph import GraphAPIError, GraphClient


@pytest.mark.django_db
def test_smoke(sandbox):
    sandbox.add_app("1", "s3cretsecret")
    sandbox.add_token("EAAtoken123456789", app_id="1")
    sandbox.add_waba("1234567890123456")
    sandbox.add_phone_number("123456789012345", waba_id="1234567890123456")
    c = GraphClient("EAAtoken123456789")
    assert c.get_paged("/1234567890123456/phone_numbers")[0]["id"] == "123456789012345"
    with pytest.raises(GraphAPIError) as e:
        c.send_message("1234567890123456", {"messaging_product": "whatsapp", "to": "+15551234567", "type": "text", "text": {"body": "x"}})
    assert (e.value.code, e.value.subcode) == (100, 33)
