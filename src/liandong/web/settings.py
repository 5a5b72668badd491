"""Django settings, from the environment. SQLite (WAL) by default with no set-up; PostgreSQL via DATABASE_URL.

Environment: ``DATABASE_URL`` (default ``sqlite:///<LIANDONG_HOME>/liandong.sqlite3``), ``LIANDONG_HOME`` (default
``./var``), ``LIANDONG_SECRET_KEY`` (required unless ``LIANDONG_DEBUG=1``), ``LIANDONG_PAYMENT_SECRET`` (the HMAC key
of the payment provider's webhook), ``LIANDONG_ALLOWED_HOSTS`` (comma-separated), ``LIANDONG_SHOP_FILE`` (the shop's
plans and time zone; the demo shop when unset), ``LIANDONG_REDIS_URL`` (the cache, for the limits' counters;
the database when unset).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from liandong.engine.i18n import LOCALE_DIR

BASE_DIR = Path(__file__).resolve().parent
HOME = Path(os.environ.get("LIANDONG_HOME", "var")).resolve()
HOME.mkdir(parents=True, exist_ok=True)
DEBUG = os.environ.get("LIANDONG_DEBUG", "0") == "1"

SECRET_KEY = os.environ.get("LIANDONG_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("set LIANDONG_SECRET_KEY (or LIANDONG_DEBUG=1 for a local demo)")
    SECRET_KEY = "liandong-local-demo-key-not-for-production"
PAYMENT_SECRET = os.environ.get("LIANDONG_PAYMENT_SECRET", "demo-payment-secret" if DEBUG else "")
# the HMAC key of the proof of liabilities' salts (docs/proof-of-liabilities.md); empty: derived from SECRET_KEY
LIABILITIES_SECRET = os.environ.get("LIANDONG_LIABILITIES_SECRET", "")
# The API (web/api): how long a request waits for the worker before answering 202 with a URL to poll; whether the
# request applies the log itself (LIANDONG_INLINE_WORKER=1: tests, a one-process demo; never with a worker running).
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 300
API_OUTCOME_WAIT_SECONDS = float(os.environ.get("LIANDONG_API_WAIT_SECONDS", "2.0"))
#: The income notices' stream (``api/notices.py``): how long one response lasts before the browser reconnects, and
#: how often it looks for new notices and sends a heartbeat.
NOTICE_STREAM_SECONDS = float(os.environ.get("LIANDONG_NOTICE_STREAM_SECONDS", "55"))
NOTICE_POLL_SECONDS = float(os.environ.get("LIANDONG_NOTICE_POLL_SECONDS", "0.5"))
NOTICE_HEARTBEAT_SECONDS = 15.0
LIANDONG_INLINE_WORKER = os.environ.get("LIANDONG_INLINE_WORKER", "0") == "1"
# Limits per client address (web/api/ratelimit.py, docs/api.md). Logins: django-axes, counted in the database
# (every web process sees the same failures); a lockout lasts LOGIN_LOCKOUT_MINUTES after the last failure.
LOGIN_FAILURES_PER_USERNAME = 5  # one username from one address
LOGIN_FAILURES_PER_CLIENT = 20  # one address, any usernames (spraying)
LOGIN_LOCKOUT_MINUTES = 15
REGISTRATIONS_PER_CLIENT_PER_HOUR = 20  # register requests, whatever their outcome
INVITE_FAILURES_PER_CLIENT_PER_HOUR = 10  # invite codes that were not valid

ALLOWED_HOSTS = [h for h in os.environ.get("LIANDONG_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "liandong.service.store",
    "liandong.web.accounts",
    "liandong.web.api",
    "liandong.web.pages",
    "liandong.web.office",
    "ninja",  # its Swagger UI's files, served from here (no CDN): /api/docs works without the internet
    "axes",
]

MIDDLEWARE = [
    "liandong.web.api.middleware.ApiErrorsAsJson",  # first: it sees every answer under /api/
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files (the admin's, Swagger UI's) under `liandong serve`
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # a login form under a lockout answers ratelimit.lockout_response
    "liandong.web.signals.DeviceCookie",  # the fraud holds' first-party device id (web/signals.py)
]

AUTHENTICATION_BACKENDS = [
    "liandong.web.api.ratelimit.LoginLimitBackend",  # first: refuses while a login limit is reached
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_USERNAME
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "liandong.web.api.ratelimit.client_address"
AXES_LOCKOUT_CALLABLE = "liandong.web.api.ratelimit.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]  # a client-sent X-Forwarded-For is never believed

ROOT_URLCONF = "liandong.web.urls"
WSGI_APPLICATION = "liandong.web.wsgi.application"

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
                "liandong.web.pages.context.layout",
            ]
        },
    }
]

_default_db = f"sqlite:///{HOME / 'liandong.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the busy timeout makes writers wait, not fail.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The one catalogue of every text (the engine's, the API's, the pages'): liandong/locale (docs/i18n.md)
LOCALE_PATHS = [LOCALE_DIR]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves the static files of the installed apps (the admin's, ninja's Swagger UI) straight from the
# packages (no `collectstatic` needed), with DEBUG off too.
WHITENOISE_USE_FINDERS = True
# the dashboard's charting library, from the installed plotly package (office/vendor.py)
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "liandong.web.office.vendor.PlotlyFinder",
]
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
LOGIN_URL = "/login"

# The limits' counters (registrations, invite codes) must be shared by every web process: the database (its table
# is made by a migration of web/api), or Redis with LIANDONG_REDIS_URL (redis://host:6379/0).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "liandong_cache",
                     "OPTIONS": {"MAX_ENTRIES": 100_000}}}  # Django's 300 would cull live counters
if os.environ.get("LIANDONG_REDIS_URL"):
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                         "LOCATION": os.environ["LIANDONG_REDIS_URL"]}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"liandong": {"handlers": ["console"], "level": os.environ.get("LIANDONG_LOG_LEVEL", "INFO")}},
}
