"""Settings for the test suite: the service's own settings (SQLite by default, PostgreSQL with ``DATABASE_URL``),
with a test secret, a private ``LIANDONG_HOME`` and, on SQLite, a test database in a file (WAL: threads of a
concurrency test each get a connection; an in-memory database would serialise them with table locks). On
PostgreSQL the test database is named after the process (``test_test_<pid>``)."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("LIANDONG_SECRET_KEY", "liandong-test-key-not-for-production")
os.environ.setdefault("LIANDONG_PAYMENT_SECRET", "liandong-test-payment-secret")
os.environ.setdefault("LIANDONG_HOME", tempfile.mkdtemp(prefix="liandong-test-"))

from .settings import *  # noqa: F403
from .settings import DATABASES, HOME

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(HOME / "test.sqlite3")}
else:  # one test database per run, so that two runs on one server (two engineers, two CI jobs) do not collide
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite registers many members from one address (127.0.0.1); the limit's own tests set it low.
REGISTRATIONS_PER_CLIENT_PER_HOUR = 1_000_000
# A notice stream ends quickly (the stream tests and the API fuzzing read it to its end).
NOTICE_STREAM_SECONDS = 0.3
NOTICE_POLL_SECONDS = 0.1
