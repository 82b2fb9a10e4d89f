"""Alerts: token conditions from the hourly validation, notification by e-mail and webhook, and the
Alerts page with its htmx acknowledge."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse

from accounts.models import Alert
from accounts.tasks import token_validate_all
from tests.accounts.conftest import OLD_TOKEN, in_days

pytestmark = pytest.mark.django_db


def revalidate(world, **token):
    token.setdefault("app_id", world.app.app_id)
    world.sandbox.add_token(OLD_TOKEN, **token)
    world.committed(token_validate_all.delay)


def unresolved():
    return {a.kind: a for a in Alert.objects.filter(status__in=Alert.UNRESOLVED)}


def test_an_invalidated_token_alerts_once_and_resolves_after_rotation(world):
    revalidate(world, invalid_subcode=460)
    revalidate(world, invalid_subcode=460)
    alerts = unresolved()
    assert list(alerts) == ["token_invalid"] and "190/460" in alerts["token_invalid"].detail
    revalidate(world, invalid_subcode=None)
    assert unresolved() == {}


def test_a_lost_scope_alerts_with_the_app_review_hint(world):
    revalidate(world, scopes=["whatsapp_business_management"])
    assert "App Review" in unresolved()["scope_missing"].detail
    revalidate(world, scopes=["whatsapp_business_management", "whatsapp_business_messaging"])
    assert unresolved() == {}


def test_an_expiry_within_7_days_alerts(world):
    revalidate(world, type="USER", expires_at=in_days(5))
    assert list(unresolved()) == ["token_expiring"]


@pytest.fixture
def webhook_receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_alerts_are_sent_by_email_and_to_the_webhook(world, settings, mailoutbox, webhook_receiver):
    url, received = webhook_receiver
    settings.ALERT_EMAILS = ["ops@example.com", "cto@example.com"]
    settings.ALERT_WEBHOOK_URL = url
    revalidate(world, invalid_subcode=467)
    assert mailoutbox[0].to == ["ops@example.com", "cto@example.com"]
    assert "invalid" in mailoutbox[0].subject and OLD_TOKEN not in mailoutbox[0].body
    assert received[0]["event"] == "opened" and received[0]["kind"] == "token_invalid"
    assert received[0]["waba_id"] == world.waba.waba_id and OLD_TOKEN not in json.dumps(received)
    revalidate(world, invalid_subcode=None)
    assert received[-1]["event"] == "resolved" and mailoutbox[-1].subject.startswith("[wabadesk] Resolved:")
    assert Alert.objects.get().notify_error == ""


def test_a_failing_webhook_is_recorded_and_the_alert_kept(world, settings):
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    revalidate(world, invalid_subcode=467)
    alert = Alert.objects.get()
    assert alert.status == "open" and "webhook" in alert.notify_error


def test_the_alerts_page_lists_by_status_and_acknowledges_with_htmx(world, operator_client, operator_user):
    revalidate(world, invalid_subcode=463)
    alert = Alert.objects.get()
    html = operator_client.get(reverse("accounts:alert_list")).content.decode()
    assert alert.title in html and "Open (1)" in html and "Acknowledge" in html

    response = operator_client.post(reverse("accounts:alert_acknowledge", args=[alert.pk]), HTTP_HX_REQUEST="true")
    row = response.content.decode()
    assert row.strip().startswith(f'<tr id="alert-{alert.pk}"') and "acknowledged by operator" in row
    assert 'hx-swap-oob="true"' in row and "Open (0)" in row and "Acknowledged (1)" in row  # tab counts follow
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == operator_user

    assert "Acknowledged (1)" in operator_client.get(reverse("accounts:alert_list")).content.decode()
    # An acknowledged alert is still the one alert of its condition, and resolves by itself.
    revalidate(world, invalid_subcode=463)
    assert Alert.objects.count() == 1
    revalidate(world, invalid_subcode=None)
    assert "Resolved (1)" in operator_client.get(reverse("accounts:alert_list") + "?status=resolved").content.decode()


def test_a_user_without_a_role_cannot_acknowledge(client, django_user_model, world):
    from tests.conftest import make_user

    revalidate(world, invalid_subcode=463)
    client.force_login(make_user(django_user_model, None, username="nobody"))
    assert client.post(reverse("accounts:alert_acknowledge", args=[Alert.objects.get().pk])).status_code == 403
    assert Alert.objects.get().status == "open"
