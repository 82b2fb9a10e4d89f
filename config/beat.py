"""Default Celery beat schedules, installed by each app's data migration.

The rows land in django-celery-beat's tables, so admins edit them in the Django admin. A row that
already exists is left alone: an admin's edited interval survives later migrations.
"""

from django.db import migrations

DESCRIPTION = "Installed by wabadesk; edit the interval here as needed."


def install_interval_tasks(schedules: list[tuple[str, str, int, str]]) -> migrations.RunPython:
    """A RunPython operation that installs (name, task, every, period) rows and removes them on reverse."""

    def install(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        for name, task, every, period in schedules:
            if PeriodicTask.objects.filter(name=name).exists():
                continue
            interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
            PeriodicTask.objects.create(name=name, task=task, interval=interval, enabled=True, description=DESCRIPTION)

    def uninstall(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTask.objects.filter(name__in=[name for name, *_ in schedules]).delete()

    return migrations.RunPython(install, uninstall)
