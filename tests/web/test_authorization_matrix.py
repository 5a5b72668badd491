"""Every endpoint of the OpenAPI document, tried as anonymous, as another member, as the owner, as a staff user
without permissions (a clerk), and as an operator holding every permission: the status each gets.

Read a row as: ``GET /api/orders/{order}`` is 401 anonymous, 404 for another member (somebody else's order does
not exist for them), 200 for the owner, 200 for any staff user. Rows run in order, each role in the order of
``ROLES`` with a fresh client, so the operator (last) is the one whose action takes effect.

The matrix runs twice: over real HTTP against a live server (``requests``: what clients meet, CSRF included,
since Django's test client skips the CSRF check), and in-process through Django's test client.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from api_client import PASSWORD, Caller, Register, buy, make_operator
from django.test import Client

from liandong.engine.registry import REGISTRY
from liandong.service.store.models import LoggedEvent
from liandong.web.api.auth import issue_token
from liandong.web.api.reads import today as shop_today

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "other", "owner", "clerk", "operator")


@dataclass(frozen=True)
class Row:
    method: str
    operation: str  # the path as the OpenAPI document names it
    statuses: str  # one per role, in ROLES order
    path: str | None = None  # the path tried, when it differs from ``operation`` by more than its parameters
    body: Any = None  # a dict, or "per-role" for bodies that name the role
    fresh_token: bool = False  # the call revokes the token it uses: give it its own


ALL_STAFF_READ = "401 403 403 200 200"
OPERATOR_ONLY = "401 403 403 403 200"
MEMBER_ONLY = "401 200 200 403 403"
OWNER_OR_STAFF = "401 404 200 200 200"

ROWS = [
    Row("POST", "/api/auth/register", "201 201 201 201 201", body="per-role"),
    Row("POST", "/api/auth/login", "200 200 200 200 200", body="per-role"),
    Row("POST", "/api/auth/logout", "401 204 204 204 204"),
    Row("POST", "/api/auth/token", "201 201 201 201 201", body="per-role"),
    Row("DELETE", "/api/auth/token", "401 204 204 204 204", fresh_token=True),
    Row("GET", "/api/me", MEMBER_ONLY),
    Row("GET", "/api/me/balances", MEMBER_ONLY),
    Row("GET", "/api/me/rank", MEMBER_ONLY),
    Row("GET", "/api/me/team", MEMBER_ONLY),
    Row("GET", "/api/me/statement", MEMBER_ONLY),
    Row("GET", "/api/me/orders", MEMBER_ONLY),
    Row("GET", "/api/me/withdrawals", MEMBER_ONLY),
    Row("GET", "/api/me/notices", MEMBER_ONLY),
    Row("GET", "/api/me/notices/unread", MEMBER_ONLY),
    Row("POST", "/api/me/notices/read", MEMBER_ONLY, body={"up_to": 1}),
    Row("GET", "/api/me/notices/stream", MEMBER_ONLY),
    Row("GET", "/api/products", "200 200 200 200 200"),
    Row("GET", "/api/products/{sku}", "200 200 200 200 200", path="/api/products/GIFT"),
    Row("GET", "/api/operator/products", ALL_STAFF_READ),
    Row("POST", "/api/operator/products", "401 403 403 403 201", body="per-role"),
    Row("PUT", "/api/operator/products/{sku}", "401 403 403 403 200", path="/api/operator/products/TEA",
        body={"price": "59.00"}),
    Row("DELETE", "/api/operator/products/{sku}", "401 403 403 403 200", path="/api/operator/products/SPARE"),
    Row("POST", "/api/orders", "401 201 201 403 403", body={"sku": "TEA"}),
    Row("GET", "/api/orders/{order}", OWNER_OR_STAFF),
    Row("GET", "/api/operator/orders", ALL_STAFF_READ),
    Row("POST", "/api/payments/webhook", "401 401 401 401 401",
        body={"payment_id": "p", "order": "o", "amount": "1.00"}),
    Row("POST", "/api/payments/demo/{order}", OWNER_OR_STAFF),
    # the providers' notifications: no provider is on in the tests, so 404 whoever calls (the signature, not the
    # caller, is what counts: tests/web/test_payments_providers.py)
    Row("POST", "/api/payments/wechatpay/notify", "404 404 404 404 404"),
    Row("POST", "/api/payments/alipay/notify", "404 404 404 404 404"),
    Row("POST", "/api/withdrawals", "401 422 201 403 403", body={"amount": "10.00", "payee": "alipay:1"}),
    Row("GET", "/api/withdrawals/{withdrawal}", OWNER_OR_STAFF),
    Row("GET", "/api/operator/withdrawals", ALL_STAFF_READ),
    Row("POST", "/api/operator/withdrawals/{withdrawal}/approve", OPERATOR_ONLY),
    Row("POST", "/api/operator/withdrawals/{withdrawal}/reject", OPERATOR_ONLY,
        path="/api/operator/withdrawals/{second_withdrawal}/reject", body={"reason": "account name mismatch"}),
    Row("POST", "/api/operator/withdrawals/{withdrawal}/mark-paid", OPERATOR_ONLY, body={"reference": "bank-1"}),
    Row("GET", "/api/operator/withdrawals/export.csv", OPERATOR_ONLY),
    Row("GET", "/api/operator/plans", ALL_STAFF_READ),
    Row("GET", "/api/operator/plans/{plan}", ALL_STAFF_READ),
    Row("GET", "/api/operator/plans/{plan}/versions", ALL_STAFF_READ),
    Row("POST", "/api/operator/plans/{plan}", OPERATOR_ONLY, body={"config": {"team_reward": "200.00"}}),
    Row("POST", "/api/operator/close-day", OPERATOR_ONLY, body={"day": "{today}"}),
    Row("GET", "/api/events/{position}", OWNER_OR_STAFF),
    Row("GET", "/api/operator/events", ALL_STAFF_READ),
    Row("GET", "/api/operator/summary", ALL_STAFF_READ),
    Row("GET", "/api/operator/members/{member}", ALL_STAFF_READ),
    Row("GET", "/api/operator/audit", ALL_STAFF_READ),
    Row("POST", "/api/operator/orders/{order}/refund", OPERATOR_ONLY),
    Row("GET", "/api/me/plans/{kind}", MEMBER_ONLY, path="/api/me/plans/chain21"),
    Row("GET", "/api/plans/{kind}", "200 200 200 200 200", path="/api/plans/chain21"),
    Row("GET", "/api/operator/plans/{kind}/state", ALL_STAFF_READ, path="/api/operator/plans/chain21/state"),
    Row("GET", "/api/campaigns", "200 200 200 200 200"),
    Row("GET", "/api/campaigns/{campaign}", "404 404 404 404 404", path="/api/campaigns/none-such"),
    Row("GET", "/api/campaigns/{campaign}/groups/{group}/stream", "404 404 404 404 404",
        path="/api/campaigns/none-such/groups/none-such/stream"),
    Row("GET", "/api/campaigns/{campaign}/stream", "404 404 404 404 404", path="/api/campaigns/none-such/stream"),
    Row("GET", "/api/operator/campaigns/{campaign}", "401 403 403 404 404", path="/api/operator/campaigns/none-such"),
    # Every module's verbs, one route per sender (``web/api/events.py``), with an empty body: who gets past the door.
    # "ok" is the member's or operator's own answer (the applied event, a 400 naming a missing field, or the
    # engine's 422), anything but 401, 403 or a 5xx.
    *[Row("POST", f"/api/actions/{verb.name}", "401 ok ok 403 403", body={})
      for _owner, verb in REGISTRY.verbs() if "member" in verb.senders],
    *[Row("POST", f"/api/operator/actions/{verb.name}", "401 403 403 403 ok", body={})
      for _owner, verb in REGISTRY.verbs() if "operator" in verb.senders],
]


@pytest.fixture
def world(api_shop: None, register_member: Register) -> dict[str, Any]:
    """Owner alice (a paid gift pack, 100.00 from her referral's, two withdrawals), bob another member, a clerk
    (staff, no permissions) and an operator (every permission)."""
    owner = register_member("alice")
    order = buy(owner)
    friend = register_member("fred", inviter=owner)
    buy(friend)
    other = register_member("bob")
    operator = make_operator("operator")
    operator.post("/api/operator/products", {"sku": "SPARE", "price": "1.00"})
    first = owner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "10.00"}).body["withdrawal"]
    second = owner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "10.00"}).body["withdrawal"]
    position = LoggedEvent.objects.get(verb="withdraw", payload__withdrawal=first).position
    callers = {"anonymous": Caller(Client()), "other": other, "owner": owner, "clerk": make_operator("clerk", ()),
               "operator": operator}
    today = shop_today().isoformat()
    values = {"order": order, "withdrawal": first, "second_withdrawal": second, "position": str(position),
              "member": owner.member, "plan": "chain21", "owner": owner.member, "other": other.member,
              "friend": friend.member, "today": today}
    return {"callers": callers, "values": values}


def _body(row: Row, role: str, values: dict[str, str]) -> Any:
    if row.body == "per-role":
        if row.operation == "/api/auth/register":
            return {"username": f"new-{role}", "password": PASSWORD}
        if row.operation == "/api/operator/products":
            return {"sku": f"NEW-{role.upper()}", "price": "1.00"}
        username = "alice" if role in ("anonymous", "owner") else {"other": "bob"}.get(role, role)
        return {"username": username, "password": PASSWORD}
    return _fill(row.body, values)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _request(row: Row, role: str, world: dict[str, Any]) -> tuple[str | None, str, Any]:
    """The token (a fresh one when the row revokes it), the path and the body ``role`` sends for ``row``."""
    base: Caller = world["callers"][role]
    token = base.token
    if row.fresh_token and base.user is not None:
        token, _expires = issue_token(base.user)
    values = world["values"]
    return token, (row.path or row.operation).format(**values), _body(row, role, values)


def _call_in_process(row: Row, role: str, world: dict[str, Any]) -> int:
    token, path, body = _request(row, role, world)
    caller = Caller(Client(), token=token)  # a fresh client: no session left over from a login row
    return caller.request(row.method, path, body).status


def _call_over_http(base_url: str) -> Callable[[Row, str, dict[str, Any]], int]:
    def call(row: Row, role: str, world: dict[str, Any]) -> int:
        token, path, body = _request(row, role, world)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if row.method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        with requests.Session() as session:  # a fresh client: no cookies
            r = session.request(row.method, base_url + path, json=body, headers=headers, timeout=30)
        return r.status_code

    return call


def _wrong(world: dict[str, Any], call: Callable[[Row, str, dict[str, Any]], int]) -> list[str]:
    wrong = []
    for row in ROWS:
        expected = row.statuses.split()
        for role, want in zip(ROLES, expected, strict=True):
            got = call(row, role, world)
            if (want == "ok" and got in (401, 403)) or got >= 500 or (want != "ok" and str(got) != want):
                wrong.append(f"{row.method} {row.operation} as {role}: expected {want}, got {got}")
    return wrong


def test_every_endpoint_for_every_role_over_http(live_server: Any, world: dict[str, Any]) -> None:
    assert _wrong(world, _call_over_http(live_server.url)) == []


def test_every_endpoint_for_every_role_in_process(world: dict[str, Any]) -> None:
    assert _wrong(world, _call_in_process) == []


def test_an_anonymous_post_without_a_session_is_a_401_not_a_csrf_403(live_server: Any, api_shop: None) -> None:
    r = requests.post(live_server.url + "/api/orders", json={"sku": "TEA"}, timeout=30,
                      headers={"Idempotency-Key": "k1"})
    assert r.status_code == 401
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("unauthorized", "Authorization")


def test_the_matrix_covers_every_operation_of_the_openapi_document(api_shop: None) -> None:
    document = Client().get("/api/openapi.json").json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {(row.method, row.operation) for row in ROWS}
