"""The error log: every Graph error recorded, grouped by code+subcode, charted, drilled into, pruned."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.graph import GraphAPIError, GraphClient
from diagnostics import selectors
from diagnostics.models import GraphErrorEvent
from diagnostics.tasks import error_log_prune_task
from sandbox import demo


def record(code, subcode=None, hours_ago=0.0, **extra):
    extra.setdefault("message", f"error {code}")
    return GraphErrorEvent.objects.create(code=code, subcode=subcode, http_status=400, method="POST",
                                          endpoint=f"/v24.0/{demo.PHONE_MAIN}/messages",
                                          occurred_at=timezone.now() - timedelta(hours=hours_ago), **extra)


def test_a_graph_error_met_by_the_client_is_recorded_with_its_subcode(world):
    world.sandbox.add_token(demo.SYSTEM_USER_TOKEN, app_id=demo.APP_ID, invalid_subcode=460)
    with pytest.raises(GraphAPIError):
        GraphClient(demo.SYSTEM_USER_TOKEN, max_retries=0, context={"waba_id": demo.WABA_ID}).get(f"/{demo.WABA_ID}")
    event = GraphErrorEvent.objects.get()
    assert (event.code, event.subcode, event.http_status, event.method) == (190, 460, 401, "GET")
    assert event.endpoint == f"/v24.0/{demo.WABA_ID}" and event.fbtrace_id
    assert event.context == {"waba_id": demo.WABA_ID}
    assert demo.SYSTEM_USER_TOKEN not in str(event.body)


@pytest.mark.django_db
def test_errors_are_grouped_by_code_and_subcode_with_counts_and_first_last_seen():
    for h in (30, 5, 1):
        record(190, 463, hours_ago=h)
    record(190, 460, hours_ago=2)
    record(131047, hours_ago=0.5)
    groups = {g.key: g for g in selectors.error_groups("24h")}
    assert set(groups) == {"190.463", "190.460", "131047"}
    expired = groups["190.463"]
    assert (expired.count, expired.recent, expired.entry.name) == (3, 2, "Access token expired")
    assert round((expired.last_seen - expired.first_seen) / timedelta(hours=1)) == 29
    assert groups["190.463"].label == "190/463" and groups["131047"].label == "131047"


@pytest.mark.django_db
def test_the_chart_has_one_bar_per_hour_or_day_with_height_classes():
    record(368, hours_ago=0)
    record(368, hours_ago=0)
    record(368, hours_ago=3)
    record(368, hours_ago=24 * 3)
    hourly = selectors.error_chart("24h")
    assert len(hourly) == 24 and sum(b["count"] for b in hourly) == 3
    assert hourly[-1]["count"] == 2 and hourly[-1]["level"] == 10 and hourly[-4]["level"] == 5
    daily = selectors.error_chart("7d")
    assert len(daily) == 7 and sum(b["count"] for b in daily) == 4


@pytest.mark.django_db
def test_the_log_page_groups_and_drills_down_to_occurrences_and_the_diagnosis(support_client):
    first = record(100, 33, hours_ago=1)
    record(100, 33, hours_ago=2)
    record(None, hours_ago=1, message="No response from the Graph API: ConnectTimeout")
    html = support_client.get(reverse("diagnostics:error_log"), {"range": "7d"}).content.decode()
    assert 'data-group="100.33"' in html and 'data-group="none"' in html
    assert "Object does not exist or cannot be loaded" in html and 'class="h10"' in html
    assert 'style="' not in html  # the CSP forbids inline styles
    group = support_client.get(reverse("diagnostics:error_group", args=["100.33"])).content.decode()
    assert "2 occurrences" in group
    assert reverse("diagnostics:error_event", args=[first.pk]) in group
    assert f'{reverse("diagnostics:diagnose")}?code=100&amp;subcode=33' in group
    network = support_client.get(reverse("diagnostics:error_group", args=["none"])).content.decode()
    assert "1 occurrence" in network and "Network failures" in network
    assert support_client.get(reverse("diagnostics:error_group", args=["abc"])).status_code == 404
    detail = support_client.get(reverse("diagnostics:error_event", args=[first.pk])).content.decode()
    assert "Build escalation bundle" in detail


@pytest.mark.django_db
def test_prune_deletes_only_errors_older_than_the_retention(settings):
    settings.ERROR_LOG_RETENTION_DAYS = 7
    old = [record(4, hours_ago=24 * 8), record(4, hours_ago=24 * 40)]
    kept = record(4, hours_ago=24 * 6)
    assert error_log_prune_task.delay().get() == 2
    assert list(GraphErrorEvent.objects.all()) == [kept]
    assert not GraphErrorEvent.objects.filter(pk__in=[e.pk for e in old]).exists()


@pytest.mark.django_db
def test_prune_is_scheduled_daily_by_default(settings):
    task = PeriodicTask.objects.get(task="diagnostics.tasks.error_log_prune_task")
    assert task.enabled and task.crontab.hour == "3"
    assert settings.ERROR_LOG_RETENTION_DAYS == 30
