"""Diagnostics is for support and admins: operators get a 403, anonymous users the login page."""

import pytest
from django.urls import reverse

from diagnostics.models import ChecklistRun, EscalationBundle, GraphErrorEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(support_user):
    event = GraphErrorEvent.objects.create(code=190, subcode=463, method="GET", endpoint="/v24.0/1")
    run = ChecklistRun.objects.create(created_by=support_user, waba_id="1", phone_number_id="2")
    bundle = EscalationBundle.objects.create(title="t", data={"criteria": [], "text": "", "verdict": ""})
    return event, run, bundle


def urls(event, run, bundle):
    return [
        ("get", reverse("diagnostics:home")), ("get", reverse("diagnostics:catalogue")),
        ("get", reverse("diagnostics:diagnose") + "?code=190"), ("post", reverse("diagnostics:diagnose")),
        ("get", reverse("diagnostics:checklist")), ("get", reverse("diagnostics:checklist_run", args=[run.pk])),
        ("get", reverse("diagnostics:checklist_step", args=[run.pk, 0])),
        ("post", reverse("diagnostics:bundle_from_run", args=[run.pk])),
        ("get", reverse("diagnostics:error_log")), ("get", reverse("diagnostics:error_group", args=["190.463"])),
        ("get", reverse("diagnostics:error_event", args=[event.pk])),
        ("post", reverse("diagnostics:bundle_from_event", args=[event.pk])),
        ("get", reverse("diagnostics:bundle_detail", args=[bundle.pk])),
        ("get", reverse("diagnostics:bundle_download", args=[bundle.pk])),
    ]


def test_operators_are_refused_every_diagnostics_page(operator_client, objects):
    for method, url in urls(*objects):
        assert getattr(operator_client, method)(url).status_code == 403, url
    assert not ChecklistRun.objects.filter(items__len=1).exists()
    assert EscalationBundle.objects.count() == 1


def test_anonymous_users_are_sent_to_the_login_page(client, objects):
    for method, url in urls(*objects):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


@pytest.mark.parametrize("role_client", ["support_client", "admin_client"])
def test_support_and_admins_can_open_the_pages(request, role_client, objects):
    c = request.getfixturevalue(role_client)
    for url in (reverse("diagnostics:home"), reverse("diagnostics:catalogue"), reverse("diagnostics:diagnose"),
                reverse("diagnostics:error_log"), reverse("diagnostics:checklist")):
        assert c.get(url).status_code == 200, url
