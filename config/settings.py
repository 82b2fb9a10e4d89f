"""wabadesk settings: everything that varies between machines comes from the environment.

See `.env.example` for every variable with its default. A newcomer's first run needs none of
them: SQLite and a filesystem broker are the defaults. Production must set DEBUG=off, and then
SECRET_KEY and FIELD_ENCRYPTION_KEYS are required.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development-only fallbacks. They are public, so they are refused when DEBUG is off.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="

SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else None)
# Fernet keys, newest first: data is encrypted with the first and decrypted with any of them,
# so the key itself can be rotated (`manage.py rotate_field_key` re-encrypts with the first).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_DEV_FIELD_KEY] if DEBUG else [])
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or _DEV_FIELD_KEY in FIELD_ENCRYPTION_KEYS):
    raise ImproperlyConfigured("The development SECRET_KEY / FIELD_ENCRYPTION_KEYS cannot be used when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "django_filters",
    "django_celery_beat",
    "accounts",
    "consent",
    "messaging",
    "diagnostics",
    "messaging.api",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every view needs a login unless it is marked @login_not_required (webhook, public API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Parallel test runs (several developers on one machine) each name their own test database.
if env("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded CSV files are handed to a worker, so they are written to disk, never kept in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security headers (production) -------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- E-mail (alerts) -----------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="wabadesk@localhost")
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
ALERT_WEBHOOK_URL = env("ALERT_WEBHOOK_URL", default="")

# --- Graph API -----------------------------------------------------------------------------------
GRAPH_API_BASE_URL = env("GRAPH_API_BASE_URL", default="http://127.0.0.1:8001")
GRAPH_API_VERSION = env("GRAPH_API_VERSION", default="v24.0")
GRAPH_API_TIMEOUT = env.float("GRAPH_API_TIMEOUT", default=10.0)
GRAPH_API_MAX_RETRIES = env.int("GRAPH_API_MAX_RETRIES", default=3)
GRAPH_API_BACKOFF_BASE = env.float("GRAPH_API_BACKOFF_BASE", default=1.0)
GRAPH_API_BACKOFF_CAP = env.float("GRAPH_API_BACKOFF_CAP", default=30.0)
WEBHOOK_VERIFY_TOKEN = env("WEBHOOK_VERIFY_TOKEN", default="wabadesk-verify" if DEBUG else "")
# Token health shows a token as "not checked recently" when its last /debug_token is older than this.
TOKEN_CHECK_STALE_HOURS = env.int("TOKEN_CHECK_STALE_HOURS", default=3)
# CSV imports larger than this are refused before anything is read (bytes).
CONSENT_IMPORT_MAX_BYTES = env.int("CONSENT_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# Graph errors older than this are pruned from the diagnostics error log by a daily beat task.
ERROR_LOG_RETENTION_DAYS = env.int("ERROR_LOG_RETENTION_DAYS", default=30)

# --- Sending (see README "Messaging") ------------------------------------------------------------
MESSAGING_MAX_ATTEMPTS = env.int("MESSAGING_MAX_ATTEMPTS", default=8)
# The bucket runs this fraction of a number's limit, so no 1-second window at Meta exceeds it even
# when a POST leaves up to ~40 ms after its slot (a busy worker): 80 sends take 1.04 s, not 1.0 s.
MESSAGING_RATE_SAFETY = env.float("MESSAGING_RATE_SAFETY", default=0.96)
# Slots nobody took in time may be caught up, up to this many seconds' worth of the number's limit
# (at least one message: 1 at 80/s, 10 at 1000/s). A 1-second window then holds at most
# limit × (SAFETY + BURST_SECONDS) at the bucket, 97 % by default.
MESSAGING_RATE_BURST_SECONDS = env.float("MESSAGING_RATE_BURST_SECONDS", default=0.01)
MESSAGING_MAX_INLINE_WAIT = env.float("MESSAGING_MAX_INLINE_WAIT", default=2.0)
MESSAGING_RECONCILE_AFTER = env.int("MESSAGING_RECONCILE_AFTER", default=900)
MESSAGING_RECONCILE_REQUEUE = env.bool("MESSAGING_RECONCILE_REQUEUE", default=True)
# Bulk sends travel as one task per MESSAGING_BATCH_SIZE messages, claimed MESSAGING_CLAIM_GROUP at
# a time (queued → sending before their POSTs; a killed worker leaves at most a group to reconcile).
# A whole batch per claim: at 1000/s, groups of 20 lost up to 6 % of the rate to their extra round trips.
MESSAGING_BATCH_SIZE = env.int("MESSAGING_BATCH_SIZE", default=50)
MESSAGING_CLAIM_GROUP = env.int("MESSAGING_CLAIM_GROUP", default=50)

# --- Celery --------------------------------------------------------------------------------------
# The default broker is a folder on disk, so `make run` needs no server; production uses Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env("CELERY_BROKER_FOLDER", default=str(BASE_DIR / ".broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport expects its folders to exist already.
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        # Its exchange tables, which kombu otherwise writes to ./control wherever the worker starts.
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
else:
    # A message not acked within this time goes back to the queue (Redis visibility timeout).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
# acks_late alone leaves a killed child's task acknowledged; this requeues it.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes Django's database connections after every task unless this is set: a new PostgreSQL
# connection per message. Keep them for this many tasks (Django still drops broken ones).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=200)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Logging -------------------------------------------------------------------------------------
LOG_FORMAT = env("LOG_FORMAT", default="console" if DEBUG else "json")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# structlog renders both structlog events and plain `logging` records; config/logging.py builds it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": LOG_LEVEL},
    "loggers": {"django.server": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
LOGGING_CONFIG = "config.logging.configure"
