"""Contacts at scale: list/search/filter latency at 1,000,000 contacts and CSV import throughput.

Not a test: it prints figures. Needs PostgreSQL on 127.0.0.1 (its own database, wabadesk_bench).

    .venv/bin/python bench/contacts_bench.py                 # load 1M contacts (once), measure pages + import
    .venv/bin/python bench/contacts_bench.py --rows 200000   # smaller
    .venv/bin/python bench/contacts_bench.py --skip-import   # pages only
    .venv/bin/python bench/contacts_bench.py --skip-pages --ceiling   # the import, and PostgreSQL's own bound

Targets (issue 4): p95 < 100 ms per page at 1M contacts with a constant number of queries per page;
import >= 50,000 rows/s.
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone as dt_timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "wabadesk_bench")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ.update({"DATABASE_URL": f"{PG}/{DB_NAME}", "DEBUG": "1", "LOG_LEVEL": "ERROR",
                   "MEDIA_ROOT": "/tmp/wabadesk_bench_media", "DJANGO_SETTINGS_MODULE": "config.settings"})

FIRST = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Luis",
         "Maya", "Nico", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Ugo", "Vera", "Wen", "Yara", "Zoe"]
LAST = ["Silva", "Stone", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Nakamura", "Okafor", "Svensson",
        "Haddad", "Ivanova", "Novak", "Moreau", "Costa", "Pereira", "Jensen", "Fischer", "Romero", "Lind"]
CHANNELS = ["website_form", "whatsapp_keyword", "paper", "import", "api", "operator"]


def ensure_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def load_contacts(n: int):
    """COPY n synthetic contacts (and one consent event per consented contact) unless already there."""
    from django.db import connection

    from consent.models import Contact
    from messaging.models import BlacklistEntry

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM consent_contact WHERE phone NOT LIKE '+4477%%'")  # not the import's
        if cursor.fetchone()[0] == n:
            print(f"{n:,} contacts already loaded")
            return
        print(f"loading {n:,} contacts with COPY …", flush=True)
        started = time.perf_counter()
        cursor.execute("TRUNCATE consent_contact, consent_consentevent RESTART IDENTITY CASCADE")
        rng = random.Random(4)
        now = datetime.now(dt_timezone.utc)
        with cursor.cursor.copy("COPY consent_contact (phone, name, wa_id, last_inbound_at, consent_state, "
                                "consent_channel, consent_changed_at, created_at, updated_at) FROM STDIN") as copy:
            for i in range(n):
                phone = f"+1{5550000000 + i * 7 % 9999999 + (i // 9999999) * 10000000}"  # unique
                state = rng.choices(["none", "opted_in", "opted_out"], [45, 45, 10])[0]
                inbound = None if rng.random() < 0.4 else now - timedelta(seconds=rng.randint(0, 5 * 86400))
                changed = now - timedelta(days=rng.randint(1, 700)) if state != "none" else None
                copy.write_row((phone, f"{rng.choice(FIRST)} {rng.choice(LAST)}", phone[1:], inbound, state,
                                rng.choice(CHANNELS) if state != "none" else "", changed, now, now))
        cursor.execute("""INSERT INTO consent_consentevent (contact_id, kind, channel, occurred_at, recorded_at,
                            recorded_by_label, note)
                          SELECT id, CASE consent_state WHEN 'opted_in' THEN 'opt_in' ELSE 'opt_out' END,
                                 consent_channel, consent_changed_at, consent_changed_at, 'bench', ''
                            FROM consent_contact WHERE consent_state <> 'none'""")
        cursor.execute("VACUUM ANALYZE consent_contact" if not connection.in_atomic_block else "ANALYZE consent_contact")
        cursor.execute("ANALYZE consent_consentevent")
    BlacklistEntry.objects.all().delete()
    phones = list(Contact.objects.filter(pk__in=random.Random(5).sample(range(1, n), 500)).values_list("phone", flat=True))
    BlacklistEntry.objects.bulk_create([BlacklistEntry(phone=p, reason="bench") for p in phones])
    print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)


def measure(client, url, params, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # warm-up (plans, caches)
    times, queries = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries.add(len(ctx.captured_queries))
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], sorted(queries), response


def explain(params, sort="newest"):
    from django.db import connection

    from consent.selectors import _order, contact_filter

    qs = contact_filter(**{k: v for k, v in params.items() if k not in ("sort", "after")}).order_by(*_order(sort))[:51]
    sql, sql_params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, sql_params)
        plan = [row[0] for row in cursor.fetchall()]
    nodes = [line.strip().split("  (")[0] for line in plan if "Scan" in line or "Join" in line or "Loop" in line]
    return "; ".join(nodes[:4])


def remove_imported():
    """Back to the loaded contacts: drop what an earlier import run added (raw SQL: 1M ORM deletes are slow)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM consent_consentevent WHERE contact_id IN "
                       "(SELECT id FROM consent_contact WHERE phone LIKE '+4477%%')")
        cursor.execute("DELETE FROM consent_contact WHERE phone LIKE '+4477%%'")
        if cursor.rowcount:
            print(f"removed {cursor.rowcount:,} contacts left by an earlier import run", flush=True)
        cursor.execute("VACUUM ANALYZE consent_contact")
        cursor.execute("VACUUM ANALYZE consent_consentevent")


