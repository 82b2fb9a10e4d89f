"""Install the default Celery beat schedules (editable afterwards in the Django admin).

Existing rows are left alone, so an admin's edited interval survives later migrations.
"""

from django.db import migrations

SCHEDULES = [
    # (name, task, every, period)
    ("accounts: validate token scopes", "accounts.tasks.token_validate_all", 1, "hours"),
    ("accounts: poll quality ratings", "accounts.tasks.phone_quality_poll_all", 15, "minutes"),
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
        ("accounts", "0002_credentials"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
