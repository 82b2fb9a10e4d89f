"""The quality poll runs in a REAL Celery worker on Redis: repeated runs give exactly one alert for a
downgrade, and the alert resolves when the rating recovers."""

import pytest

from accounts.models import Alert, PhoneNumber
from accounts.tasks import phone_quality_poll_all
from tests.accounts.conftest import PHONE_ID, WABA_ID
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def poll_and_wait(world):
    """Enqueue the beat job and wait until the worker has synced the number again."""
    before = PhoneNumber.objects.get(phone_number_id=PHONE_ID).last_synced_at
    phone_quality_poll_all.delay()
    wait_for(lambda: PhoneNumber.objects.get(phone_number_id=PHONE_ID).last_synced_at != before, timeout=30)


def test_a_downgrade_gives_one_alert_across_runs_and_resolves_on_recovery(world, celery_worker_process):
    poll_and_wait(world)  # GREEN: nothing to say
    assert Alert.objects.count() == 0

    world.sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID, quality_rating="YELLOW", messaging_limit="TIER_10K")
    for _ in range(3):
        poll_and_wait(world)
    alerts = list(Alert.objects.all())
    assert len(alerts) == 1
    assert alerts[0].kind == "quality_yellow" and alerts[0].status == "open"
    assert PhoneNumber.objects.get(phone_number_id=PHONE_ID).quality_rating == "YELLOW"

    world.sandbox.add_phone_number(PHONE_ID, waba_id=WABA_ID, quality_rating="GREEN", messaging_limit="TIER_10K")
    poll_and_wait(world)
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.resolved_at is not None


def test_the_token_validation_job_alerts_once_and_resolves(world, celery_worker_process):
    from accounts.models import AccessToken
    from accounts.tasks import token_validate_all
    from tests.accounts.conftest import APP_ID, OLD_TOKEN

    def validate_and_wait():
        before = AccessToken.objects.get(pk=world.token.pk).last_checked_at
        token_validate_all.delay()
        wait_for(lambda: AccessToken.objects.get(pk=world.token.pk).last_checked_at != before, timeout=30)

    world.sandbox.add_token(OLD_TOKEN, app_id=APP_ID, invalid_subcode=460)
    validate_and_wait()
    validate_and_wait()
    [alert] = Alert.objects.all()
    assert alert.kind == "token_invalid" and alert.status == "open" and "190/460" in alert.detail
    token = AccessToken.objects.get(pk=world.token.pk)
    assert (token.is_valid, token.last_error_code, token.last_error_subcode) == (False, 190, 460)

    world.sandbox.add_token(OLD_TOKEN, app_id=APP_ID, invalid_subcode=None)
    validate_and_wait()
    assert Alert.objects.get().status == "resolved"
