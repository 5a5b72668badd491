"""The API tests' client: a caller (anonymous or with a bearer token) that sends the ``Idempotency-Key`` every
POST needs, the signed payment webhook, a shop set up in the database, operators, and a clock the tests move.
The fixtures built on these are in ``api_fixtures.py`` (a test module loads them with
``pytest_plugins = ["api_fixtures"]``)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Permission, User
from django.test import Client

from liandong.service.store.models import ShopSetup
from liandong.service.worker import drain
from liandong.web.accounts.models import OPERATOR_PERMISSIONS
from liandong.web.api.auth import issue_token
from liandong.web.api.payments import SIGNATURE_HEADER, sign

PASSWORD = "correct-horse-9"
#: ``register_member(username, inviter=None) -> Caller``
Register = Callable[..., "Caller"]
PAYMENT_SECRET = "test-payment-secret"
START = dt.datetime(2026, 1, 1, 8, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PRODUCTS: list[dict[str, Any]] = [{"sku": "GIFT", "price": "699.00", "gift_pack": True},
                                  {"sku": "TEA", "price": "59.00"}]


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Caller:
    """One API client: anonymous, or authenticated with a bearer token."""

    client: Client
    token: str | None = None
    username: str | None = None
    member: str | None = None
    invite_code: str | None = None
    user: User | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def _headers(self, key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, body: Any = None, *, key: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> Response:
        if method == "POST" and key is None:
            key = uuid.uuid4().hex
        data: Any = raw if raw is not None else (json.dumps(body) if body is not None else "")
        send = getattr(self.client, method.lower())
        if method in ("GET", "DELETE") and body is None and raw is None:
            r = send(path, headers=self._headers(key, headers))
        else:
            r = send(path, data=data, content_type="application/json", headers=self._headers(key, headers))
        content_type = r.headers.get("Content-Type", "")
        content = b"".join(r.streaming_content) if r.streaming else r.content  # an event stream: read to its end
        parsed = json.loads(content) if content and content_type.startswith("application/json") else (
            content.decode())
        return Response(r.status_code, parsed, dict(r.headers))

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)


def signed_webhook(caller: Caller, body: dict[str, Any], *, secret: str = PAYMENT_SECRET,
                   stamp: int | None = None) -> Response:
    raw = json.dumps(body).encode()
    signature = sign(raw, secret, int(time.time()) if stamp is None else stamp)
    return caller.request("POST", "/api/payments/webhook", raw=raw, headers={SIGNATURE_HEADER: signature})


def make_shop(plans: dict[str, Any] | None = None, start: dt.datetime = START,
              products: list[dict[str, Any]] | None = None) -> None:
    """A shop running ``plans`` (chain21 by default) with ``products`` logged at its start, applied."""
    from liandong.service.log import append_event

    ShopSetup.objects.update_or_create(id=1, defaults={"plans": plans if plans is not None else {"chain21": {}},
                                                       "timezone": "Asia/Shanghai", "start": start,
                                                       "auto_close_days": False})
    for product in PRODUCTS if products is None else products:
        append_event("product", {**product, "at": start.isoformat()}, key=f"test:product:{product['sku']}",
                     request_hash=product["sku"], actor="system")
    drain()


def make_operator(username: str = "operator", permissions: tuple[str, ...] | None = None) -> Caller:
    """A staff user holding ``permissions`` (all operator permissions by default), with a token."""
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    names = [code for code, _ in OPERATOR_PERMISSIONS] if permissions is None else list(permissions)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts", codename__in=names))
    token, _expires = issue_token(user)
    return Caller(Client(), token=token, username=username, user=user)


def buy(caller: Caller, sku: str = "GIFT", payment_id: str | None = None) -> str:
    """Create an order and pay it through the signed webhook; the order id."""
    order = caller.post("/api/orders", {"sku": sku})
    assert order.status == 201, order.body
    paid = signed_webhook(caller, {"payment_id": payment_id or f"pay-{order.body['order']}",
                                   "order": order.body["order"], "amount": order.body["amount"]})
    assert paid.status == 200, paid.body
    return str(order.body["order"])


class FakeClock:
    """``django.utils.timezone.now`` under the test's control: the instant events are logged at."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> dt.datetime:
        self.now = self.now + dt.timedelta(seconds=seconds)
        return self.now


def register(username: str, inviter: Caller | None = None, **extra: Any) -> Caller:
    """Register a member through the API, as the register page does (``inviter``: whose invite code to use), and
    give it a token."""
    caller = Caller(Client())
    body: dict[str, Any] = {"username": username, "password": PASSWORD, **extra}
    if inviter is not None:
        body["invite_code"] = inviter.invite_code
    r = caller.post("/api/auth/register", body)
    assert r.status == 201, r.body
    t = caller.post("/api/auth/token", {"username": username, "password": PASSWORD})
    assert t.status == 201, t.body
    caller.token, caller.username = t.body["token"], username
    caller.member, caller.invite_code = r.body["member"], r.body["invite_code"]
    caller.user = User.objects.get(username=username)
    return caller
