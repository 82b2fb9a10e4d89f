"""Reads for contacts and consent: the consent rule, search with keyset pagination, export rows."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consent.models import WINDOW, Contact, ConsentEvent

PAGE_SIZE = 50


def contact_can_send(contact: Contact) -> bool:
    """THE consent rule: we may message a contact only while their latest consent event is an opt-in.

    "Latest" is by the time the consent was given, not by when we learnt it, and an opt-out at the
    same instant as an opt-in wins (ConsentEvent.LATEST_FIRST); consent.services keeps
    `consent_state` equal to that event in the same transaction as every write.
    """
    return contact.consent_state == Contact.ConsentState.OPTED_IN


# contact_can_send for many contacts at once, in SQL (a broadcast's counts): the same rule, keep in step.
CAN_SEND = Q(consent_state=Contact.ConsentState.OPTED_IN)


def consent_deciding_event() -> QuerySet:
    """The event that decides a contact's state, for use as a subquery (OuterRef("pk") is the contact)."""
    return ConsentEvent.objects.filter(contact_id=OuterRef("pk")).order_by(*ConsentEvent.LATEST_FIRST)


def consent_timeline(contact: Contact):
    return contact.consent_events.select_related("recorded_by").order_by(*ConsentEvent.LATEST_FIRST)


# --- Search and pagination -------------------------------------------------------------------------
# Each sort is (column, descending?, nullable?). Every one ends with id, so the order is total and a
# page boundary is a single (value, id) cursor: the next page is an index range scan, whatever its depth.
SORTS = {
    "newest": ("id", True, False),
    "oldest": ("id", False, False),
    "phone": ("phone", False, False),
    "-phone": ("phone", True, False),
    "name": ("name", False, False),
    "-name": ("name", True, False),
    "-last_inbound": ("last_inbound_at", True, True),
}
SORT_LABELS = {
    "newest": "Newest first", "oldest": "Oldest first", "phone": "Phone ↑", "-phone": "Phone ↓",
    "name": "Name A→Z", "-name": "Name Z→A", "-last_inbound": "Last message (recent first)",
}


# A phone fragment matching at most this many contacts is read whole through the trigram index.
PHONE_FRAGMENT_RARE = 2000


def _phone_fragment(contacts: QuerySet, digits: str) -> QuerySet:
    """Contacts whose phone contains `digits`. The best plan depends on how many match, which
    PostgreSQL can only guess for a LIKE '%…%' (from a sample of a unique column: one run it guessed
    1,926 for a fragment matching 100, and chose the newest-first scan, which then read all 1,000,000
    rows to fill a page: 600 ms). So ask the trigram index first, with a cap: a rare fragment (a
    number, or most of one: the usual search) becomes a list of ids, a page of which is read by
    primary key; a common one ("555") keeps the newest-first scan, which stops after one page."""
    matching = contacts.filter(phone__icontains=digits)
    ids = list(matching.order_by().values_list("id", flat=True)[:PHONE_FRAGMENT_RARE + 1])
    return contacts.filter(id__in=ids) if len(ids) <= PHONE_FRAGMENT_RARE else matching


def contact_filter(*, q="", state="", channel="", window="", blacklisted="", now: datetime | None = None) -> QuerySet:
    """Contacts matching the list's search box and filters (unordered)."""
    contacts = Contact.objects.all()
    q = (q or "").strip()
    if q:
        # A query that looks like a phone fragment searches the phone only (digits, with or without +).
        digits = q.replace(" ", "").replace("-", "")
        if digits.lstrip("+").isdigit():
            contacts = _phone_fragment(contacts, digits)
        else:
            contacts = contacts.filter(name__icontains=q)
    if state:
        contacts = contacts.filter(consent_state=state)
    if channel:
        contacts = contacts.filter(consent_channel=channel)
    if window in ("open", "closed"):
        opened_after = (now or timezone.now()) - WINDOW
        is_open = Q(last_inbound_at__gt=opened_after)
        contacts = contacts.filter(is_open) if window == "open" else contacts.exclude(is_open)
    if blacklisted in ("yes", "no"):
        from messaging.models import BlacklistEntry

        listed = Exists(BlacklistEntry.objects.filter(phone=OuterRef("phone")))
        contacts = contacts.filter(listed) if blacklisted == "yes" else contacts.filter(~listed)
    return contacts


def _order(sort: str, backwards: bool = False) -> list:
    """The ORDER BY of `sort`; backwards is its exact reverse (nulls first), which PostgreSQL reads
    from the same index scanned the other way."""
    from django.db.models import F

    column, desc, nullable = SORTS[sort]
    desc = desc != backwards
    if column == "id":
        return ["-id" if desc else "id"]
    f = F(column)
    # Nulls (contacts who never wrote) always come last, so first when reading backwards.
    primary = (f.desc if desc else f.asc)(**({"nulls_first": True} if backwards else {"nulls_last": True}))
    return [primary, "-id" if desc else "id"]


