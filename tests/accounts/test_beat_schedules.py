"""The beat jobs' default schedules are installed by a migration and can be edited in the admin."""

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app

pytestmark = pytest.mark.django_db


def test_default_schedules_are_installed():
    tasks = {t.task: t for t in PeriodicTask.objects.select_related("interval")}
    validate = tasks["accounts.tasks.token_validate_all"]
    poll = tasks["accounts.tasks.phone_quality_poll_all"]
    assert (validate.interval.every, validate.interval.period, validate.enabled) == (1, "hours", True)
    assert (poll.interval.every, poll.interval.period, poll.enabled) == (15, "minutes", True)


def test_the_scheduled_task_names_exist_in_the_worker():
    app.loader.import_default_modules()
    for task in PeriodicTask.objects.values_list("task", flat=True):
        if task.startswith("accounts."):
            assert task in app.tasks
