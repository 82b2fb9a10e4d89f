"""The error catalogue: every code and subcode the issue names has an entry a person can act on."""

import pytest
from django.urls import reverse

from diagnostics import catalogue
from diagnostics.catalogue import DEVELOPER, PLATFORM, lookup

# (code, subcode, expected category, retryable) for every code/subcode of the error reference and the
# common Cloud API codes of graph-api-facts.md.
REFERENCE = [
    (190, None, DEVELOPER, False), (190, 460, PLATFORM, False), (190, 463, PLATFORM, False),
    (190, 467, PLATFORM, False), (100, None, DEVELOPER, False), (100, 33, DEVELOPER, False),
    (100, 2500, DEVELOPER, False), (200, None, DEVELOPER, False), (131047, None, PLATFORM, False),
    (368, None, PLATFORM, False), (4, None, PLATFORM, True), (17, None, PLATFORM, True), (32, None, PLATFORM, True),
    (131000, None, PLATFORM, True), (131026, None, PLATFORM, False),
]
COMMON = [131048, 131056, 130429, 80007, 80008, 131057, 131049, 131050, 131051, 131030, 131031, 131008, 131009,
          131005, 131016, 131021, 132000, 132001, 132005, 132007, 132008, 132012, 132015, 132016, 133010, 0, 3, 10,
          130497, 131052, 131053, 131042, 131045, 135000, 2, 101]


@pytest.mark.parametrize("code, subcode, category, retryable", REFERENCE)
def test_every_reference_error_has_its_own_complete_entry(code, subcode, category, retryable):
    entry = lookup(code, subcode)
    assert (entry.code, entry.subcode) == (code, subcode)
    assert entry.category == category
    assert entry.retryable is retryable
    assert entry.name and len(entry.why) > 40 and entry.prevention
    assert len(entry.fix) >= 1 and all(step.strip() for step in entry.fix)


@pytest.mark.parametrize("code", COMMON)
def test_common_cloud_api_codes_are_catalogued(code):
    entry = lookup(code)
    assert entry is not None and entry.code == code and entry.subcode is None
    assert entry.why and entry.fix and entry.prevention and entry.category in (DEVELOPER, PLATFORM)


def test_subcodes_mean_different_things_and_say_so():
    assert "password" in lookup(190, 460).subcode_meaning
    assert "expired" in lookup(190, 463).subcode_meaning
    assert "invalid" in lookup(190, 467).subcode_meaning
    assert "Bearer" in lookup(190).subcode_meaning
    assert "permission" in lookup(100, 33).subcode_meaning
    assert "missing" in lookup(100, 2500).subcode_meaning


def test_an_unknown_subcode_falls_back_to_its_code():
    assert lookup(190, 999).key == "190"
    assert lookup(100, 1).key == "100"
    assert lookup("131047", "") .key == "131047"  # form input arrives as strings


def test_unknown_or_missing_codes_have_no_entry():
    assert lookup(999999) is None
    assert lookup(None) is None
    assert lookup("not a number") is None


def test_token_errors_link_to_token_rotation_and_window_errors_to_the_contact_and_templates():
    assert lookup(190, 463).action_links[0].url_name == "accounts:overview"
    assert {a.url_name for a in lookup(131047).action_links} == {"consent:contact_list", "messaging:template_list"}
    assert "messaging:blacklist" in {a.url_name for a in lookup(131000).action_links}


def test_every_action_link_resolves():
    for entry in catalogue.ENTRIES:
        for action in entry.action_links:
            assert reverse(action.url_name)


def test_search_finds_entries_by_code_name_or_symptom():
    assert [e.key for e in catalogue.search("463")] == ["190/463"]
    assert "131047" in [e.key for e in catalogue.search("24 hours")]
    assert {e.key for e in catalogue.search("rate limit")} >= {"4", "17", "32", "130429", "80007"}
    assert all(e.category == PLATFORM for e in catalogue.search("", PLATFORM))
    assert catalogue.search("no such symptom anywhere") == []


def test_the_catalogue_page_lists_and_live_searches(support_client):
    page = support_client.get(reverse("diagnostics:catalogue"))
    assert page.status_code == 200
    assert page.content.decode().count('class="catalogue-entry"') == len(catalogue.ENTRIES)
    partial = support_client.get(reverse("diagnostics:catalogue"), {"q": "expired"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and 'data-key="190/463"' in html and 'data-key="368"' not in html
    empty = support_client.get(reverse("diagnostics:catalogue"), {"q": "zzzz"}, HTTP_HX_REQUEST="true")
    assert "No entry matches" in empty.content.decode()