def _after(contacts: QuerySet, sort: str, cursor: tuple, backwards: bool = False) -> QuerySet:
    """Rows strictly after `cursor` = (value, id) in the order of `sort`, or strictly before it."""
    column, desc, nullable = SORTS[sort]
    value, last_id = cursor
    lt, lte = ("lt", "lte") if desc != backwards else ("gt", "gte")
    if column == "id":
        return contacts.filter(**{f"id__{lt}": last_id})
    if value is None:  # among the trailing nulls
        among_nulls = Q(**{f"{column}__isnull": True, f"id__{lt}": last_id})
        return contacts.filter(among_nulls | Q(**{f"{column}__isnull": False}) if backwards else among_nulls)
    # The redundant `column >= value` bound is what lets the database use the (column, id) index range.
    after = Q(**{f"{column}__{lte}": value}) & (Q(**{f"{column}__{lt}": value}) | Q(**{column: value, f"id__{lt}": last_id}))
    if nullable and not backwards:
        after |= Q(**{f"{column}__isnull": True})
    return contacts.filter(after)


def encode_cursor(sort: str, contact: Contact) -> str:
    column = SORTS[sort][0]
    value = getattr(contact, column)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, contact.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, token: str) -> tuple | None:
    """None for a missing or tampered cursor (the list then starts at the first page)."""
    if not token:
        return None
    try:
        value, last_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if SORTS[sort][0] == "last_inbound_at" and value is not None:
            value = parse_datetime(value)
        return value, int(last_id)
    except (ValueError, TypeError, json.JSONDecodeError, KeyError):
        return None


@dataclass
class ContactPage:
    contacts: list[Contact]
    next_cursor: str
    sort: str
    is_first: bool
    previous_cursor: str = ""  # a `before` cursor: the page that ends just before this one


def contact_page(contacts: QuerySet, *, sort="newest", after="", before="", size=PAGE_SIZE) -> ContactPage:
    """One page of `contacts` by keyset: one query, no COUNT, constant cost at any depth. `after`
    gives the page following a cursor, `before` the page preceding one (read backwards, then turned)."""
    sort = sort if sort in SORTS else "newest"
    backwards = not after and bool(before)
    cursor = decode_cursor(sort, before if backwards else after)
    qs = contacts.order_by(*_order(sort, backwards))
    if cursor:
        qs = _after(qs, sort, cursor, backwards)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        if not more:  # reached the start: show the real first page (full, even if rows were added)
            return contact_page(contacts, sort=sort, size=size)
        rows.reverse()
        return ContactPage(contacts=rows, next_cursor=encode_cursor(sort, rows[-1]), sort=sort, is_first=False,
                           previous_cursor=encode_cursor(sort, rows[0]))
    return ContactPage(contacts=rows, next_cursor=encode_cursor(sort, rows[-1]) if more else "", sort=sort,
                       is_first=cursor is None, previous_cursor=encode_cursor(sort, rows[0]) if cursor and rows else "")


def contact_count_estimate() -> int | None:
    """All contacts, estimated from PostgreSQL's statistics (an exact COUNT over millions of rows on
    every page view is what makes lists slow). Exact on other databases, where tables are small."""
    if connection.vendor != "postgresql":
        return Contact.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Contact._meta.db_table])
        row = cursor.fetchone()
    if not row or row[0] < 0:  # never analysed yet
        return None
    return int(row[0])


# A cell a spreadsheet would run as a formula. Names come from WhatsApp profiles, which anyone sets:
# "=HYPERLINK(...)" must open as text. The import takes the quote off again (consent.services).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_text_read(value: str) -> str:
    """A cell as csv_text wrote it, back to the value."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def contact_export_rows(contacts: QuerySet, now: datetime | None = None):
    """Rows of the CSV export (header first), streamed from the database in chunks."""
    now = now or timezone.now()
    yield ["phone", "name", "wa_id", "consent_state", "consent_channel", "consent_changed_at", "last_inbound_at",
           "window"]
    for c in contacts.order_by("id").iterator(chunk_size=2000):
        yield [c.phone, csv_text(c.name), c.wa_id, c.consent_state, c.consent_channel,
               c.consent_changed_at.isoformat() if c.consent_changed_at else "",
               c.last_inbound_at.isoformat() if c.last_inbound_at else "",
               "open" if c.window(now).is_open else "closed"]
