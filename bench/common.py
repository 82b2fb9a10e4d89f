"""Helpers shared by the benchmark scripts that start their own processes."""

import base64
import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database(name: str, env: dict) -> None:
    """Create the benchmark's own PostgreSQL database if missing, then migrate it."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


# Bench-only secrets, so that the processes a benchmark starts run with DEBUG off, as in production
# (DEBUG on keeps every query's SQL and timing, and logs to the console). Fixed, so that what a bench
# database stores encrypted stays readable across runs.
PRODUCTION_SETTINGS = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-" + hashlib.sha256(b"wabadesk-bench-secret").hexdigest(),
    "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(hashlib.sha256(b"wabadesk-api-bench-only").digest()).decode(),
    "SECURE_SSL_REDIRECT": "0",
}


def bench_env(*, db: str, broker_db: int, cache_db: int, sandbox_port: int, **overrides: str) -> dict:
    """The environment of a benchmark and the processes it starts: its own PostgreSQL database and
    Redis DBs, the Graph API pointed at its sandbox, production settings, quiet logs, persistent
    connections."""
    return {
        **os.environ,
        **PRODUCTION_SETTINGS,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{broker_db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{cache_db}",
        "GRAPH_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "LOG_LEVEL": "ERROR",
        "CONN_MAX_AGE": "60",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **overrides,
    }


def seed_sender(**phone_fields):
    """In the bench's database (Django set up): the sandbox's demo app, WABA and main phone number
    (with `phone_fields`), one active System User token, and the demo templates. Returns the number."""
    from django.utils import timezone

    from accounts.models import WABA, AccessToken, App, PhoneNumber
    from messaging.models import Template
    from sandbox import demo

    app, _ = App.objects.update_or_create(app_id=demo.APP_ID, defaults={"name": "bench", "app_secret": demo.APP_SECRET})
    waba, _ = WABA.objects.update_or_create(waba_id=demo.WABA_ID, defaults={"name": "bench", "app": app})
    phone, _ = PhoneNumber.objects.update_or_create(phone_number_id=demo.PHONE_MAIN,
                                                    defaults={"waba": waba, **phone_fields})
    AccessToken.objects.filter(waba=waba).delete()
    AccessToken.objects.create(waba=waba, token=demo.SYSTEM_USER_TOKEN, token_type="SYSTEM_USER", is_valid=True,
                               active=True, scopes=["whatsapp_business_messaging"], activated_at=timezone.now())
    for t in demo.TEMPLATES:
        Template.objects.update_or_create(waba_id=demo.WABA_ID, name=t["name"], language=t["language"],
                                          defaults={"category": t["category"], "status": t["status"],
                                                    "components": t["components"]})
    return phone
