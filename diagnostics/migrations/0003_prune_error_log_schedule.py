"""Install the daily beat schedule that prunes the error log (editable in the Django admin)."""

from django.db import migrations

TASK_NAME = "diagnostics: prune the Graph error log"


def install(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 03:17 UTC: off the hour, when nobody is sending broadcasts.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="17", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "diagnostics.tasks.error_log_prune_task", "crontab": crontab, "enabled": True,
                  "description": "Deletes GraphErrorEvent rows older than ERROR_LOG_RETENTION_DAYS."},
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0002_checklistrun_escalationbundle"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
