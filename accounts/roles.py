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
