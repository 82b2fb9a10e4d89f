from django.urls import reverse

from accounts import roles

# (label, url name, capability, the URL prefix that marks it active)
NAVIGATION = [
    ("Accounts", "accounts:overview", roles.MANAGE_CREDENTIALS, "/accounts/"),
    ("Contacts", "consent:contact_list", roles.BROWSE, "/contacts/"),
    ("Templates", "messaging:template_list", roles.BROWSE, "/messaging/templates/"),
    ("Messages", "messaging:message_list", roles.BROWSE, "/messaging/messages/"),
    ("Blacklist", "messaging:blacklist", roles.BROWSE, "/messaging/blacklist/"),
    ("Diagnostics", "diagnostics:home", roles.RUN_DIAGNOSTICS, "/diagnostics/"),
    ("Alerts", "accounts:alert_list", roles.BROWSE, "/accounts/alerts/"),
    ("API keys", "publicapi:key_list", roles.MANAGE_CREDENTIALS, "/api-keys/"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, capability, prefix in NAVIGATION:
        if user.has_perm(roles.perm(capability)):
            active = request.path.startswith(prefix)
            items.append({"label": label, "url": reverse(url_name), "active": active})
    # Most specific prefix wins (Alerts lives under /accounts/).
    actives = [i for i in items if i["active"]]
    if len(actives) > 1:
        for item in actives[:-1]:
            item["active"] = False
    from accounts.selectors import banner_alerts

    return {"nav_items": items, "red_quality_numbers": banner_alerts()}
