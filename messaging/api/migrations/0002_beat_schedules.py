"""Install the hourly purge of expired Idempotency-Key records."""

from django.db import migrations

from config.beat import install_interval_tasks

SCHEDULES = [
    # (name, task, every, period)
    ("publicapi: purge expired idempotency records", "messaging.api.tasks.idempotency_purge_task", 1, "hours"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("publicapi", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [install_interval_tasks(SCHEDULES)]
