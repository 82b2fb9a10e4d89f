from django.db import models

from accounts.roles import CAPABILITIES


class Capability(models.Model):
    """Holder of the role permissions (no table): `accounts.browse`, `accounts.operate`, …"""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())
