"""The demo data matches the sandbox's demo world and can be loaded any number of times."""

import pytest

from accounts import demo
from accounts.models import WABA, AccessToken, App, PhoneNumber
from accounts.selectors import waba_active_token, waba_token_health
from sandbox import demo as sandbox_demo

pytestmark = pytest.mark.django_db


def test_seeding_twice_gives_one_consistent_world():
    demo.seed()
    demo.seed()
    assert App.objects.get().app_secret == sandbox_demo.APP_SECRET
    waba = WABA.objects.get(waba_id=sandbox_demo.WABA_ID)
    assert set(PhoneNumber.objects.values_list("phone_number_id", flat=True)) == {
        sandbox_demo.PHONE_MAIN, sandbox_demo.PHONE_PROMO}
    assert AccessToken.objects.count() == 2
    assert waba_active_token(waba).token == sandbox_demo.SYSTEM_USER_TOKEN
    assert waba_token_health(waba).status == "healthy"


def test_the_demo_token_is_accepted_by_the_sandbox(sandbox):
    sandbox.merge(**sandbox_demo.sandbox_state())
    demo.seed()
    from accounts.services import phone_numbers_sync

    result = phone_numbers_sync(WABA.objects.get())
    assert result.updated == 2 and result.created == 0
