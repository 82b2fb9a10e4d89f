"""`manage.py seed_demo`: idempotent demo data for `make run`.

Creates one user per role, then lets each app seed its own part (`<app>/demo.py: seed(stdout)`),
in dependency order. Running it twice changes nothing.
"""

import importlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_PASSWORD = "wabadesk-demo"
DEMO_USERS = [("operator", "operator"), ("support", "support"), ("admin", "admin")]
SEEDERS = ["accounts.demo", "consent.demo", "messaging.demo", "messaging.api.demo", "diagnostics.demo"]


class Command(BaseCommand):
    help = "Load idempotent demo data (users, WABA, numbers, tokens, contacts, templates, errors)."

    def handle(self, *args, **options):
        User = get_user_model()
        with transaction.atomic():
            for username, role in DEMO_USERS:
                user, created = User.objects.get_or_create(username=username)
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.is_staff = role == "admin"
                    user.is_superuser = role == "admin"  # the Django admin (beat schedules) needs it
                    user.save()
                user.groups.add(Group.objects.get(name=role))
        for module_name in SEEDERS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Open http://127.0.0.1:8000/ and log in as one of:")
        for username, role in DEMO_USERS:
            self.stdout.write(f"    {username:<9} / {DEMO_PASSWORD}   ({role})")
