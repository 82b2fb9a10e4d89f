"""Shared fixtures: the Graph API sandbox, users in each role, a browser, a real Celery worker.

The suite runs against PostgreSQL and Redis (see Makefile: `make test` checks both first).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.roles import sync_roles
from config.celery import app as celery_app
from sandbox.control import SandboxControl
from sandbox.server import start_in_thread

# Playwright's sync API runs an event loop in the test thread; the ORM calls in the same test
# are still synchronous, so Django's async guard must be told this is intended.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"


# --- Graph API sandbox ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sandbox_server():
    server = start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(sandbox_server, settings) -> SandboxControl:
    """A fresh sandbox for this test; the Graph client points at it."""
    settings.GRAPH_API_BASE_URL = sandbox_server.url
    settings.GRAPH_API_BACKOFF_BASE = 0.01  # keep retry tests quick; the schedule itself is tested
    control = SandboxControl(sandbox_server.url)
    control.reset()
    return control


# --- Users in each role ---------------------------------------------------------------------------
def make_user(django_user_model, role: str | None, username: str | None = None):
    user = django_user_model.objects.create_user(username=username or role or "norole", password=PASSWORD)
    if role:
        if not Group.objects.filter(name=role).exists():  # flushed by a transactional test
            sync_roles(Group, Permission, ContentType)
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def operator_user(django_user_model):
    return make_user(django_user_model, "operator")


@pytest.fixture
def admin_user(django_user_model):
    """Overrides pytest-django's superuser: `admin_client` is then logged in with the admin *role*."""
    return make_user(django_user_model, "admin")


@pytest.fixture
def support_user(django_user_model):
    return make_user(django_user_model, "support")


@pytest.fixture
def operator_client(client, operator_user):
    client.force_login(operator_user)
    return client


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


# --- Celery: eager by default, a real worker where a test asks for one ----------------------------
@pytest.fixture(autouse=True)
def _celery_eager(request):
    eager = "worker" not in request.keywords
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def celery_worker_process(transactional_db, sandbox_server, settings):
    """A real `celery worker` (with beat-free prefork children) on Redis, using the test database.

    Tests using it need the `worker` marker and committed data (transactional_db).
    """
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.fail("A real worker needs CELERY_BROKER_URL=redis://… (run the suite through `make test`).")
    redis.Redis.from_url(broker).flushdb()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "GRAPH_API_BASE_URL": sandbox_server.url,
        "GRAPH_API_BACKOFF_BASE": "0.01",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "2", "--without-gossip",
         "--without-mingle", "-l", "WARNING", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if celery_app.control.ping(timeout=0.5):
                break
        except Exception:
            pass
        if proc.poll() is not None:
            pytest.fail(f"celery worker exited: {proc.stdout.read().decode()[-2000:]}")
    else:
        proc.kill()
        pytest.fail("celery worker did not answer a ping within 30 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until predicate() is truthy (for work done by another process)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


# --- Browser --------------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make test` (it installs Debian's chromium) or apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, username: str, password: str = PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
