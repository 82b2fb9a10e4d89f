"""Install messaging's default Celery beat schedules (editable afterwards in the Django admin).

Existing rows are left alone, so an admin's edited interval survives later migrations.
"""

from django.db import migrations

SCHEDULES = [
    # (name, task, every, period)
    ("messaging: sync templates", "messaging.tasks.template_sync_all_task", 1, "hours"),
    ("messaging: reconcile unsettled sends", "messaging.tasks.message_reconcile_task", 5, "minutes"),
]


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.create(name=name, task=task, interval=interval, enabled=True,
                                    description="Installed by wabadesk; edit the interval here as needed.")


def uninstall(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
