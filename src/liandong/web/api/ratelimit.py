"""Limits on what anyone can try without an account: logins, registrations and invite codes, per client address.

**Logins** (every form that calls Django's ``authenticate``: the admin's, ``/api/auth/login``, ``/api/auth/token``,
and any later page login) go through django-axes, whose database handler keeps the failures in the database, so
every web process counts the same failures (no Redis needed). ``LoginLimitBackend`` is the first authentication
backend and refuses, before any password is checked, while either limit is reached:

    LOGIN_FAILURES_PER_USERNAME (5)   failures for one username from one address   (axes' own lockout)
    LOGIN_FAILURES_PER_CLIENT (20)    failures from one address, whatever the usernames (spraying)

each counted while the last failure is less than ``LOGIN_LOCKOUT_MINUTES`` (15) old. The 5th wrong password
answers 401; every try after it, right password or not, is a 429 with ``Retry-After``. A successful login clears
that username's failures from that address. A page login under a lockout gets ``lockout_response`` (a 429).

**Registrations** and **invite codes** are counted per address in fixed windows of ``window`` seconds, in the
Django cache (Redis with ``LIANDONG_REDIS_URL``, else the database cache: shared by every process):
``REGISTRATIONS_PER_CLIENT_PER_HOUR`` (20) register requests, ``INVITE_FAILURES_PER_CLIENT_PER_HOUR`` (10) invite
codes that were not valid; past either, a 429.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import time
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_noop

from ...engine.i18n import translate
from .errors import ApiCode, ApiError, error_response

#: Set on a request whose login ``LoginLimitBackend`` refused without checking the password.
REFUSED_FLAG = "liandong_login_refused"


#: The address every client without one shares (a Unix socket, a test client): still a valid address to store.
NO_ADDRESS = "0.0.0.0"


def client_address(request: HttpRequest) -> str:
    """Who the client is, for every limit: the connection's address. A client-sent X-Forwarded-For is never
    trusted (anyone could name a new address per try); behind a reverse proxy all clients share its address. A
    connection without an IP address (a Unix socket) counts as ``NO_ADDRESS``: the login records store addresses
    as such (PostgreSQL's ``inet``)."""
    address = str(request.META.get("REMOTE_ADDR") or "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return NO_ADDRESS


def _lockout_seconds() -> int:
    return int(getattr(settings, "LOGIN_LOCKOUT_MINUTES", 15)) * 60


def _retry_after(last_failure: dt.datetime | None) -> int:
    if last_failure is None:
        return _lockout_seconds()
    left = last_failure.timestamp() + _lockout_seconds() - time.time()
    return max(math.ceil(left), 1)


#: What the login limits count, in the 429's message (``ApiCode.RATE_LIMITED``'s ``{what}``, translated with it).
FAILED_LOGINS = gettext_noop("failed logins")


def client_login_failures(request: HttpRequest) -> tuple[int, dt.datetime | None]:
    """This address's login failures still counting (any usernames) and the time of the last one."""
    since = timezone.now() - dt.timedelta(seconds=_lockout_seconds())
    found = AccessAttempt.objects.filter(ip_address=client_address(request), attempt_time__gte=since).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time"))
    return int(found["failures"] or 0), found["last"]


def client_refusal(request: HttpRequest) -> ApiError | None:
    """The 429 while this address's failures (any usernames) reached ``LOGIN_FAILURES_PER_CLIENT``."""
    failures, last = client_login_failures(request)
    if failures < int(getattr(settings, "LOGIN_FAILURES_PER_CLIENT", 20)):
        return None
    return ApiError(429, ApiCode.RATE_LIMITED, "client", client_address(request), retry_after=_retry_after(last),
                    what=FAILED_LOGINS)


def login_refusal(request: HttpRequest, username: str) -> ApiError | None:
    """The 429 a login for ``username`` from this client gets now, or None while it may try."""
    refusal = client_refusal(request)
    if refusal is not None or AxesProxyHandler.is_allowed(request, {"username": username}):
        return refusal
    last = (AccessAttempt.objects.filter(ip_address=client_address(request), username=username)
            .aggregate(last=Max("attempt_time"))["last"])
    return ApiError(429, ApiCode.RATE_LIMITED, "username", username, retry_after=_retry_after(last),
                    what=FAILED_LOGINS)


class LoginLimitBackend(AxesStandaloneBackend):  # type: ignore[misc]  # (axes has no type hints)
    """First in ``AUTHENTICATION_BACKENDS``: every ``authenticate(request, username=…, password=…)`` is refused
    while axes locks the username out from this address, or the address reached its own limit (axes records the
    refused try as a failure and marks the request locked out; ``AxesMiddleware`` answers ``lockout_response``)."""

    def authenticate(self, request: HttpRequest, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        try:
            super().authenticate(request, username, password, **kwargs)  # raises while axes locks the username
            if request is not None and client_refusal(request) is not None:
                request.axes_locked_out = True  # type: ignore[attr-defined]
                raise PermissionDenied("too many failed logins from this client")
        except PermissionDenied:
            setattr(request, REFUSED_FLAG, True)  # the password was not checked: the view says 429, not 401
            raise


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: under /api/ the login view already answered (a 401 for the failure that reached
    the limit, a 429 after it), as the back office's login page does (its 429 page); any other login form gets a
    429 naming the wait."""
    username = str((credentials or {}).get("username") or "")
    if request.path.startswith("/api/"):
        if original_response is not None and original_response.status_code in (401, 429):
            return original_response
        return error_response(login_refusal(request, username)
                                  or ApiError(429, ApiCode.RATE_LIMITED, "username", username,
                                          retry_after=_lockout_seconds(), what=FAILED_LOGINS))
    if request.path.startswith("/office/") and original_response is not None and (
            original_response.status_code == 429):
        return original_response  # the back office's login page already says it, in its own layout
    refusal = login_refusal(request, username)
    wait = refusal.params["retry_after"] if refusal is not None else _lockout_seconds()
    text = gettext_noop("Too many failed logins: try again in {wait} seconds.")
    response = HttpResponse("".join(translate(text, lang).format(wait=wait) + "\n" for lang in ("en", "zh-hans")),
                            status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


# --- registrations and invite codes: fixed windows in the cache ------------------------------------------------


def _window_key(kind: str, request: HttpRequest, window: int) -> tuple[str, int]:
    start = int(time.time() // window) * window
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    return f"limit:{kind}:{address}:{start}", start + window


def _count(kind: str, request: HttpRequest, window: int) -> int:
    key, _ends = _window_key(kind, request, window)
    return int(cache.get(key, 0))


def _add(kind: str, request: HttpRequest, window: int) -> int:
    key, _ends = _window_key(kind, request, window)
    if cache.add(key, 1, window + 5):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 5)
        return 1


#: What each window counts, in the 429's message.
_COUNTED = {"register": gettext_noop("registrations"), "invite": gettext_noop("invalid invite codes")}


def _refusal(kind: str, request: HttpRequest, window: int) -> ApiError:
    _key, ends = _window_key(kind, request, window)
    return ApiError(429, ApiCode.RATE_LIMITED, "client", client_address(request),
                    retry_after=max(math.ceil(ends - time.time()), 1), what=_COUNTED[kind])


HOUR = 3600


def count_registration(request: HttpRequest) -> None:
    """Count one register request from this client; a 429 past ``REGISTRATIONS_PER_CLIENT_PER_HOUR``."""
    limit = int(getattr(settings, "REGISTRATIONS_PER_CLIENT_PER_HOUR", 20))
    if _count("register", request, HOUR) >= limit:
        raise _refusal("register", request, HOUR)
    _add("register", request, HOUR)


def check_invite_lookups(request: HttpRequest) -> None:
    """A 429 while this client's invalid invite codes this hour reached ``INVITE_FAILURES_PER_CLIENT_PER_HOUR``."""
    if _count("invite", request, HOUR) >= int(getattr(settings, "INVITE_FAILURES_PER_CLIENT_PER_HOUR", 10)):
        raise _refusal("invite", request, HOUR)


def record_invalid_invite(request: HttpRequest) -> None:
    _add("invite", request, HOUR)
