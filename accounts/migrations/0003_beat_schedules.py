"""Install the accounts beat schedules: token scope validation and quality-rating polling."""

from django.db import migrations

from config.beat import install_interval_tasks

SCHEDULES = [
    # (name, task, every, period)
    ("accounts: validate token scopes", "accounts.tasks.token_validate_all", 1, "hours"),
    ("accounts: poll quality ratings", "accounts.tasks.phone_quality_poll_all", 15, "minutes"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_credentials"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [install_interval_tasks(SCHEDULES)]
