"""Every POST takes an Idempotency-Key: the same key and body give the first response again (and no second event),
the same key with another body is a 409; and every error is one JSON shape naming the field and the value."""

from __future__ import annotations

import pytest
from api_client import PASSWORD, Caller, Register, buy

from liandong.service.store.models import LoggedEvent
from liandong.web.api.models import IdempotentRequest, PendingOrder

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def earner(api_shop: None, register_member: Register) -> Caller:
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    return alice


def test_the_same_key_and_body_return_the_first_response_and_log_one_event(earner: Caller) -> None:
    first = earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "30.00"}, key="wd-1")
    again = earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "30.00"}, key="wd-1")
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert LoggedEvent.objects.filter(verb="withdraw").count() == 1
    assert earner.get("/api/me/balances").body["withdrawing"] == "30.00"


def test_a_refusal_is_replayed_too(earner: Caller) -> None:
    first = earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "5.00"}, key="wd-low")
    again = earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "5.00"}, key="wd-low")
    assert first.status == again.status == 422 and again.body == first.body
    assert LoggedEvent.objects.filter(verb="withdraw").count() == 1


def test_the_same_key_with_another_body_is_a_409(earner: Caller) -> None:
    earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "30.00"}, key="wd-2")
    clash = earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "31.00"}, key="wd-2")
    assert clash.status == 409
    assert (clash.body["error"]["code"], clash.body["error"]["field"], clash.body["error"]["value"]) == (
        "idempotency_conflict", "Idempotency-Key", "wd-2")
    other_path = earner.post("/api/orders", {"amount": "30.00"}, key="wd-2")
    assert other_path.status == 409
    assert LoggedEvent.objects.filter(verb="withdraw").count() == 1


def test_an_order_is_created_once_per_key(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    one = alice.post("/api/orders", {"sku": "TEA"}, key="order-1")
    two = alice.post("/api/orders", {"sku": "TEA"}, key="order-1")
    assert one.body["order"] == two.body["order"] and PendingOrder.objects.count() == 1


@pytest.mark.parametrize("key", [None, "", "x" * 129, "has space", "键"])
def test_a_post_without_a_usable_key_is_a_400(earner: Caller, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {earner.token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    response = earner.client.post("/api/withdrawals", data='{"amount": "30.00"}', content_type="application/json",
                                  headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("idempotency_key_missing", "Idempotency-Key")
    assert not LoggedEvent.objects.filter(verb="withdraw").exists()


def test_keys_belong_to_their_caller(earner: Caller, register_member: Register) -> None:
    carol = register_member("carol")
    mine = earner.post("/api/orders", {"sku": "TEA"}, key="same-key")
    hers = carol.post("/api/orders", {"sku": "TEA"}, key="same-key")
    assert mine.status == hers.status == 201
    assert (mine.body["member"], hers.body["member"]) == (earner.member, carol.member)


def test_an_answer_that_says_retry_is_not_stored(earner: Caller, anonymous_caller: Caller) -> None:
    anonymous_caller.token = "ld_not-a-token"
    assert anonymous_caller.post("/api/withdrawals", {"payee": "alipay:1", "amount": "30.00"}, key="k").status == 401
    assert not IdempotentRequest.objects.filter(key="k").exists()
    anonymous_caller.token = earner.token
    assert anonymous_caller.post("/api/withdrawals", {"payee": "alipay:1", "amount": "30.00"}, key="k").status == 201


# --- the error shape ----------------------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_a_400(earner: Caller) -> None:
    r = earner.request("POST", "/api/withdrawals", raw=b"{amount: 30", key="bad-json")
    assert r.status == 400
    assert set(r.body["error"]) == {"code", "field", "value", "message", "message_zh"}
    assert r.body["error"]["code"] == "invalid"


def test_an_unknown_field_is_a_400_naming_it(earner: Caller) -> None:
    r = earner.post("/api/withdrawals", {"payee": "alipay:13800000000", "amount": "30.00", "member": "someone-else"})
    assert r.status == 400
    assert (r.body["error"]["field"], r.body["error"]["value"]) == ("member", "someone-else")
    assert not LoggedEvent.objects.filter(verb="withdraw").exists()


def test_an_unknown_api_path_is_json(anonymous_caller: Caller, api_shop: None) -> None:
    r = anonymous_caller.get("/api/orders/a/b/c")
    assert r.status == 404
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == (
        "not_found", "path", "/api/orders/a/b/c")


def test_a_token_answer_is_never_stored_so_no_token_sits_in_the_database(earner: Caller,
                                                                          anonymous_caller: Caller) -> None:
    body = {"username": "alice", "password": PASSWORD}
    first = anonymous_caller.post("/api/auth/token", body, key="login-1")
    second = anonymous_caller.post("/api/auth/token", body, key="login-1")
    assert first.status == second.status == 201
    assert first.body["token"] != second.body["token"]  # logged in twice: two tokens, neither kept in plain text
    assert not IdempotentRequest.objects.filter(key="login-1").exists()
    missing = anonymous_caller.client.post("/api/auth/token", data=body, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "idempotency_key_missing"
