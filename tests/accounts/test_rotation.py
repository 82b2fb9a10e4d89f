"""Token rotation: paste → /debug_token facts → confirm → new token active, old retired, audited.
Every refusal gives its reason; nothing in the pages ever shows a token in full."""

import pytest
from django.urls import reverse

from accounts.models import AccessToken, RotationAudit
from accounts.selectors import waba_active_token
from tests.accounts.conftest import BOTH, NEW_TOKEN, OLD_TOKEN, OTHER_APP_ID, WABA_ID, in_days

pytestmark = pytest.mark.django_db

URL = reverse("accounts:token_rotate", args=[WABA_ID])


def check(client, token):
    return client.post(URL, {"step": "check", "token": token}, HTTP_HX_REQUEST="true")


def confirm(client, pending_id):
    return client.post(URL, {"step": "confirm", "pending": pending_id}, HTTP_HX_REQUEST="true")


def pending_id(world):
    return AccessToken.objects.get(waba=world.waba, active=False, activated_at=None).pk


def test_a_valid_system_user_token_replaces_the_old_one_atomically(admin_client, admin_user, world):
    world.add_token(NEW_TOKEN, type="SYSTEM_USER", scopes=BOTH)

    response = check(admin_client, NEW_TOKEN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "is_valid: true" in html and "matches" in html and "SYSTEM_USER" in html
    assert "whatsapp_business_messaging: present" in html and "whatsapp_business_management: present" in html
    assert "Expires</dt><dd>never" in html
    assert NEW_TOKEN not in html and "NEW2" in html  # only the masked form travels to the page
    assert waba_active_token(world.waba).token == OLD_TOKEN  # nothing changes before the confirmation

    response = confirm(admin_client, pending_id(world))
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("accounts:overview")
    active = AccessToken.objects.filter(waba=world.waba, active=True)
    assert [t.token for t in active] == [NEW_TOKEN]
    old = AccessToken.objects.get(pk=world.token.pk)
    assert old.active is False and old.retired_at is not None
    audit = RotationAudit.objects.get(outcome="rotated")
    assert audit.actor == admin_user and audit.waba == world.waba
    assert audit.old_token_masked == "••••••••OLD1" and audit.new_token_masked == "••••••••NEW2"

    overview = admin_client.get(reverse("accounts:overview")).content.decode()
    assert "••••••••NEW2" in overview and NEW_TOKEN not in overview and OLD_TOKEN not in overview


def test_the_first_token_of_a_waba_is_added_the_same_way(admin_client, world):
    world.token.delete()
    world.add_token(NEW_TOKEN)
    check(admin_client, NEW_TOKEN)
    confirm(admin_client, pending_id(world))
    assert waba_active_token(world.waba).token == NEW_TOKEN
    assert RotationAudit.objects.get().old_token_masked == ""


def assert_refused(client, world, token, *expected):
    response = check(client, token)
    html = response.content.decode()
    assert "Refused" in html
    for text in expected:
        assert text in html, text
    assert "Confirm" not in html
    assert token not in html
    assert waba_active_token(world.waba).token == OLD_TOKEN
    assert not AccessToken.objects.filter(waba=world.waba, active=False, activated_at=None).exists()
    audit = RotationAudit.objects.get()
    assert audit.outcome == "refused" and audit.new_token_masked.endswith(token[-4:])
    return html


def test_an_unknown_token_is_refused_as_invalid(admin_client, world):
    html = assert_refused(admin_client, world, "EAAGneverIssuedByMeta00000000000000000XXXX", "not valid",
                          "invalid token (190")
    assert "is_valid: false" in html


def test_an_expired_user_token_is_refused_with_the_meaning_of_463(admin_client, world):
    world.add_token(NEW_TOKEN, type="USER", expires_at=in_days(-1))
    html = assert_refused(admin_client, world, NEW_TOKEN, "190/463", "the token has expired")
    assert "System User" in html  # the lasting fix, not just a fresh user token


@pytest.mark.parametrize("subcode, meaning", [(460, "changed their password"), (467, "logged out")])
def test_an_invalidated_session_is_refused_with_its_subcode(admin_client, world, subcode, meaning):
    world.add_token(NEW_TOKEN, invalid_subcode=subcode)
    assert_refused(admin_client, world, NEW_TOKEN, f"190/{subcode}", meaning)


def test_a_token_of_another_app_is_refused(admin_client, world):
    world.add_token(NEW_TOKEN, app_id=OTHER_APP_ID)
    html = assert_refused(admin_client, world, NEW_TOKEN, "belongs to another app", OTHER_APP_ID)
    assert "does not match" in html


@pytest.mark.parametrize("scopes, missing", [
    (["whatsapp_business_management"], "whatsapp_business_messaging"),
    (["whatsapp_business_messaging"], "whatsapp_business_management"),
])
def test_a_token_missing_a_scope_is_refused_with_the_app_review_hint(admin_client, world, scopes, missing):
    world.add_token(NEW_TOKEN, scopes=scopes)
    html = assert_refused(admin_client, world, NEW_TOKEN, f"Scope missing: {missing}",
                          "App Review approval does not add scopes to existing tokens")
    assert f"{missing}: missing" in html


def test_a_user_token_is_accepted_with_a_warning_about_463(admin_client, world):
    world.add_token(NEW_TOKEN, type="USER", expires_at=in_days(2))
    html = check(admin_client, NEW_TOKEN).content.decode()
    assert "Refused" not in html and "Confirm" in html
    assert "user token" in html and "190/463" in html and "System User token" in html
    assert "within 7 days" in html
    confirm(admin_client, pending_id(world))
    assert waba_active_token(world.waba).token_type == "USER"


def test_pasting_the_active_token_again_is_refused(admin_client, world):
    assert_refused(admin_client, world, OLD_TOKEN, "already the active token")


def test_the_token_is_checked_again_at_confirmation(admin_client, world):
    world.add_token(NEW_TOKEN)
    check(admin_client, NEW_TOKEN)
    world.add_token(NEW_TOKEN, invalid_subcode=460)  # Meta invalidated it between the two steps
    html = confirm(admin_client, pending_id(world)).content.decode()
    assert "190/460" in html
    assert waba_active_token(world.waba).token == OLD_TOKEN


def test_a_confirmation_cannot_be_replayed_or_used_by_another_admin(admin_client, client, django_user_model, world):
    from tests.conftest import make_user

    world.add_token(NEW_TOKEN)
    check(admin_client, NEW_TOKEN)
    pid = pending_id(world)
    other = make_user(django_user_model, "admin", username="admin2")
    client.force_login(other)
    assert "expired or was already used" in confirm(client, pid).content.decode()
    confirm(admin_client, pid)
    assert "expired or was already used" in confirm(admin_client, pid).content.decode()
    assert AccessToken.objects.filter(waba=world.waba, active=True).count() == 1


def test_an_empty_paste_is_refused_with_a_clear_message(admin_client, world):
    assert "Paste the new access token" in check(admin_client, "   ").content.decode()


def test_a_bearer_prefix_is_tolerated(admin_client, world):
    world.add_token(NEW_TOKEN)
    assert "Confirm" in check(admin_client, f"Bearer {NEW_TOKEN}").content.decode()


def test_the_pending_token_is_stored_encrypted_not_in_the_page(admin_client, world):
    from django.db import connection

    world.add_token(NEW_TOKEN)
    html = check(admin_client, NEW_TOKEN).content.decode()
    assert NEW_TOKEN not in html
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM accounts_accesstoken WHERE id = %s", [pending_id(world)])
        (raw,) = cursor.fetchone()
    assert NEW_TOKEN not in raw and "NEW2" not in raw


@pytest.mark.parametrize("fixture, status", [("operator_client", 403), ("support_client", 403), ("admin_client", 200)])
def test_only_admins_may_rotate(request, world, fixture, status):
    client = request.getfixturevalue(fixture)
    world.add_token(NEW_TOKEN)
    assert client.get(URL).status_code == status
    assert check(client, NEW_TOKEN).status_code == status
    if status == 403:
        assert waba_active_token(world.waba).token == OLD_TOKEN
        assert not AccessToken.objects.filter(active=False).exists()


def test_the_database_allows_only_one_active_token_per_waba(world):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AccessToken.objects.create(waba=world.waba, token=NEW_TOKEN, active=True)


def test_no_log_line_carries_a_token_in_full(admin_client, world, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    world.add_token(NEW_TOKEN, scopes=["whatsapp_business_management"])
    check(admin_client, NEW_TOKEN)  # refused: logged with its reasons
    world.add_token(NEW_TOKEN, scopes=BOTH)
    check(admin_client, NEW_TOKEN)
    confirm(admin_client, pending_id(world))
    assert "token_rotated" in caplog.text and "token_rotation_refused" in caplog.text
    assert NEW_TOKEN not in caplog.text and OLD_TOKEN not in caplog.text


def test_without_javascript_the_same_two_steps_work_as_full_pages(admin_client, world):
    world.add_token(NEW_TOKEN)
    html = admin_client.post(URL, {"step": "check", "token": NEW_TOKEN}).content.decode()
    assert "<h1>Rotate the token of" in html and "is_valid: true" in html
    response = admin_client.post(URL, {"step": "confirm", "pending": pending_id(world)})
    assert response.status_code == 302 and response.url == reverse("accounts:overview")
    assert waba_active_token(world.waba).token == NEW_TOKEN
