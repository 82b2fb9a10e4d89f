"""Reads for the accounts app."""


def banner_alerts():
    """Phone numbers whose quality rating is RED: every page shows a banner for them.
    (Filled in by the accounts capability: returns PhoneNumber rows.)"""
    return []
