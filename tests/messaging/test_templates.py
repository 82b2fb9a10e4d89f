"""The template catalogue: sync from Meta (every page), list with filters, the template page, and
the warning for UTILITY templates that read like marketing."""

import pytest
from django.urls import reverse

from messaging.models import Broadcast, Template
from messaging.services import SendRefused, message_send, template_sync, template_sync_all
from sandbox import demo


def meta_template(i, **extra):
    return {"id": str(9000 + i), "name": f"notice_{i:03d}", "language": "en_US", "status": "APPROVED",
            "category": "UTILITY", "components": [{"type": "BODY", "text": f"Notice {i} for {{{{1}}}}"}], **extra}


def test_sync_follows_every_page(world):
    Template.objects.all().delete()
    world.sandbox.set_templates(demo.WABA_ID, [meta_template(i) for i in range(230)])
    result = template_sync(world.waba)
    assert (result.created, result.updated) == (230, 0)
    assert Template.objects.filter(waba_id=demo.WABA_ID).count() == 230
    pages = [c for c in world.sandbox.calls() if c["path"].endswith("/message_templates")]
    assert len(pages) == 3  # 100 + 100 + 30


def test_sync_updates_status_and_reason_and_removes_deleted_templates(world):
    world.sandbox.set_templates(demo.WABA_ID, [
        {**demo.TEMPLATES[0], "status": "REJECTED", "rejected_reason": "INVALID_FORMAT"},
        demo.TEMPLATES[1],
    ])
    result = template_sync(world.waba)
    assert (result.created, result.updated, result.removed) == (0, 2, len(demo.TEMPLATES) - 2)
    order_update = Template.objects.get(name="order_update")
    assert (order_update.status, order_update.rejected_reason) == ("REJECTED", "INVALID_FORMAT")


def test_a_template_deleted_at_meta_that_a_broadcast_used_is_kept_disabled_and_the_rest_is_synced(
        world, make_contact, operator_user):
    order_update = Template.objects.get(name="order_update")
    broadcast = Broadcast.objects.create(template=order_update, phone_number=world.phone, created_by=operator_user)
    # Deleted in WhatsApp Manager; another template was paused meanwhile.
    world.sandbox.set_templates(demo.WABA_ID, [
        {**t, "status": "PAUSED"} if t["name"] == "appointment_reminder" else t
        for t in demo.TEMPLATES if t["name"] != "order_update"
    ])
    result = template_sync(world.waba)
    assert (result.created, result.updated, result.removed) == (0, len(demo.TEMPLATES) - 1, 1)
    assert Template.objects.get(name="appointment_reminder").status == "PAUSED"
    order_update.refresh_from_db()
    assert (order_update.status, order_update.rejected_reason) == ("DISABLED", "Deleted in WhatsApp Manager")
    assert Broadcast.objects.get(pk=broadcast.pk).template == order_update  # the report still names it
    make_contact("+14155550101")
    with pytest.raises(SendRefused, match="DISABLED"):
        message_send(phone_number_id=world.phone.phone_number_id, to="+14155550101", template="order_update")
    # The next sync has nothing left to remove.
    assert template_sync(world.waba).removed == 0


def test_one_wabas_failed_sync_does_not_stop_the_others(world):
    from accounts.models import WABA, AccessToken

    # Sorted first. Its answer cannot be stored (a language code longer than any of Meta's): any error,
    # not only a Graph error, used to end the whole run.
    broken = WABA.objects.create(waba_id="1029384756100001", name="Acme Archive", app=world.app)
    AccessToken.objects.create(waba=broken, token=demo.SYSTEM_USER_TOKEN, token_type="SYSTEM_USER", is_valid=True,
                               active=True, scopes=["whatsapp_business_management"])
    world.sandbox.add_waba(broken.waba_id, name=broken.name)
    world.sandbox.set_templates(broken.waba_id, [meta_template(1, language="x" * 40)])
    Template.objects.all().delete()
    results = template_sync_all()
    assert list(results) == [broken.waba_id, demo.WABA_ID]
    assert results[broken.waba_id].startswith("failed: ")
    assert results[demo.WABA_ID] == f"{len(demo.TEMPLATES)} new, 0 updated, 0 removed"
    assert not Template.objects.filter(waba_id=broken.waba_id).exists()


def test_a_utility_template_that_reads_like_marketing_is_flagged():
    def utility(text, category="UTILITY"):
        return Template(category=category, components=[{"type": "BODY", "text": text}])

    assert utility("Great news! Buy now and get 20% off, limited time offer!").marketing_words() == [
        "offer", "% off", "limited time", "buy now"]
    assert utility("Your order {{1}} has shipped.").marketing_words() == []
    assert utility("Spring sale: 20% off", category="MARKETING").marketing_words() == []


def test_variables_are_listed_in_order():
    t = Template(components=[{"type": "HEADER", "text": "Hi {{1}}"}, {"type": "BODY", "text": "{{2}} and {{1}} {{3}}"}])
    assert t.variables() == ["1", "2", "3"]


def test_the_list_filters_by_status_category_and_name(world, operator_client):
    url = reverse("messaging:template_list")
    page = operator_client.get(url, {"status": "APPROVED"}).content.decode()
    assert "order_update" in page and "loyalty_points" not in page
    page = operator_client.get(url, {"category": "MARKETING"}).content.decode()
    assert "spring_sale" in page and "order_update" not in page
    page = operator_client.get(url, {"q": "reminder"}).content.decode()
    assert "appointment_reminder" in page and "order_update" not in page
    # The marketing-sounding UTILITY template is flagged in the list.
    assert "reads like marketing" in operator_client.get(url, {"q": "loyalty"}).content.decode()


def test_the_template_page_renders_components_variables_and_the_warning(world, operator_client):
    loyalty = Template.objects.get(name="loyalty_points")
    page = operator_client.get(reverse("messaging:template_detail", args=[loyalty.pk])).content.decode()
    assert '<mark class="var">{{1}}</mark>' in page
    assert "reads like marketing" in page and "368" in page
    winback = Template.objects.get(name="winback_offer")
    page = operator_client.get(reverse("messaging:template_detail", args=[winback.pk])).content.decode()
    assert "INVALID_FORMAT" in page and "reads like marketing" not in page


def test_the_sync_button_syncs_by_hand(world, operator_client):
    Template.objects.all().delete()
    response = operator_client.post(reverse("messaging:template_sync"), follow=True)
    assert f"WABA {demo.WABA_ID}: templates synced ({len(demo.TEMPLATES)} new" in response.content.decode()
    assert Template.objects.count() == len(demo.TEMPLATES)


def test_sync_by_hand_says_why_when_there_is_no_token(world, operator_client):
    world.waba.tokens.all().delete()
    response = operator_client.post(reverse("messaging:template_sync"), follow=True)
    assert "no valid active token, templates not synced" in response.content.decode()


def test_a_user_without_a_role_cannot_sync(world, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.post(reverse("messaging:template_sync")).status_code == 403


def test_beat_syncs_every_waba_with_a_token(world):
    from django_celery_beat.models import PeriodicTask

    from messaging.tasks import template_sync_all_task

    assert PeriodicTask.objects.filter(task="messaging.tasks.template_sync_all_task", enabled=True).exists()
    Template.objects.all().delete()
    assert template_sync_all_task.apply().get() == {demo.WABA_ID: f"{len(demo.TEMPLATES)} new, 0 updated, 0 removed"}
