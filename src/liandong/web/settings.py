"""Django settings, from the environment. SQLite (WAL) by default with no set-up; PostgreSQL via DATABASE_URL.

Environment: ``DATABASE_URL`` (default ``sqlite:///<LIANDONG_HOME>/liandong.sqlite3``), ``LIANDONG_HOME`` (default
``./var``), ``LIANDONG_SECRET_KEY`` (required unless ``LIANDONG_DEBUG=1``), ``LIANDONG_PAYMENT_SECRET`` (the HMAC key
of the payment provider's webhook), ``LIANDONG_ALLOWED_HOSTS`` (comma-separated), ``LIANDONG_SHOP_FILE`` (the shop's
plans and time zone; the demo shop when unset).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
# The API (web/api): how long a request waits for the worker before answering 202 with a URL to poll; whether the
# request applies the log itself (LIANDONG_INLINE_WORKER=1: tests, a one-process demo; never with a worker running).
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = 300
API_OUTCOME_WAIT_SECONDS = float(os.environ.get("LIANDONG_API_WAIT_SECONDS", "2.0"))
LIANDONG_INLINE_WORKER = os.environ.get("LIANDONG_INLINE_WORKER", "0") == "1"
LOGIN_FAILURES_PER_MINUTE = 5

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
LOGIN_URL = "/accounts/login/"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("LIANDONG_REDIS_URL"):
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                         "LOCATION": os.environ["LIANDONG_REDIS_URL"]}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"liandong": {"handlers": ["console"], "level": os.environ.get("LIANDONG_LOG_LEVEL", "INFO")}},
}