def bench_pages(repeat):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from accounts.roles import sync_roles
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    sync_roles(Group, Permission, ContentType)
    user, _ = get_user_model().objects.get_or_create(username="bench-operator")
    user.groups.add(Group.objects.get(name="operator"))
    client = Client()
    client.force_login(user)
    url = reverse("consent:contact_list")
    scenarios = [
        ("list, first page", {}),
        ("phone fragment '5550123' (rare)", {"q": "5550123"}),
        ("phone fragment '555' (matches most)", {"q": "555"}),
        ("name search 'silva'", {"q": "silva"}),
        ("filter opted_in + paper + window open", {"state": "opted_in", "channel": "paper", "window": "open"}),
        ("filter window closed", {"window": "closed"}),
        ("filter blacklisted", {"blacklisted": "yes"}),
        ("sort by name", {"sort": "name"}),
        ("sort by last message", {"sort": "-last_inbound"}),
    ]
    print(f"\n{'page':<42} {'p50 ms':>8} {'p95 ms':>8}  queries  plan (EXPLAIN ANALYZE)")
    for label, params in scenarios:
        p50, p95, queries, response = measure(client, url, params, repeat)
        print(f"{label:<42} {p50:8.1f} {p95:8.1f}  {queries}  {explain(params, params.get('sort', 'newest'))}")
    # Deep pages: follow the cursor 50 pages in, then time that page.
    for label, params in [("list, page 51 (keyset)", {}), ("sort by name, page 51", {"sort": "name"})]:
        response = client.get(url, params)
        for _ in range(50):
            params = {**params, "after": re.search(r'rel="next" href="[^"]*after=([\w-]+)', response.content.decode())[1]}
            response = client.get(url, params)
        p50, p95, queries, _ = measure(client, url, params, repeat)
        print(f"{label:<42} {p50:8.1f} {p95:8.1f}  {queries}")
    export = client.get(reverse("consent:contact_export"), {"state": "opted_out", "channel": "paper"})
    started = time.perf_counter()
    lines = sum(chunk.count(b"\n") for chunk in export.streaming_content)
    elapsed = time.perf_counter() - started
    print(f"{'CSV export (opted_out + paper), streamed':<42} {lines - 1:,} rows in {elapsed:.2f} s "
          f"({(lines - 1) / elapsed:,.0f} rows/s)")


def bench_import(rows):
    from django.conf import settings

    from consent.models import Contact, ConsentEvent, ImportJob
    from consent.services import contact_import_run

    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{rows}.csv"
    if not path.exists():
        rng = random.Random(9)
        with open(path, "w", encoding="utf-8") as f:
            f.write("phone,name,consent,channel,consented_at,note\n")
            for i in range(rows):
                consent = rng.choice(["opt_in", "opt_in", "opt_out", ""])
                when = f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z" if consent else ""
                f.write(f"+4477{i:08d},{rng.choice(FIRST)} {rng.choice(LAST)},{consent},"
                        f"{rng.choice(CHANNELS) if consent else ''},{when},\n")
    size = path.stat().st_size
    remove_imported()  # start from "none of these contacts exist"
    for attempt in ("first import", "same file again"):
        job = ImportJob.objects.create(file=f"imports/{path.name}", original_name=path.name, size=size)
        before = (Contact.objects.count(), ConsentEvent.objects.count()) if attempt != "first import" else None
        started = time.perf_counter()
        job = contact_import_run(job.pk)
        elapsed = time.perf_counter() - started
        print(f"import {attempt:<16} {rows:,} rows ({size / 1e6:.0f} MB) in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s"
              f"  [status {job.status}, imported {job.rows_imported:,}, invalid {job.rows_invalid:,}]", flush=True)
        if before:
            after = (Contact.objects.count(), ConsentEvent.objects.count())
            print(f"  re-import changed counts: contacts {before[0]:,} → {after[0]:,}, events {before[1]:,} → {after[1]:,}")


