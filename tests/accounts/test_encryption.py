"""Secrets at rest: tokens and app secrets are encrypted in the database, readable only through
the model, and the encryption key itself can be rotated."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from accounts.models import AccessToken, App
from accounts.selectors import app_secrets
from tests.accounts.conftest import APP_SECRET, OLD_TOKEN

pytestmark = pytest.mark.django_db


def raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_database_holds_no_plaintext_token_or_app_secret(world):
    raw_token = raw("accounts_accesstoken", "token", world.token.pk)
    raw_secret = raw("accounts_app", "app_secret", world.app.pk)
    assert OLD_TOKEN not in raw_token and OLD_TOKEN[-12:] not in raw_token
    assert APP_SECRET not in raw_secret
    assert raw_token.startswith("gAAAAA")  # a Fernet token
    # Through the model the secrets read back as they were given.
    assert AccessToken.objects.get(pk=world.token.pk).token == OLD_TOKEN
    assert App.objects.get(pk=world.app.pk).app_secret == APP_SECRET
    assert app_secrets() == [APP_SECRET]


def test_the_same_secret_encrypts_differently_each_time(world):
    App.objects.create(app_id="1111111111", app_secret=APP_SECRET)
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_secret FROM accounts_app")
        values = [row[0] for row in cursor.fetchall()]
    assert len(set(values)) == 2


def test_the_encryption_key_can_be_rotated(world, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    # Both keys decrypt, so nothing breaks while the rotation is under way.
    assert AccessToken.objects.get(pk=world.token.pk).token == OLD_TOKEN
    before = raw("accounts_accesstoken", "token", world.token.pk)

    call_command("rotate_field_key", stdout=open("/dev/null", "w"))

    after = raw("accounts_accesstoken", "token", world.token.pk)
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == OLD_TOKEN
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    assert AccessToken.objects.get(pk=world.token.pk).token == OLD_TOKEN
    assert App.objects.get(pk=world.app.pk).app_secret == APP_SECRET


def test_a_missing_key_is_a_clear_error_that_does_not_show_the_value(world, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted with any key") as info:
        AccessToken.objects.get(pk=world.token.pk)
    assert "gAAAA" not in str(info.value)


def test_the_admin_never_shows_a_secret(client, django_user_model, world):
    superuser = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(superuser)
    pages = [
        "/admin/accounts/app/", f"/admin/accounts/app/{world.app.pk}/change/",
        "/admin/accounts/accesstoken/", f"/admin/accounts/accesstoken/{world.token.pk}/change/",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert APP_SECRET not in html and OLD_TOKEN not in html, url
    assert "••••••••OLD1" in client.get("/admin/accounts/accesstoken/").content.decode()
    assert "••••••••cdef" in client.get(f"/admin/accounts/app/{world.app.pk}/change/").content.decode()


def test_the_admin_keeps_the_app_secret_when_left_empty_and_replaces_it_when_given(client, django_user_model, world):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    url = f"/admin/accounts/app/{world.app.pk}/change/"
    client.post(url, {"app_id": world.app.app_id, "name": "Renamed", "new_app_secret": ""})
    app = App.objects.get(pk=world.app.pk)
    assert app.name == "Renamed" and app.app_secret == APP_SECRET
    client.post(url, {"app_id": world.app.app_id, "name": "Renamed", "new_app_secret": "brand-new-secret-1234"})
    assert App.objects.get(pk=world.app.pk).app_secret == "brand-new-secret-1234"
