"""Install the hourly purge of expired Idempotency-Key records (editable in the Django admin).

An existing row is left alone, so an admin's edited interval survives.
"""

from django.db import migrations

NAME = "publicapi: purge expired idempotency records"
TASK = "messaging.api.tasks.idempotency_purge_task"


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.create(name=NAME, task=TASK, interval=interval, enabled=True,
                                description="Installed by wabadesk; edit the interval here as needed.")


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("publicapi", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
