"""The blacklist editor: add one or paste many (each line validated), search, inline reason edit,
remove, and the history of every change."""

from django.urls import reverse

from messaging.models import BlacklistChange, BlacklistEntry
from messaging.selectors import blacklist_contains
from messaging.services import blacklist_add_many

URL = reverse("messaging:blacklist")


def test_pasting_many_keeps_the_valid_lines_and_lists_each_error(db, operator_user):
    result = blacklist_add_many("+14155550101\n+1 415 555 0102\n\n0014155550103\n+14155550104\n+14155550101",
                                "complaints", operator_user)
    assert result.added == ["+14155550101", "+14155550104"]
    assert result.already == ["+14155550101"]
    assert [(n, line) for n, line, _ in result.errors] == [(2, "+1 415 555 0102"), (4, "0014155550103")]
    assert "spaces" in result.errors[0][2] and "00" in result.errors[1][2]
    assert blacklist_contains("+14155550104") and not blacklist_contains("+14155550102")
    assert BlacklistEntry.objects.get(phone="+14155550101").added_by == operator_user


def test_the_page_reports_errors_per_line_and_keeps_refused_lines_in_the_box(db, operator_client):
    page = operator_client.post(URL, {"numbers": "+14155550101\n415-555-0102", "reason": "spam"}).content.decode()
    assert "Added 1: +14155550101" in page
    assert "Line 2 “415-555-0102”: " in page and "dashes" in page
    assert '415-555-0102</textarea>' in page
    assert BlacklistEntry.objects.get().reason == "spam"


def test_search_finds_by_number_or_reason(db, operator_client):
    blacklist_add_many("+14155550101", "chargeback")
    blacklist_add_many("+447700900123", "asked to stop")
    page = operator_client.get(URL, {"q": "4477"}, headers={"HX-Request": "true"}).content.decode()
    assert "+447700900123" in page and "+14155550101" not in page
    page = operator_client.get(URL, {"q": "chargeback"}, headers={"HX-Request": "true"}).content.decode()
    assert "+14155550101" in page and "+447700900123" not in page


def test_the_reason_is_edited_inline_and_the_change_is_recorded(db, operator_client, operator_user):
    blacklist_add_many("+14155550101", "old reason", operator_user)
    entry = BlacklistEntry.objects.get()
    form = operator_client.get(reverse("messaging:blacklist_edit", args=[entry.pk]), headers={"HX-Request": "true"})
    assert 'value="old reason"' in form.content.decode()
    row = operator_client.post(reverse("messaging:blacklist_edit", args=[entry.pk]), {"reason": "new reason"},
                               headers={"HX-Request": "true"}).content.decode()
    assert row.strip().startswith("<tr") and "new reason" in row
    change = BlacklistChange.objects.filter(action="reason_changed").get()
    assert (change.previous_reason, change.reason, change.by) == ("old reason", "new reason", operator_user)


def test_removing_keeps_the_history(db, operator_client, operator_user):
    blacklist_add_many("+14155550101", "spam", operator_user)
    entry = BlacklistEntry.objects.get()
    operator_client.post(reverse("messaging:blacklist_remove", args=[entry.pk]))
    assert not blacklist_contains("+14155550101")
    assert list(BlacklistChange.objects.values_list("action", flat=True)) == ["removed", "added"]
    page = operator_client.get(URL).content.decode()
    assert "removed +14155550101" in page.lower()


def test_a_user_without_a_role_can_neither_see_nor_edit(db, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"numbers": "+14155550101"}).status_code == 403
    assert not BlacklistEntry.objects.exists()
