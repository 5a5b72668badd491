"""Login rate limit: at most ``LOGIN_FAILURES_PER_MINUTE`` (5) failed logins per username and client address per
minute, counted in the Django cache (Redis when ``LIANDONG_REDIS_URL`` is set, so every web process shares it).

    4 failures for (alice, 10.0.0.7) in this minute   the 5th try is checked as usual
    5 failures                                          every further try, right password or not, is a 429
                                                        until the minute that began at the first failure ends
A successful login clears the count.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .errors import ApiCode, ApiError

WINDOW_SECONDS = 60


def _key(username: str, request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    return "login-failures:" + hashlib.sha256(f"{username.casefold()}|{address}".encode()).hexdigest()


def check_login_allowed(username: str, request: HttpRequest) -> None:
    """Raise a 429 naming the username while its failures this minute reached the limit."""
    limit = int(getattr(settings, "LOGIN_FAILURES_PER_MINUTE", 5))
    key = _key(username, request)
    failures = cache.get(key, 0)
    if failures >= limit:
        ends = cache.get(key + ":ends", time.time() + WINDOW_SECONDS)
        raise ApiError(429, ApiCode.RATE_LIMITED, "username", username,
                       retry_after=max(math.ceil(ends - time.time()), 1))


def record_login_failure(username: str, request: HttpRequest) -> None:
    key = _key(username, request)
    if cache.add(key, 0, WINDOW_SECONDS):
        cache.set(key + ":ends", time.time() + WINDOW_SECONDS, WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: this failure starts a new window
        cache.set(key, 1, WINDOW_SECONDS)
        cache.set(key + ":ends", time.time() + WINDOW_SECONDS, WINDOW_SECONDS)


def clear_login_failures(username: str, request: HttpRequest) -> None:
    key = _key(username, request)
    cache.delete_many([key, key + ":ends"])
