"""`manage.py rotate_field_key`: re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEYS key.

Key rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), deploy,
run this command, then remove the old key. It works on the raw ciphertext (MultiFernet.rotate), so
no secret is ever held in plaintext by this command, and it can be re-run safely.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.fields import EncryptedTextField, reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key in FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not columns:
                continue
            count = 0
            with transaction.atomic():
                for pk, *values in self._raw_rows(model, columns):
                    updates = {col: reencrypt(value) for col, value in zip(columns, values) if value}
                    if updates:
                        self._write_raw(model, pk, updates)
                        count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} row(s) now use the first key."))

    @staticmethod
    def _raw_rows(model, columns):
        q = connection.ops.quote_name
        cols = ", ".join(q(c) for c in [model._meta.pk.column, *columns])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {cols} FROM {q(model._meta.db_table)} FOR UPDATE" if connection.features.has_select_for_update
                           else f"SELECT {cols} FROM {q(model._meta.db_table)}")
            return cursor.fetchall()

    @staticmethod
    def _write_raw(model, pk, updates):
        q = connection.ops.quote_name
        sets = ", ".join(f"{q(column)} = %s" for column in updates)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {q(model._meta.db_table)} SET {sets} WHERE {q(model._meta.pk.column)} = %s",
                           [*updates.values(), pk])
