"""Kefu settings: every value comes from a ``KEFU_*`` environment variable with a safe default.

The full list, with meanings and defaults, is in ``docs/settings.md`` and ``.env.example``.
With no variables set, Kefu runs on SQLite in ``./var`` with console e-mail.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from kefu.lib.env import (
    ConfigurationError,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_str,
)
from kefu.lib.secrets_file import read_or_create_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("KEFU_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules or env_bool("KEFU_TESTING", False)

DEBUG = env_bool("KEFU_DEBUG", False)
HTTPS = env_bool("KEFU_HTTPS", not DEBUG)

SECRET_KEY = env_str("KEFU_SECRET_KEY") or read_or_create_key(DATA_DIR / "secret_key")
ENCRYPTION_KEY = env_str("KEFU_ENCRYPTION_KEY") or read_or_create_key(
    DATA_DIR / "encryption_key", fernet=True
)

PORT = env_int("KEFU_PORT", 8000)
HOST = env_str("KEFU_HOST", "127.0.0.1")
SITE_URL = env_str("KEFU_SITE_URL", f"http://localhost:{PORT}").rstrip("/")
SITE_NAME = env_str("KEFU_SITE_NAME", "Kefu")

ALLOWED_HOSTS = env_list("KEFU_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("KEFU_CSRF_TRUSTED_ORIGINS", [])
# X-Forwarded-For counts (for throttles and the audit log) only on connections from these
# addresses or networks; see kefu/lib/client_address.py.
TRUSTED_PROXIES = env_networks("KEFU_TRUSTED_PROXIES", [])
if env_bool("KEFU_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "kefu.lib",
    "kefu.realtime",
    "kefu.search",
    "kefu.accounts",
    "kefu.audit",
    "kefu.customers",
    "kefu.tickets",
    "kefu.intake",
    # Ticket-event handlers run in this order: the SLA clock starts first, then routing may
    # change group/priority/assignee (the clock recomputes), then triggers see the routed ticket.
    "kefu.sla",
    "kefu.routing",
    "kefu.automation",
    "kefu.triage",
    "kefu.notifications",
    "kefu.portal",
    "kefu.privacy",
    "kefu.api",
    "kefu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kefu.api.middleware.ApiJsonErrorsMiddleware",
    "kefu.api.middleware.ApiAttachmentBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "kefu.lib.text.CleanQueryStringMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kefu.accounts.middleware.UserPreferencesMiddleware",
    "kefu.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kefu.urls"
ASGI_APPLICATION = "kefu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.accounts.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("KEFU_DATABASE_URL")
if DATABASE_URL:
    _database = database_from_url(DATABASE_URL)
    # Django's pool (psycopg 3) instead of persistent connections, which leak under ASGI.
    if env_bool("KEFU_DATABASE_POOL", not TESTING):
        _database["OPTIONS"].setdefault("pool", {"min_size": 1, "max_size": 10, "timeout": 10})
    _database["CONN_MAX_AGE"] = 0
    # Server-side parameters, so that psycopg prepares a statement the fifth time it runs: the
    # ticket list and ticket page join ten tables, and planning them cost more than running them.
    # Off for a transaction-mode connection pooler (PgBouncer < 1.21), which cannot keep them.
    if env_bool("KEFU_DATABASE_PREPARED", True):
        _database["OPTIONS"].setdefault("server_side_binding", True)
        _database["OPTIONS"].setdefault("prepare_threshold", 5)
else:
    _database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "kefu.sqlite3",
        "OPTIONS": {
            # WAL + IMMEDIATE: web, worker and tick write to one file without "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, realtime ------------------------------------------------------------------------
REDIS_URL = env_str("KEFU_REDIS_URL")
# A Redis that does not answer must fail fast: without timeouts a request would wait for the
# operating system's TCP timeout (minutes). What degrades how: docs/administration.md.
REDIS_TIMEOUT_SECONDS = 2
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("KEFU_REDIS_PREFIX", "kefu"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # No socket_timeout here: a live connection waits in blocking reads by design.
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}],
                "prefix": env_str("KEFU_REDIS_PREFIX", "kefu") + ":channels",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Jobs -----------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
JOB_MAX_ATTEMPTS = env_int("KEFU_JOB_MAX_ATTEMPTS", 5)
JOB_STALE_AFTER_SECONDS = env_int("KEFU_JOB_STALE_AFTER_SECONDS", 900)
TICK_INTERVAL_SECONDS = env_int("KEFU_TICK_INTERVAL_SECONDS", 30)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("KEFU_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("KEFU_LOGIN_LOCKOUT_SECONDS", 900)
PASSWORD_RESET_TIMEOUT = env_int("KEFU_INVITATION_VALID_DAYS", 7) * 86400
SESSION_COOKIE_AGE = env_int("KEFU_SESSION_DAYS", 14) * 86400
# Customer self sign-up on the portal: off, on, or domain (only addresses at a customer
# organisation's domain or at PORTAL_SIGNUP_DOMAINS). See docs/portal.md.
PORTAL_SIGNUP = env_str("KEFU_PORTAL_SIGNUP", "off").strip().lower()
if PORTAL_SIGNUP not in ("off", "on", "domain"):
    raise ConfigurationError("KEFU_PORTAL_SIGNUP must be off, on or domain")
PORTAL_SIGNUP_DOMAINS = [d.lower().lstrip("@") for d in env_list("KEFU_PORTAL_SIGNUP_DOMAINS", [])]
PORTAL_SIGNUP_LINK_HOURS = env_int("KEFU_PORTAL_SIGNUP_LINK_HOURS", 48)

# --- Languages and time ---------------------------------------------------------------------
LANGUAGE_CODE = env_str("KEFU_LANGUAGE", "en")
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "kefu" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("KEFU_TIME_ZONE", "Asia/Shanghai")

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from the finders; it only warns without this
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "uploads"
MAX_UPLOAD_BYTES = env_int("KEFU_MAX_UPLOAD_MB", 25) * 1024 * 1024
# Every request's body but files in a multipart form; the API routes that carry base64
# attachments have their own limit (kefu/api/middleware.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
BLOCKED_UPLOAD_EXTENSIONS = env_list(
    "KEFU_BLOCKED_UPLOAD_EXTENSIONS",
    ["exe", "bat", "cmd", "com", "scr", "msi", "ps1", "vbs", "jar", "dll", "sh", "app"],
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- E-mail ---------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("KEFU_FROM_EMAIL", "Kefu <support@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_smtp_url = env_str("KEFU_SMTP_URL")
if _smtp_url:
    globals().update(email_from_url(_smtp_url))
else:
    EMAIL_BACKEND = env_str("KEFU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# --- API ------------------------------------------------------------------------------------
IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600
API_THROTTLE_PER_MINUTE = env_int("KEFU_API_THROTTLE_PER_MINUTE", 600)
NINJA_PAGINATION_MAX_LIMIT = 100

# --- Tickets --------------------------------------------------------------------------------
TICKET_NUMBER_START = env_int("KEFU_TICKET_NUMBER_START", 10001)
# A parent ticket cannot be resolved or closed while one of its child tickets is still open.
CHILDREN_BLOCK_PARENT_RESOLVE = env_bool("KEFU_CHILDREN_BLOCK_PARENT_RESOLVE", True)

# --- Notifications (kefu.notifications) -----------------------------------------------------
# An unassigned, unanswered ticket notifies its group after this many minutes (0: never);
# a group can override it.
NOTIFY_WAITING_AFTER_MINUTES = env_int("KEFU_NOTIFY_WAITING_AFTER_MINUTES", 30)

# --- Automation (kefu.automation) ----------------------------------------------------------
# Outgoing webhooks refuse private, loopback and link-local targets (SSRF) except these hosts.
WEBHOOK_ALLOWED_HOSTS = env_list("KEFU_WEBHOOK_ALLOWED_HOSTS", [])

# --- E-mail channel (kefu.intake) -----------------------------------------------------------
# A customer's mail to a resolved ticket reopens it within this many days; later, or when the
# ticket is closed, it opens a new ticket that refers to the old one.
REOPEN_WINDOW_DAYS = env_int("KEFU_REOPEN_WINDOW_DAYS", 14)
MAX_INBOUND_EMAIL_MB = env_int("KEFU_MAX_INBOUND_EMAIL_MB", 30)
AUTO_MAIL_PER_ADDRESS_PER_HOUR = env_int("KEFU_AUTO_MAIL_PER_ADDRESS_PER_HOUR", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("KEFU_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        # One line per job run would bury everything else; failures are still logged.
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}

if not DEBUG and not TESTING and SECRET_KEY in ("", "change-me"):
    raise ConfigurationError("KEFU_SECRET_KEY must be set to a random value")
