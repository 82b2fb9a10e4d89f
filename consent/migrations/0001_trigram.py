from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class TrigramOnPostgres(TrigramExtension):
    """pg_trgm serves the contact search indexes; other databases (SQLite for `make run`) skip it."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [TrigramOnPostgres()]
