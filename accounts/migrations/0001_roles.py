from django.db import migrations, models


def create_roles(apps, schema_editor):
    from accounts.roles import CAPABILITIES, ROLES

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrations; the groups need them now.
    ct, _ = ContentType.objects.get_or_create(app_label="accounts", model="capability")
    perms = {}
    for codename, name in CAPABILITIES.items():
        perms[codename], _ = Permission.objects.get_or_create(
            content_type=ct, codename=codename, defaults={"name": name}
        )
    for role, capabilities in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in capabilities])


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
