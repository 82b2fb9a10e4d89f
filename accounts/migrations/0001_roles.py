from django.db import migrations, models


def create_roles(apps, schema_editor):
    from accounts.roles import sync_roles

    # Permissions are normally created after migrations; the groups need them now.
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"),
               apps.get_model("contenttypes", "ContentType"))


class Migration(migrations.Migration):
    initial = True
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.CreateModel(
            name="Capability",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("browse", "Browse contacts, consent, templates, the blacklist, messages and alerts"),
                    ("operate", "Record consent, edit the blacklist, import contacts and send messages"),
                    ("manage_credentials", "Manage apps, WABAs, phone numbers, tokens and API keys"),
                    ("run_diagnostics", "Run diagnostics and build escalation bundles"),
                ],
            },
        ),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
