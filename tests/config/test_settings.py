"""Production settings refuse to start without secrets and send the security headers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_KEY = "cHJvZC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy0xMjM="


def load_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=60,
    )


def test_secret_key_is_required_when_debug_is_off():
    result = load_settings(DEBUG="0", FIELD_ENCRYPTION_KEYS=PROD_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_field_encryption_key_is_required_when_debug_is_off():
    result = load_settings(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr


def test_the_development_keys_are_refused_in_production():
    result = load_settings(DEBUG="0", SECRET_KEY="dev-only-insecure-secret-key-never-use-in-production",
                           FIELD_ENCRYPTION_KEYS=PROD_KEY)
    assert result.returncode != 0 and "cannot be used when DEBUG is off" in result.stderr


def test_production_turns_on_secure_cookies_and_hsts():
    result = load_settings(DEBUG="0", SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEYS=PROD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "31536000"]


@pytest.mark.django_db
def test_security_headers_outside_debug(client, settings):
    settings.DEBUG = False
    response = client.get("/login/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
