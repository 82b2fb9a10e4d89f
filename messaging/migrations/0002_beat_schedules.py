"""Install the messaging beat schedules: template sync and reconciliation of unsettled sends."""

from django.db import migrations

from config.beat import install_interval_tasks

SCHEDULES = [
    # (name, task, every, period)
    ("messaging: sync templates", "messaging.tasks.template_sync_all_task", 1, "hours"),
    ("messaging: reconcile unsettled sends", "messaging.tasks.message_reconcile_task", 5, "minutes"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [install_interval_tasks(SCHEDULES)]