def bench_ceiling(rows):
    """What PostgreSQL alone can do on this machine: `rows` contacts generated inside the server and
    inserted with one INSERT … SELECT into the contacts table with all its indexes, then a consent
    event for 3 in 4 of them (as the import file has), in one backend, then in two backends at once
    (half each). No parsing, no validation, no staging, no upsert: an upper bound for the import. The
    rows are removed afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    first, last = (", ".join(f"'{n}'" for n in names) for names in (FIRST, LAST))
    contacts = f"""
        INSERT INTO consent_contact (phone, name, wa_id, consent_state, consent_channel, consent_changed_at,
                                     created_at, updated_at)
        SELECT '+4488' || lpad(g::text, 8, '0'),
               (ARRAY[{first}])[1 + g %% {len(FIRST)}] || ' ' || (ARRAY[{last}])[1 + (g / 7) %% {len(LAST)}],
               '', 'opted_in', 'import', now(), now(), now()
          FROM generate_series(%(lo)s::int, %(hi)s::int) g"""
    events = """
        INSERT INTO consent_consentevent (contact_id, kind, channel, occurred_at, recorded_at, recorded_by_label,
                                          note, dedupe_key)
        SELECT id, 'opt_in', 'import', now(), now(), 'ceiling', '', encode(sha256(phone::bytea), 'hex')
          FROM consent_contact
         WHERE phone BETWEEN '+4488' || lpad(%(lo)s::text, 8, '0') AND '+4488' || lpad(%(hi)s::text, 8, '0')
           AND id %% 4 <> 0"""

    def run(lo, hi) -> tuple[float, float]:
        with psycopg.connect(f"{PG}/{DB_NAME}") as conn:
            conn.execute("SET synchronous_commit TO OFF")  # as the import's batches
            conn.execute("SET jit TO OFF")
            started = time.perf_counter()
            conn.execute(contacts, {"lo": lo, "hi": hi})
            between = time.perf_counter()
            conn.execute(events, {"lo": lo, "hi": hi})
            return between - started, time.perf_counter() - between

    with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
        for backends in (1, 2):
            conn.execute("CHECKPOINT")
            share = rows // backends
            started = time.perf_counter()
            with ThreadPoolExecutor(backends) as pool:
                # .result() re-raises: an error stops the bench instead of printing a rate
                parts = [done.result() for done in [pool.submit(run, i * share, (i + 1) * share - 1)
                                                    for i in range(backends)]]
            elapsed = time.perf_counter() - started
            detail = f" (contacts {parts[0][0]:.1f} s, events {parts[0][1]:.1f} s)" if backends == 1 else ""
            print(f"ceiling, {backends} backend(s): {rows:,} contacts and their events inserted inside PostgreSQL in "
                  f"{elapsed:.1f} s{detail} = {rows / elapsed:,.0f} rows/s", flush=True)
            conn.execute("DELETE FROM consent_consentevent WHERE recorded_by_label = 'ceiling'")
            conn.execute("DELETE FROM consent_contact WHERE phone LIKE '+4488%'")
            conn.execute("VACUUM ANALYZE consent_contact")
            conn.execute("VACUUM ANALYZE consent_consentevent")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the import file")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--ceiling", action="store_true", help="also time inserts generated inside PostgreSQL "
                                                               "(one and two backends): the import's upper bound")
    parser.add_argument("--fresh", action="store_true", help="drop the bench database first (no index bloat "
                                                             "from earlier delete/re-import cycles)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start (other work shares them)")
    if args.fresh:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load_contacts(args.contacts)
    if not args.skip_pages:
        remove_imported()
        print(f"\npages at {args.contacts:,} contacts (the target)")
        bench_pages(args.repeat)
    if args.ceiling:
        print()
        remove_imported()
        bench_ceiling(args.rows)
    if not args.skip_import:
        print()
        bench_import(args.rows)
        if not args.skip_pages:
            print(f"\npages after the import: {args.contacts + args.rows:,} contacts, the newest {args.rows:,} "
                  "imported (never wrote, 75 % with a consent)")
            bench_pages(args.repeat)


if __name__ == "__main__":
    main()
