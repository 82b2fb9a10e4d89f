"""Celery tasks of the accounts app: thin wrappers taking IDs; the rules live in services.py.

The two beat jobs (schedules installed by migration 0003, editable in the Django admin) fan out one
task per token / per WABA, so one slow or failing WABA does not hold up the others.
"""

from celery import shared_task

from accounts import services
from accounts.models import WABA


@shared_task
def token_validate_all() -> int:
    ids = services.token_validate_all_ids()
    for token_id in ids:
        token_validate.delay_on_commit(token_id)
    return len(ids)


@shared_task
def token_validate(token_id: int) -> None:
    services.token_validate(token_id)


@shared_task
def phone_quality_poll_all() -> int:
    ids = list(WABA.objects.filter(tokens__active=True).values_list("pk", flat=True))
    for waba_id in ids:
        phone_quality_poll.delay_on_commit(waba_id)
    return len(ids)


@shared_task
def phone_quality_poll(waba_id: int) -> None:
    services.phone_quality_poll(waba_id)


@shared_task
def alert_notify(alert_id: int, event: str = "opened") -> None:
    services.alert_notify(alert_id, event)
