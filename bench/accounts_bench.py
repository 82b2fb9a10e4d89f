#!/usr/bin/env python
"""Accounts benchmark: how long the 15-minute quality poll takes for a large WABA, and what field
encryption costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wabadesk .venv/bin/python bench/accounts_bench.py
    .venv/bin/python bench/accounts_bench.py --numbers 2000 --page-size 100

Scenarios (each prints wall time and per-number cost):
  sync-create    first sync of N numbers from the sandbox (paged): N inserts + history rows
  sync-steady    the same poll again with nothing changed at Meta (the usual case every 15 minutes)
  sync-degrade   10 % of the numbers drop GREEN → YELLOW: history rows + one alert each
  sync-repeat    the same poll again: no new alert (dedupe), only last_seen_at updates
  encrypt/decrypt one token with MultiFernet (µs per call)

Runs in a throw-away test database (`bench_wd_accounts`) with the Graph API sandbox in a thread.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "ERROR")  # one alert_opened line per degraded number otherwise
os.environ["TEST_DATABASE_NAME"] = "bench_wd_accounts"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    setup_test_environment()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def timed(label, fn, n):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<14} {elapsed * 1000:9.1f} ms   {elapsed / n * 1e6:8.0f} µs/number   {result}")
    return result


def run(args):
    from accounts.fields import decrypt, encrypt
    from accounts.models import WABA, AccessToken, Alert, App
    from accounts.services import phone_numbers_sync
    from sandbox.control import SandboxControl
    from sandbox.server import start_in_thread

    server = start_in_thread()
    settings.GRAPH_API_BASE_URL = server.url
    sandbox = SandboxControl(server.url)
    app_id, secret, waba_id, token = "123456789012345", "bench-secret-0123456789", "1234567890123456", "EAAGbench" + "0" * 40
    sandbox.add_app(app_id, secret)
    sandbox.add_waba(waba_id)
    sandbox.add_token(token, app_id=app_id)
    n = args.numbers
    ids = [f"3{i:014d}" for i in range(n)]
    sandbox.merge(phone_numbers={pid: {"waba_id": waba_id, "display_phone_number": f"+1 555 {i:07d}",
                                       "verified_name": "Bench", "quality_rating": "GREEN",
                                       "messaging_limit": "TIER_10K"} for i, pid in enumerate(ids)})
    app = App.objects.create(app_id=app_id, app_secret=secret)
    waba = WABA.objects.create(waba_id=waba_id, app=app)
    AccessToken.objects.create(waba=waba, token=token, active=True, is_valid=True)
    print(f"{n} numbers, pages of {args.page_size}, database {connection.vendor}")

    timed("sync-create", lambda: phone_numbers_sync(waba, page_size=args.page_size), n)
    timed("sync-steady", lambda: phone_numbers_sync(waba, page_size=args.page_size), n)
    degraded = ids[:: 10]
    sandbox.merge(phone_numbers={pid: {"quality_rating": "YELLOW"} for pid in degraded})
    timed("sync-degrade", lambda: phone_numbers_sync(waba, page_size=args.page_size), n)
    timed("sync-repeat", lambda: phone_numbers_sync(waba, page_size=args.page_size), n)
    print(f"open alerts: {Alert.objects.filter(status='open').count()} (expected {len(degraded)})")

    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        decrypt(encrypt(token))
    print(f"encrypt+decrypt {((time.perf_counter() - start) / rounds) * 1e6:.0f} µs per token")
    server.shutdown()


if __name__ == "__main__":
    main()
