"""The three roles and what each may do. One table, read by the migration that creates the groups.

Permissions are enforced on the server by `accounts.decorators.require`; the navigation only
mirrors them.
"""

BROWSE = "browse"
OPERATE = "operate"
MANAGE_CREDENTIALS = "manage_credentials"
RUN_DIAGNOSTICS = "run_diagnostics"

CAPABILITIES = {
    BROWSE: "Browse contacts, consent, templates, the blacklist, messages and alerts",
    OPERATE: "Record consent, edit the blacklist, import contacts and send messages",
    MANAGE_CREDENTIALS: "Manage apps, WABAs, phone numbers, tokens and API keys",
    RUN_DIAGNOSTICS: "Run diagnostics and build escalation bundles",
}

ROLES = {
    "operator": [BROWSE, OPERATE],
    "support": [BROWSE, OPERATE, RUN_DIAGNOSTICS],
    "admin": [BROWSE, OPERATE, MANAGE_CREDENTIALS, RUN_DIAGNOSTICS],
}


def perm(capability: str) -> str:
    return f"accounts.{capability}"


def sync_roles(Group, Permission, ContentType) -> None:
    """Create the capability permissions and the three groups (idempotent).

    Takes the model classes so the data migration can pass its historical models; tests that
    flush the database (transactional tests) call it with the real ones.
    """
    ct, _ = ContentType.objects.get_or_create(app_label="accounts", model="capability")
    perms = {}
    for codename, name in CAPABILITIES.items():
        perms[codename], _ = Permission.objects.get_or_create(content_type=ct, codename=codename, defaults={"name": name})
    for role, capabilities in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in capabilities])
