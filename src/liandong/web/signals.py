"""The signals the fraud holds match members on (docs/fraud-holds.md), collected by the web layer: the engine never
sees a request. When the shop runs the ``fraud_holds`` plan, a join, an order and a withdrawal request each log an
``observe_signals`` event for the member right before their own event: the first-party device cookie
(``DEVICE_COOKIE``, a random id ``DeviceCookie`` gives every browser on its first page), the connection's address
(``ratelimit.client_address``: a client-sent X-Forwarded-For is never believed), the user agent, and for a
withdrawal the payee account hashed (``payout_hash``: an HMAC under the secret key, so the log never holds an
account in clear). Contacts (email, phone) go in normalised (``normalise_email``, ``normalise_phone``) where a form
asks for them (the registration: both optional, accounts/contacts.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ..engine.plans.fraud_holds import PLAN, normalise_email, normalise_phone
from ..service.log import append_event
from .api import reads
from .api.idempotency import request_event_key
from .api.ratelimit import client_address

DEVICE_COOKIE = "ld_device"
DEVICE_ID = re.compile(r"[0-9a-f]{32}", re.ASCII)
DEVICE_MAX_AGE = 2 * 365 * 24 * 3600
#: Paths that never set the device cookie (machine clients, assets, the back office).
NOT_PAGES = ("/api/", "/static/", "/office/", "/admin/")


def holds_run() -> bool:
    setup = reads.shop_setup()
    return setup is not None and PLAN in (setup.plans or {})


def device_of(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    return value if DEVICE_ID.fullmatch(value) else None


def payout_hash(payee: str) -> str:
    """``"Alipay: 138 0000 0000"`` and ``"alipay:13800000000"`` hash alike: lower case, spaces dropped."""
    normal = re.sub(r"\s+", "", payee).lower()
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"liandong payout|" + normal.encode(), hashlib.sha256).hexdigest()[:32]


def signals_of(request: HttpRequest, member: str, *, payee: str | None = None, email: str | None = None,
               phone: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"member": member, "device": device_of(request), "address": client_address(request),
                              "user_agent": str(request.META.get("HTTP_USER_AGENT") or "")[:500] or None,
                              "payout": payout_hash(payee) if payee else None,
                              "email": normalise_email(email) if email else None,
                              "phone": normalise_phone(phone) if phone else None}
    return {k: v for k, v in fields.items() if v is not None}


def log_signals(request: HttpRequest, member: str, **given: str | None) -> None:
    """Log what this request shows of ``member`` (nothing when the shop runs no fraud holds), keyed on the request's
    own key so a retried request logs it once."""
    if not holds_run():
        return
    key, request_hash = request_event_key(request, f"observe_signals:{uuid.uuid4().hex}")
    append_event("observe_signals", signals_of(request, member, **given), key=f"{key}:signals",
                 request_hash=request_hash, actor="system")


class DeviceCookie:
    """Middleware: gives a browser without one a random first-party device id on a members' page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (device_of(request) is None and not request.path.startswith(NOT_PAGES)
                and response.get("Content-Type", "").startswith("text/html")):
            response.set_cookie(DEVICE_COOKIE, secrets.token_hex(16), max_age=DEVICE_MAX_AGE, httponly=True,
                                samesite="Lax", secure=request.is_secure())
        return response
